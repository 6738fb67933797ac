#include "cluster/membership.hpp"

#include <algorithm>
#include <set>
#include <tuple>

namespace plexus::cluster {

const char* to_string(member_event::kind k) {
  switch (k) {
    case member_event::kind::up:
      return "up";
    case member_event::kind::suspect:
      return "suspect";
    case member_event::kind::down:
      return "down";
    case member_event::kind::draining:
      return "draining";
  }
  return "unknown";
}

membership::membership(member_info self, membership_timing timing, std::vector<std::string> seeds,
                       time_point now)
  : self_(std::move(self)), timing_(timing), seeds_(std::move(seeds)), last_tick_(now) {
  self_.state = member_state::up;
}

std::vector<member_info> membership::table() const {
  std::vector<member_info> out;
  out.reserve(others_.size() + 1);
  out.push_back(self_);
  for (const auto& kv : others_) {
    out.push_back(kv.second.info);
  }
  return out;
}

const member_info* membership::find(const std::string& name) const {
  if (name == self_.name) {
    return &self_;
  }
  auto i = others_.find(name);
  return i == others_.end() ? nullptr : &i->second.info;
}

void membership::mark_down(entry& e, time_point now, std::vector<member_event>& out,
                           bool restarted) {
  if (e.info.state == member_state::down) {
    return;
  }
  e.info.state = member_state::down;
  e.down_since = now;
  out.push_back({member_event::kind::down, e.info, restarted});
}

std::vector<member_event> membership::tick(time_point now) {
  std::vector<member_event> out;
  // A tick this late means *we* did not run (SIGSTOP, swapping, a stalled VM), not that
  // everyone else went quiet: give them the benefit of the doubt instead of declaring the
  // whole cluster dead and taking over every room.
  if (overdue(now)) {
    for (auto& kv : others_) {
      kv.second.last_progress = now;
    }
    paused_at_ = now;
  }
  last_tick_ = now;
  ++round_;
  ++self_.heartbeat;
  for (auto& kv : others_) {
    auto& e = kv.second;
    if (e.info.state == member_state::down) {
      continue;
    }
    auto silent = now - e.last_progress;
    if (silent > timing_.dead_timeout) {
      mark_down(e, now, out, false);
    } else if (silent > timing_.suspect_timeout && e.info.state == member_state::up) {
      e.info.state = member_state::suspect;
      out.push_back({member_event::kind::suspect, e.info, false});
    }
  }
  return out;
}

merge_result membership::merge(const std::vector<member_info>& rows, const std::string& from,
                               time_point now) {
  merge_result res;
  auto& out = res.events;
  // Whether the reporter's side is the one that kept running: it saw more members alive
  // than we do (a partition's larger side), or we were paused ourselves.
  auto reporter_up = std::count_if(
    rows.begin(), rows.end(), [](const member_info& r) { return r.state != member_state::down; });
  auto mine_up = 1 + std::count_if(others_.begin(), others_.end(), [](const auto& kv) {
                   return kv.second.info.state != member_state::down;
                 });
  bool we_were_away = overdue(now)
                      || (paused_at_ != time_point{} && now - paused_at_ < timing_.dead_timeout * 2)
                      || mine_up < reporter_up || (mine_up == reporter_up && self_.name > from);
  for (const auto& r : rows) {
    if (r.name.empty()) {
      continue;
    }
    if (r.name == self_.name) {
      if (r.state == member_state::down && r.incarnation == self_.incarnation
          && r.version >= self_.version && self_.state != member_state::down) {
        // Refute: a higher version overrides the verdict everywhere it spreads. Only the
        // side that was away drops its rooms; the side that kept serving keeps them, so a
        // healed partition does not restart every room on both sides.
        self_.version = r.version + 1;
        ++self_.heartbeat;
        res.reset = we_were_away;
        res.refuted = true;
      }
      continue;
    }
    auto it = others_.find(r.name);
    if (it == others_.end()) {
      entry e{r, now, now};
      if (r.state == member_state::down) {
        e.info.state = member_state::down; // never seen alive by us: no event
      } else {
        e.info.state = member_state::up;
        out.push_back({member_event::kind::up, e.info, false});
      }
      others_.emplace(r.name, std::move(e));
      continue;
    }
    auto& l = it->second;
    auto remote_key = std::make_tuple(r.incarnation, r.version);
    auto local_key = std::make_tuple(l.info.incarnation, l.info.version);
    if (remote_key < local_key) {
      continue; // older news
    }
    auto prev = l.info.state;
    bool prev_draining = l.info.draining;
    if (r.incarnation > l.info.incarnation) {
      // A new process under the same name: whatever the old one held is gone.
      mark_down(l, now, out, true);
      l.info = r;
      l.last_progress = now;
      if (r.state == member_state::down) {
        l.info.state = member_state::down;
        l.down_since = now;
      } else {
        l.info.state = member_state::up;
        out.push_back({member_event::kind::up, l.info, false});
      }
      continue;
    }
    if (remote_key > local_key) {
      // The node refuted a verdict (or announced that it leaves).
      l.info = r;
      l.last_progress = now;
      if (r.state == member_state::down) {
        l.info.state = prev;
        mark_down(l, now, out, false);
      } else {
        l.info.state = member_state::up;
        if (prev != member_state::up) {
          out.push_back({member_event::kind::up, l.info, false});
        } else if (prev_draining != r.draining) {
          out.push_back({member_event::kind::draining, l.info, false});
        }
      }
      continue;
    }
    if (prev == member_state::down) {
      continue; // sticky for this (incarnation, version)
    }
    if (r.state == member_state::down) {
      // Someone declared it down. Believe it unless we heard from the member ourselves
      // lately: the reporter may be the one cut off (the far side of a partition). If it
      // really is gone, our own timeout follows; if the verdict was wrong, the member
      // refutes it when it hears it.
      if (l.info.state == member_state::suspect
          || now - l.last_progress > timing_.suspect_timeout) {
        mark_down(l, now, out, false);
      }
      continue;
    }
    if (r.heartbeat > l.info.heartbeat) {
      l.info = r;
      l.info.state = member_state::up;
      l.last_progress = now;
      if (prev == member_state::suspect) {
        out.push_back({member_event::kind::up, l.info, false});
      }
      if (prev_draining != r.draining) {
        out.push_back({member_event::kind::draining, l.info, false});
      }
    }
  }
  return res;
}

bool membership::overdue(time_point now) const {
  // A tick this late means *we* did not run (SIGSTOP, swapping, a stalled VM).
  return now - last_tick_ > std::max(timing_.gossip_interval * 3, timing_.dead_timeout / 2);
}

void membership::set_load(uint64_t connections, bool full) {
  self_.connections = connections;
  self_.full = full;
}

void membership::set_ws_url(std::string url) {
  self_.ws_url = std::move(url);
  ++self_.heartbeat;
}

void membership::set_draining(bool on) {
  if (self_.draining != on) {
    self_.draining = on;
    ++self_.heartbeat; // carries the news with the next gossip
  }
}

void membership::leave() {
  self_.state = member_state::down;
  ++self_.version;
}

std::vector<std::string> membership::gossip_targets(time_point now) {
  std::set<std::string> out;
  std::set<std::string> met;
  bool probe_down = round_ % 4 == 0;
  for (const auto& kv : others_) {
    const auto& e = kv.second;
    if (e.info.state != member_state::down) {
      out.insert(e.info.control);
      met.insert(e.info.control);
    } else if (probe_down && now - e.down_since < timing_.forget_after) {
      out.insert(e.info.control);
    }
  }
  for (const auto& s : seeds_) {
    if (s != self_.control && met.count(s) == 0) {
      out.insert(s);
    }
  }
  out.erase(self_.control);
  out.erase("");
  return {out.begin(), out.end()};
}

std::vector<std::string> membership::helpers(const std::string& except) const {
  std::vector<std::string> out;
  for (const auto& kv : others_) {
    if (kv.second.info.state == member_state::up && kv.first != except) {
      out.push_back(kv.first);
    }
  }
  return out;
}

actors::placement membership::view(uint64_t version, uint32_t replicas) const {
  actors::placement p;
  p.self = self_.name;
  p.version = version;
  p.replicas = replicas;
  auto add = [&](const member_info& m) {
    if (m.state == member_state::down) {
      return;
    }
    p.alive.push_back(m.name);
    if (!m.draining) {
      p.owners.push_back(m.name);
    }
  };
  add(self_);
  for (const auto& kv : others_) {
    add(kv.second.info);
  }
  std::sort(p.alive.begin(), p.alive.end());
  std::sort(p.owners.begin(), p.owners.end());
  return p;
}

void membership::count(int64_t& up, int64_t& suspect, int64_t& down) const {
  up = self_.state == member_state::down ? 0 : 1;
  suspect = 0;
  down = self_.state == member_state::down ? 1 : 0;
  for (const auto& kv : others_) {
    switch (kv.second.info.state) {
      case member_state::up:
        ++up;
        break;
      case member_state::suspect:
        ++suspect;
        break;
      case member_state::down:
        ++down;
        break;
    }
  }
}

} // namespace plexus::cluster
