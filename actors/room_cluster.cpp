// The cluster side of a room: roles, claims, hand-offs and followers. Publishing and
// replication are in room_replication.cpp. Every function runs inside the room actor.
#include "actors/room_cluster.hpp"

#include <algorithm>
#include <random>

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/room.hpp"
#include "actors/room_cluster_detail.hpp"

namespace plexus::actors {

using namespace detail;

namespace {

std::set<std::string> claim_candidates(const room_state& st) {
  const auto& view = *st.link.view;
  auto order = view.order(st.cfg.channel);
  std::set<std::string> out;
  // The backups, plus one: after a single join or loss the old owner ranks there.
  for (std::size_t i = 1; i < order.size() && i <= view.replicas + 1; ++i) {
    out.insert(order[i]);
  }
  for (const auto& n : view.alive) {
    if (!view.is_owner_eligible(n)) {
      out.insert(n); // draining: it owned rooms until a moment ago
    }
  }
  if (!st.link.owner.empty() && view.is_alive(st.link.owner)) {
    out.insert(st.link.owner);
  }
  out.erase(view.self);
  return out;
}

void send_claim(room_self self, const std::string& to, uint64_t generation);

void finish_claim(room_self self) {
  auto& st = self->state;
  auto& l = st.link;
  auto& c = l.claim;
  ++c.generation; // late answers are ignored from now on
  const room_snapshot* best = nullptr;
  std::string best_from;
  for (const auto& f : c.found) {
    if (best == nullptr || better(f.second, *best)) {
      best = &f.second;
      best_from = f.first;
    }
  }
  auto old_epoch = st.epoch;
  auto old_offset = st.offset;
  bool kept = best != nullptr && best->durable;
  if (kept) {
    adopt(st, *best, true);
    l.weight = best->weight;
  } else {
    // Nobody holds a copy every acknowledged publish is in: a new epoch, so clients with
    // an old `since` resync instead of silently missing messages. Offsets keep counting
    // up, so live subscribers never see them go back.
    if (best != nullptr || st.offset > 0) {
      room_snapshot none;
      none.offset = best != nullptr ? best->offset : st.offset;
      adopt(st, none, false);
    }
    if (best != nullptr) {
      l.pseq = std::max(l.pseq, best->pseq);
    }
    l.weight = static_cast<uint32_t>(l.view->alive.size());
  }
  // Members on nodes that are gone leave; this node's own come from its tracker's record.
  member_list keep;
  for (const auto& m : best != nullptr ? best->members : st.member_snapshot()) {
    if (m.node != node_name(st) && l.view->is_alive(m.node)) {
      keep.push_back(m);
    }
  }
  for (const auto& kv : l.local_members) {
    keep.push_back(kv.second);
  }
  replace_members(st, keep);
  bool moved = best != nullptr && best_from != node_name(st);
  c.found.clear();
  c.waiting.clear();
  l.owning = owner_phase::owning;
  l.durable = true;
  l.assigned = st.offset;
  l.stash.reset();
  st.cfg.ctx.stats->cluster_rooms_owned.fetch_add(1, std::memory_order_relaxed);
  if (moved) {
    st.cfg.ctx.stats->cluster_room_moves_total.fetch_add(1, std::memory_order_relaxed);
  }
  if (moved || old_epoch != st.epoch || old_offset != 0) {
    spdlog::info("[{}] room {}: owner now, epoch {} ({}), offset {}{}", node_name(st),
                 st.cfg.channel, st.epoch, kept ? "kept" : "new: no complete copy found", st.offset,
                 moved ? ", state from " + best_from : std::string{});
  }
  update_backups(self);
  flush_waiting(st);
  release_forwards(self);
}

void on_claim_answer(room_self self, uint64_t generation, const std::string& from,
                     std::optional<room_wire> reply) {
  auto& st = self->state;
  auto& c = st.link.claim;
  if (generation != c.generation || st.link.owning != owner_phase::claiming) {
    return;
  }
  if (reply && reply->status == room_status::wait) {
    // The candidate still owns the room in its view; ask again once views converged. One
    // retry timer for all of them, so answers never multiply requests.
    c.retry.insert(from);
    if (!c.retry_scheduled) {
      c.retry_scheduled = true;
      self->delayed_send(self, std::chrono::milliseconds(st.link.view->retry_ms * 2),
                         claim_tick_atom::value, generation);
    }
    return;
  }
  if (reply && reply->status == room_status::ok && reply->snap) {
    c.found.emplace_back(from, std::move(*reply->snap));
  }
  c.waiting.erase(from);
  if (c.waiting.empty()) {
    finish_claim(self);
  }
}

void send_claim(room_self self, const std::string& to, uint64_t generation) {
  auto& st = self->state;
  auto timeout = std::chrono::milliseconds(st.link.view->claim_timeout_ms);
  self->request(st.link.router, timeout, peer_req_atom::value, to, make_wire(room_op::claim, st))
    .then(
      [self, generation, to](room_wire& reply) {
        on_claim_answer(self, generation, to, std::move(reply));
      },
      [self, generation, to](caf::error&) { on_claim_answer(self, generation, to, std::nullopt); });
}

void start_claim(room_self self) {
  auto& st = self->state;
  auto& l = st.link;
  auto& c = l.claim;
  l.owning = owner_phase::claiming;
  l.owner = node_name(st);
  ++c.generation;
  c.found.clear();
  c.retry.clear();
  c.retry_scheduled = false;
  c.waiting = claim_candidates(st);
  c.deadline = st.cfg.ctx.now() + std::chrono::milliseconds(l.view->claim_timeout_ms);
  // What this node holds counts too: a synced backup's copy is complete.
  if (l.is_backup && l.backup_synced) {
    auto mine = snapshot_of(st, false);
    mine.durable = true;
    c.found.emplace_back(node_name(st), std::move(mine));
  } else if (l.attach == attach_phase::attached) {
    auto mine = snapshot_of(st, false);
    mine.durable = false;
    c.found.emplace_back(node_name(st), std::move(mine));
  }
  if (l.stash) {
    c.found.emplace_back("(handoff)", std::move(*l.stash));
    l.stash.reset();
  }
  l.is_backup = false;
  l.backup_synced = false;
  l.attach = attach_phase::detached;
  if (c.waiting.empty()) {
    finish_claim(self);
    return;
  }
  for (const auto& n : c.waiting) {
    send_claim(self, n, c.generation);
  }
  self->delayed_send(self, std::chrono::milliseconds(l.view->claim_timeout_ms),
                     claim_tick_atom::value, c.generation);
}

void start_attach(room_self self) {
  auto& st = self->state;
  auto& l = st.link;
  if (l.owning != owner_phase::none || l.owner.empty()) {
    return;
  }
  l.attach = attach_phase::attaching;
  auto generation = ++l.attach_generation;
  auto w = make_wire(room_op::attach, st);
  for (const auto& kv : l.local_members) {
    w.members.push_back(kv.second);
  }
  w.epoch = st.epoch;
  w.offset = st.offset;
  auto owner = l.owner;
  self->request(l.router, request_timeout(st), peer_req_atom::value, owner, std::move(w))
    .then(
      [self, generation, owner](room_wire& reply) {
        auto& st = self->state;
        auto& l = st.link;
        if (generation != l.attach_generation || l.attach != attach_phase::attaching) {
          return;
        }
        if (reply.status != room_status::ok || !reply.snap) {
          // Its view does not make it the owner (yet): try again shortly.
          self->delayed_send(self, std::chrono::milliseconds(l.view->retry_ms),
                             attach_tick_atom::value, generation);
          return;
        }
        adopt(st, *reply.snap, true);
        replace_members(st, reply.snap->members);
        l.pseq = reply.snap->pseq;
        l.attach = attach_phase::attached;
        flush_waiting(st);
        cluster_interest_changed(self);
      },
      [self, generation](caf::error&) {
        auto& l = self->state.link;
        if (generation == l.attach_generation && l.attach == attach_phase::attaching) {
          self->delayed_send(self, std::chrono::milliseconds(l.view->retry_ms * 4),
                             attach_tick_atom::value, generation);
        }
      });
}

void detach(room_self self) {
  auto& st = self->state;
  auto& l = st.link;
  if (l.attach == attach_phase::detached) {
    return;
  }
  if (!l.owner.empty()) {
    send_to(st, l.owner, make_wire(room_op::detach, st));
  }
  l.attach = attach_phase::detached;
  ++l.attach_generation;
}

/// Gives up ownership: the state goes to `to` (the view's new owner).
void hand_off(room_self self, const std::string& to) {
  auto& st = self->state;
  auto& l = st.link;
  auto snap = snapshot_of(st, true);
  snap.durable = true;
  snap.from_owner = true;
  auto w = make_wire(room_op::handoff, st);
  w.snap = std::move(snap);
  st.cfg.ctx.stats->cluster_room_moves_total.fetch_add(1, std::memory_order_relaxed);
  st.cfg.ctx.stats->cluster_rooms_owned.fetch_sub(1, std::memory_order_relaxed);
  st.cfg.ctx.stats->cluster_handoffs_pending.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("[{}] room {}: handing off to {} (epoch {}, offset {})", node_name(st),
               st.cfg.channel, to, st.epoch, w.snap->offset);
  auto done = [self](bool ok, const std::string& to) {
    auto& st = self->state;
    st.cfg.ctx.stats->cluster_handoffs_pending.fetch_sub(1, std::memory_order_relaxed);
    if (!ok) {
      spdlog::warn("[{}] room {}: hand-off to {} not confirmed", node_name(st), st.cfg.channel, to);
    }
    // Publishes that were waiting for backups are in the hand-off: answer them now.
    release_all(self);
  };
  self->request(l.router, request_timeout(st), peer_req_atom::value, to, std::move(w))
    .then([done, to](room_wire&) { done(true, to); }, [done, to](caf::error&) { done(false, to); });
  l.owning = owner_phase::none;
  l.durable = false;
  l.followers.clear();
  l.synced.clear();
  l.backups.clear();
}

} // namespace

// -- role changes ----------------------------------------------------------------------

void evaluate(room_self self) {
  auto& st = self->state;
  auto& l = st.link;
  const auto& view = *l.view;
  auto order = view.order(st.cfg.channel);
  const auto& me = view.self;
  auto owner = order.empty() ? me : order.front();
  if (owner == me) {
    if (l.owning == owner_phase::owning) {
      owner_view_changed(self);
    } else if (l.owning == owner_phase::claiming) {
      auto& c = l.claim;
      for (auto i = c.waiting.begin(); i != c.waiting.end();) {
        i = view.is_alive(*i) ? std::next(i) : c.waiting.erase(i);
      }
      if (c.waiting.empty()) {
        finish_claim(self);
      }
    } else {
      start_claim(self);
    }
    return;
  }
  if (l.owning == owner_phase::owning) {
    hand_off(self, owner);
  } else if (l.owning == owner_phase::claiming) {
    ++l.claim.generation;
    l.owning = owner_phase::none;
  }
  auto previous = l.owner;
  l.owner = owner;
  l.is_backup
    = std::find(order.begin() + 1,
                order.begin() + std::min<std::size_t>(order.size(), 1 + view.replicas), me)
      != order.begin() + std::min<std::size_t>(order.size(), 1 + view.replicas);
  if (!l.is_backup && l.backup_synced) {
    l.backup_synced = false;
    l.durable = false;
  }
  bool wanted = st.has_local_interest() || !l.waiting.empty();
  if ((l.attach != attach_phase::detached && previous != owner)
      || (l.attach == attach_phase::detached && wanted)) {
    start_attach(self);
  }
  if (!l.forwards.empty()) {
    cluster_forward_tick(self);
  }
}

void cluster_start(room_self self) {
  auto& st = self->state;
  if (!st.link.view) {
    st.link.router = nullptr; // no view yet: behave as a single node
    return;
  }
  evaluate(self);
}

bool cluster_must_wait(room_self self) {
  auto& l = self->state.link;
  if (l.owning != owner_phase::none) {
    return l.owning == owner_phase::claiming;
  }
  if (l.attach == attach_phase::attached || (l.is_backup && l.backup_synced)) {
    return false;
  }
  if (l.attach == attach_phase::detached) {
    start_attach(self);
  }
  return true;
}

void cluster_defer(room_state& st, std::function<void()> f) {
  st.link.waiting.emplace_back(st.cfg.ctx.now(), std::move(f));
}

void cluster_on_view(room_self self, placement_ptr view) {
  auto& st = self->state;
  if (!view || (st.link.view && view->version < st.link.view->version)) {
    return;
  }
  st.link.view = std::move(view);
  evaluate(self);
  st.maybe_idle();
}

void cluster_on_reset(room_self self) {
  auto& st = self->state;
  auto& l = st.link;
  // Other members took this node for dead: whatever it owned has a new owner, which
  // may have moved on. Forget roles (not the local subscribers) and ask again.
  if (l.owning == owner_phase::owning) {
    st.cfg.ctx.stats->cluster_rooms_owned.fetch_sub(1, std::memory_order_relaxed);
    release_all(self);
  }
  ++l.claim.generation;
  l.owning = owner_phase::none;
  l.durable = false;
  l.weight = 0;
  l.followers.clear();
  l.synced.clear();
  l.backups.clear();
  l.is_backup = false;
  l.backup_synced = false;
  l.attach = attach_phase::detached;
  ++l.attach_generation;
  l.owner.clear();
  evaluate(self);
  st.maybe_idle();
}

void cluster_interest_changed(room_self self) {
  auto& st = self->state;
  auto& l = st.link;
  if (l.owning == owner_phase::none && l.attach != attach_phase::detached
      && !st.has_local_interest() && l.waiting.empty()) {
    // Detach now rather than when the room stops: the owner's stream would keep the
    // registry routing to us and the room would never go idle.
    detach(self);
  }
  st.maybe_idle();
}

void cluster_claim_tick(room_self self, uint64_t generation) {
  auto& st = self->state;
  auto& c = st.link.claim;
  if (generation != c.generation || st.link.owning != owner_phase::claiming) {
    return;
  }
  if (st.cfg.ctx.now() >= c.deadline) {
    spdlog::info("[{}] room {}: claim timed out waiting for {} candidate(s)", node_name(st),
                 st.cfg.channel, c.waiting.size());
    finish_claim(self);
    return;
  }
  c.retry_scheduled = false;
  auto again = std::move(c.retry);
  c.retry.clear();
  for (const auto& n : again) {
    if (c.waiting.count(n) > 0) {
      send_claim(self, n, generation);
    }
  }
}

void cluster_attach_tick(room_self self, uint64_t generation) {
  auto& l = self->state.link;
  if (generation == l.attach_generation && l.attach == attach_phase::attaching) {
    start_attach(self);
  }
}

void restart_attach(room_self self) {
  auto& l = self->state.link;
  if (l.owning == owner_phase::none && !l.owner.empty()) {
    start_attach(self);
  }
}

bool cluster_keeps_alive(const room_state& st) {
  const auto& l = st.link;
  if (!l.clustered()) {
    return false;
  }
  return l.owning == owner_phase::claiming || !l.followers.empty() || !l.inflight.empty()
         || !l.forwards.empty() || l.backup_synced || !l.waiting.empty();
}

void cluster_on_stop(room_self self) {
  auto& st = self->state;
  auto& l = st.link;
  if (!l.clustered()) {
    return;
  }
  detach(self);
  if (l.owning == owner_phase::owning) {
    st.cfg.ctx.stats->cluster_rooms_owned.fetch_sub(1, std::memory_order_relaxed);
    for (const auto& b : l.synced) {
      send_to(st, b, make_wire(room_op::drop, st));
    }
  }
}

} // namespace plexus::actors
