// Helpers the room's cluster code shares (room_cluster.cpp, room_replication.cpp,
// room_remote.cpp): snapshots, adopting state, member mirrors. Room actor only.
#include "actors/room_cluster_detail.hpp"

#include <algorithm>
#include <random>
#include <tuple>

#include <caf/event_based_actor.hpp>

#include "actors/room.hpp"
#include "actors/server_frames.hpp"

namespace plexus::actors {

namespace detail {

const std::string& node_name(const room_state& st) {
  return st.cfg.ctx.settings->node_name;
}

std::chrono::milliseconds request_timeout(const room_state& st) {
  return std::chrono::milliseconds(st.cfg.ctx.settings->request_timeout_ms);
}

room_wire make_wire(room_op op, const room_state& st) {
  room_wire w;
  w.op = op;
  w.channel = st.cfg.channel;
  return w;
}

void send_to(room_state& st, const std::string& node, room_wire w) {
  st.self->send(st.link.router, peer_atom::value, node, std::move(w));
}

void send_to(room_state& st, std::vector<std::string> nodes, room_wire w) {
  if (!nodes.empty()) {
    st.self->send(st.link.router, peer_atom::value, std::move(nodes), std::move(w));
  }
}

uint64_t random_pid() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  uint64_t x = 0;
  while (x == 0) {
    x = gen();
  }
  return x;
}

void remember_pid(room_link& l, uint64_t pid, uint64_t offset) {
  // Enough to recognise every forward retried within a failover, bounded per room.
  constexpr std::size_t max_pids = 4096;
  if (pid == 0 || !l.pids.emplace(pid, offset).second) {
    return;
  }
  l.pid_order.push_back(pid);
  if (l.pid_order.size() > max_pids) {
    l.pids.erase(l.pid_order.front());
    l.pid_order.pop_front();
  }
}

room_snapshot snapshot_of(const room_state& st, bool with_inflight) {
  room_snapshot s;
  s.epoch = st.epoch;
  s.offset = st.offset;
  s.pseq = st.link.pseq;
  s.weight = st.link.weight;
  s.durable = st.link.durable;
  s.from_owner = st.link.owning == owner_phase::owning;
  auto now = st.cfg.ctx.now();
  st.hist.for_each_after(0, [&](const history_entry& e) {
    stream_entry x;
    x.offset = e.offset;
    x.age_ms = static_cast<uint64_t>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(now - e.at).count()));
    x.data = e.data;
    x.from = e.from;
    s.ring.push_back(std::move(x));
  });
  if (with_inflight) {
    for (const auto& p : st.link.inflight) {
      s.ring.push_back(p.entry);
      s.offset = p.entry.offset;
    }
  }
  s.members = st.member_snapshot();
  s.pids.reserve(st.link.pid_order.size());
  for (auto pid : st.link.pid_order) {
    s.pids.emplace_back(pid, st.link.pids.at(pid));
  }
  return s;
}

bool better(const room_snapshot& a, const room_snapshot& b) {
  auto key = [](const room_snapshot& s) {
    return std::make_tuple(s.durable, s.weight, s.from_owner, s.offset);
  };
  return key(a) > key(b);
}

void replace_members(room_state& st, const member_list& next) {
  std::unordered_map<std::string, member> fresh;
  member_list joins;
  member_list updates;
  member_list leaves;
  for (const auto& m : next) {
    auto i = st.members.find(m.session);
    if (i == st.members.end()) {
      joins.push_back(m);
    } else if (!(i->second == m)) {
      updates.push_back(m);
    }
    fresh.emplace(m.session, m);
  }
  for (const auto& kv : st.members) {
    if (fresh.count(kv.first) == 0) {
      leaves.push_back(kv.second);
    }
  }
  st.members = std::move(fresh);
  if (!joins.empty() || !leaves.empty() || !updates.empty()) {
    st.announce(joins, leaves, updates);
  }
}

bool apply_change(room_state& st, member_change change, const member& who) {
  switch (change) {
    case member_change::join:
    case member_change::update: {
      auto i = st.members.find(who.session);
      if (i == st.members.end()) {
        if (change == member_change::update) {
          return false;
        }
        st.members.emplace(who.session, who);
        st.announce({who}, {}, {});
        return true;
      }
      if (i->second == who) {
        return false;
      }
      i->second = who;
      st.announce({}, {}, {who});
      return true;
    }
    case member_change::leave: {
      auto i = st.members.find(who.session);
      if (i == st.members.end()) {
        return false;
      }
      member gone = std::move(i->second);
      st.members.erase(i);
      st.announce({}, {gone}, {});
      return true;
    }
  }
  return false;
}

void adopt(room_state& st, const room_snapshot& s, bool keep_epoch) {
  auto now = st.cfg.ctx.now();
  auto at = [&](const stream_entry& e) { return now - std::chrono::milliseconds(e.age_ms); };
  if (keep_epoch && s.epoch == st.epoch) {
    // The same stream: deliver what this copy lacks, in order.
    for (const auto& e : s.ring) {
      if (e.offset == st.offset + 1) {
        st.commit(e, at(e));
      }
    }
    if (s.offset > st.offset) {
      // Not in the ring (no history): the subscribers see the offsets jump.
      st.cfg.ctx.stats->cluster_stream_gaps_total.fetch_add(1, std::memory_order_relaxed);
      st.offset = s.offset;
    }
  } else {
    bool had_subscribers = !st.subs.empty();
    bool had_stream = st.offset > 0;
    st.hist = history{st.ns->history_size, std::chrono::seconds{st.ns->history_ttl_s}};
    if (keep_epoch) {
      st.epoch = s.epoch;
      for (const auto& e : s.ring) {
        if (st.ns->history_size > 0) {
          st.hist.append({e.offset, at(e), e.data, e.from,
                          make_message(st.cfg.channel, e.data, e.offset, e.from, st.enc)});
        }
      }
      st.offset = s.offset;
    } else {
      st.epoch = random_epoch();
      st.offset = std::max(st.offset, s.offset);
    }
    if (had_subscribers || had_stream) {
      // A stream someone may have seen restarted (not a fresh room learning its state).
      st.cfg.ctx.stats->cluster_epoch_changes_total.fetch_add(1, std::memory_order_relaxed);
    }
    if (had_subscribers) {
      st.announce_resync();
    }
  }
  for (const auto& p : s.pids) {
    remember_pid(st.link, p.first, p.second);
  }
  // A hand-off's ring ends with the publishes still waiting for backups; their ids are only
  // there. Without them a forward of one retried to us would be stored a second time.
  for (const auto& e : s.ring) {
    remember_pid(st.link, e.pid, e.offset);
  }
  st.link.pseq = std::max(st.link.pseq, s.pseq);
}

void flush_waiting(room_state& st) {
  auto deadline = st.cfg.ctx.now() - request_timeout(st);
  auto work = std::move(st.link.waiting);
  st.link.waiting.clear();
  for (auto& w : work) {
    if (w.first >= deadline) { // older ones: their requester gave up already
      w.second();
    }
  }
}

} // namespace detail

} // namespace plexus::actors
