// The data side of a clustered room: publishes (accepted by the owner, replicated to
// backups before they are released, forwarded by everyone else), presence changes, and
// the messages other nodes' rooms send. Every function runs inside the room actor.
#include <algorithm>

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/room.hpp"
#include "actors/room_cluster_detail.hpp"

namespace plexus::actors {

using namespace detail;

namespace detail {

// -- owner: publishes -------------------------------------------------------------------

std::vector<std::string> presence_targets(const room_state& st) {
  std::set<std::string> all(st.link.followers.begin(), st.link.followers.end());
  all.insert(st.link.synced.begin(), st.link.synced.end());
  return {all.begin(), all.end()};
}

/// Fans a publish out locally and to followers, then answers its publisher. Called in
/// offset order.
void release(room_self self, inflight_publish& p) {
  auto& st = self->state;
  auto& l = st.link;
  auto now = st.cfg.ctx.now();
  st.commit(p.entry, now);
  remember_pid(l, p.entry.pid, p.entry.offset);
  std::vector<std::string> targets;
  for (const auto& f : l.followers) {
    if (l.synced.count(f) == 0) { // backups had it from replication already
      targets.push_back(f);
    }
  }
  if (!targets.empty()) {
    auto w = make_wire(room_op::stream, st);
    w.epoch = st.epoch;
    w.entry = p.entry;
    send_to(st, std::move(targets), std::move(w));
  }
  auto elapsed = std::chrono::duration<double>(clock::now() - p.accepted).count();
  st.cfg.ctx.stats->publish_latency.observe(elapsed);
  if (p.done) {
    p.done(p.entry.offset);
  }
}

void release_ready(room_self self) {
  auto& l = self->state.link;
  while (!l.inflight.empty() && l.inflight.front().waiting.empty()) {
    auto p = std::move(l.inflight.front());
    l.inflight.pop_front();
    release(self, p);
  }
  self->state.maybe_idle();
}

void backup_failed(room_self self, const std::string& node);

void start_sync(room_self self, const std::string& node) {
  auto& st = self->state;
  auto snap = snapshot_of(st, true);
  snap.durable = true;
  snap.from_owner = true;
  auto w = make_wire(room_op::sync, st);
  w.snap = std::move(snap);
  // Counted as synced at once: replicates sent after the sync reach the backup after it
  // (one ordered connection), so they may be waited for right away.
  st.link.synced.insert(node);
  self->request(st.link.router, request_timeout(st), peer_req_atom::value, node, std::move(w))
    .then(
      [self, node](room_wire& reply) {
        if (reply.status != room_status::ok) {
          backup_failed(self, node);
        }
      },
      [self, node](caf::error&) { backup_failed(self, node); });
}

void backup_failed(room_self self, const std::string& node) {
  auto& st = self->state;
  auto& l = st.link;
  if (l.synced.erase(node) == 0) {
    return;
  }
  for (auto& p : l.inflight) {
    p.waiting.erase(node);
  }
  release_ready(self);
  bool still_backup = std::find(l.backups.begin(), l.backups.end(), node) != l.backups.end();
  if (l.owning == owner_phase::owning && still_backup && l.view->is_alive(node)) {
    spdlog::warn("[{}] room {}: backup {} lost sync, sending a snapshot shortly", node_name(st),
                 st.cfg.channel, node);
    // Not at once: an unreachable backup would fail again at once, in a loop, until it is
    // declared down. The next tick resyncs every backup that is not synced.
    if (!l.forward_tick_scheduled) {
      l.forward_tick_scheduled = true;
      self->delayed_send(self, std::chrono::milliseconds(l.view->retry_ms * 4),
                         forward_tick_atom::value);
    }
  }
}

void replicate(room_self self, const inflight_publish& p) {
  auto& st = self->state;
  auto w = make_wire(room_op::replicate, st);
  w.epoch = st.epoch;
  w.entry = p.entry;
  auto offset = p.entry.offset;
  for (const auto& b : p.waiting) {
    self
      ->request(st.link.router, std::chrono::milliseconds(st.link.view->ack_timeout_ms),
                peer_req_atom::value, b, w)
      .then(
        [self, b, offset](room_wire& reply) {
          if (reply.status != room_status::ok) {
            return backup_failed(self, b);
          }
          for (auto& q : self->state.link.inflight) {
            if (q.entry.offset == offset) {
              q.waiting.erase(b);
              break;
            }
          }
          release_ready(self);
        },
        [self, b](caf::error&) { backup_failed(self, b); });
  }
}

/// Orders one publish: assigns its offset and releases it once every backup has it.
void accept(room_self self, payload data, std::string from, uint64_t pid,
            std::function<void(uint64_t)> done, clock::time_point accepted) {
  auto& l = self->state.link;
  if (pid != 0) {
    if (auto i = l.pids.find(pid); i != l.pids.end()) {
      return done(i->second); // a forward retried after a failover: already stored
    }
    for (auto& p : l.inflight) {
      if (p.entry.pid == pid) {
        // Still waiting for backups: answer both when it is released.
        auto first = std::move(p.done);
        p.done = [first, done](uint64_t offset) mutable {
          if (first) {
            first(offset);
          }
          done(offset);
        };
        return;
      }
    }
  }
  inflight_publish p;
  p.entry.offset = ++l.assigned;
  p.entry.data = std::move(data);
  p.entry.from = std::move(from);
  p.entry.pid = pid;
  p.done = std::move(done);
  p.accepted = accepted;
  p.waiting = l.synced;
  if (p.waiting.empty() && l.inflight.empty()) {
    return release(self, p);
  }
  replicate(self, p);
  l.inflight.push_back(std::move(p));
  release_ready(self);
}

// -- owner: presence --------------------------------------------------------------------

void owner_change(room_self self, member_change change, const member& who) {
  auto& st = self->state;
  if (!apply_change(st, change, who)) {
    return;
  }
  auto w = make_wire(room_op::presence, st);
  w.pseq = ++st.link.pseq;
  w.change = change;
  w.who = who;
  send_to(st, presence_targets(st), std::move(w));
}

/// `node`'s members are exactly `members` (an attaching follower's local sessions).
void owner_replace_node(room_self self, const std::string& node, const member_list& members) {
  auto& st = self->state;
  std::set<std::string> keep;
  for (const auto& m : members) {
    keep.insert(m.session);
  }
  member_list gone;
  for (const auto& kv : st.members) {
    if (kv.second.node == node && keep.count(kv.first) == 0) {
      gone.push_back(kv.second);
    }
  }
  for (const auto& m : gone) {
    owner_change(self, member_change::leave, m);
  }
  for (const auto& m : members) {
    owner_change(self, member_change::join, m);
  }
}

// -- non-owner --------------------------------------------------------------------------

void send_forward(room_self self, uint64_t pid) {
  auto& st = self->state;
  auto& l = st.link;
  auto i = l.forwards.find(pid);
  if (i == l.forwards.end() || i->second.in_flight || l.owner.empty()) {
    return;
  }
  auto& f = i->second;
  auto w = make_wire(room_op::publish, st);
  w.entry.data = f.data;
  w.entry.from = f.from;
  w.entry.pid = pid;
  f.in_flight = true;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(f.deadline - st.cfg.ctx.now());
  auto retry = [self, pid] {
    auto& l = self->state.link;
    if (auto i = l.forwards.find(pid); i != l.forwards.end()) {
      i->second.in_flight = false;
    }
    if (!l.forward_tick_scheduled) {
      l.forward_tick_scheduled = true;
      self->delayed_send(self, std::chrono::milliseconds(l.view->retry_ms),
                         forward_tick_atom::value);
    }
  };
  self
    ->request(l.router, std::max(left, std::chrono::milliseconds(1)), peer_req_atom::value, l.owner,
              std::move(w))
    .then(
      [self, pid, retry](room_wire& reply) {
        auto& l = self->state.link;
        auto i = l.forwards.find(pid);
        if (i == l.forwards.end()) {
          return;
        }
        if (reply.status == room_status::ok) {
          i->second.rp.deliver(reply.offset);
        } else if (reply.status == room_status::refused) {
          i->second.rp.deliver(make_error(errc::permission_denied, reply.text));
        } else {
          return retry(); // not the owner (views converging): ask the new one
        }
        l.forwards.erase(i);
        self->state.maybe_idle();
      },
      [retry](caf::error&) { retry(); });
}

} // namespace detail

// -- owner, called from room_cluster.cpp ------------------------------------------------

void owner_view_changed(room_self self) {
  auto& st = self->state;
  auto& l = st.link;
  const auto& view = *l.view;
  for (auto i = l.followers.begin(); i != l.followers.end();) {
    i = view.is_alive(*i) ? std::next(i) : l.followers.erase(i);
  }
  member_list gone;
  for (const auto& kv : st.members) {
    if (kv.second.node != view.self && !view.is_alive(kv.second.node)) {
      gone.push_back(kv.second);
    }
  }
  for (const auto& m : gone) {
    owner_change(self, member_change::leave, m);
  }
  update_backups(self);
}

void update_backups(room_self self) {
  auto& st = self->state;
  auto& l = st.link;
  auto order = l.view->order(st.cfg.channel);
  std::vector<std::string> next;
  for (std::size_t i = 1; i < order.size() && i <= l.view->replicas; ++i) {
    next.push_back(order[i]);
  }
  for (const auto& b : l.backups) {
    if (std::find(next.begin(), next.end(), b) == next.end()) {
      if (l.synced.count(b) > 0 && l.view->is_alive(b)) {
        send_to(st, b, make_wire(room_op::drop, st));
      }
      l.synced.erase(b);
      for (auto& p : l.inflight) {
        p.waiting.erase(b);
      }
    }
  }
  l.backups = next;
  for (const auto& b : next) {
    if (l.synced.count(b) == 0) {
      start_sync(self, b);
    }
  }
  release_ready(self);
}

void release_all(room_self self) {
  auto& l = self->state.link;
  while (!l.inflight.empty()) {
    auto p = std::move(l.inflight.front());
    l.inflight.pop_front();
    release(self, p);
  }
}

void release_forwards(room_self self) {
  auto& l = self->state.link;
  if (l.owning != owner_phase::owning) {
    return;
  }
  // This node became the owner while it waited for the old one: order them here. The
  // publish id makes a forward the old owner (and so its backup, now us) stored count once.
  auto forwards = std::move(l.forwards);
  l.forwards.clear();
  for (auto& kv : forwards) {
    auto rp = kv.second.rp;
    accept(
      self, std::move(kv.second.data), std::move(kv.second.from), kv.first,
      [rp](uint64_t offset) mutable { rp.deliver(offset); }, clock::now());
  }
}

// -- entry points (room.cpp) ------------------------------------------------------------

caf::result<uint64_t> cluster_publish(room_self self, publish_args& args) {
  auto& st = self->state;
  auto& l = st.link;
  if (auto refused = st.check_publish(args)) {
    return std::move(*refused);
  }
  auto rp = self->make_response_promise<uint64_t>();
  auto done = [rp](uint64_t offset) mutable { rp.deliver(offset); };
  if (l.owning == owner_phase::owning) {
    accept(self, std::move(args.data), std::move(args.from), 0, done, args.accepted);
  } else if (l.owning == owner_phase::claiming) {
    cluster_defer(st, [self, args, done]() mutable {
      accept(self, std::move(args.data), std::move(args.from), 0, done, args.accepted);
    });
  } else {
    auto pid = random_pid();
    pending_forward f;
    f.data = std::move(args.data);
    f.from = std::move(args.from);
    f.rp = rp;
    f.deadline = st.cfg.ctx.now() + request_timeout(st) - std::chrono::milliseconds(100);
    l.forwards.emplace(pid, std::move(f));
    send_forward(self, pid);
  }
  return rp;
}

void cluster_forward_tick(room_self self) {
  auto& st = self->state;
  auto& l = st.link;
  l.forward_tick_scheduled = false;
  if (l.owning == owner_phase::owning) {
    for (const auto& b : l.backups) {
      if (l.synced.count(b) == 0 && l.view->is_alive(b)) {
        start_sync(self, b);
      }
    }
    return release_forwards(self);
  }
  auto now = st.cfg.ctx.now();
  std::vector<uint64_t> due;
  for (auto i = l.forwards.begin(); i != l.forwards.end();) {
    if (now >= i->second.deadline) {
      i->second.rp.deliver(make_error(errc::internal, "the channel's owner node is unavailable"));
      i = l.forwards.erase(i);
    } else {
      due.push_back(i->first);
      ++i;
    }
  }
  if (l.owning == owner_phase::none) {
    for (auto pid : due) {
      send_forward(self, pid);
    }
  }
  st.maybe_idle();
}

void cluster_member(room_self self, member_change change, const member& who) {
  auto& st = self->state;
  auto& l = st.link;
  if (change == member_change::leave) {
    l.local_members.erase(who.session);
  } else if (change == member_change::join || l.local_members.count(who.session) > 0) {
    l.local_members[who.session] = who;
  }
  if (l.owning == owner_phase::owning) {
    owner_change(self, change, who);
  } else if (l.owning == owner_phase::none) {
    if (l.attach == attach_phase::detached) {
      if (st.has_local_interest()) {
        evaluate(self); // attaches, carrying the local members
      }
    } else {
      auto w = make_wire(room_op::member, st);
      w.change = change;
      w.who = who;
      send_to(st, l.owner, std::move(w));
    }
  } // claiming: the claim's end merges local_members
  cluster_interest_changed(self);
}

} // namespace plexus::actors
