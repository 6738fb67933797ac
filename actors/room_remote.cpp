// Messages from other nodes' rooms of the same channel (the one-way ones and the
// requests), dispatched by op. Every function runs inside the room actor.
#include <algorithm>

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/room.hpp"
#include "actors/room_cluster_detail.hpp"

namespace plexus::actors {

using namespace detail;

namespace {

void on_stream(room_self self, const std::string& from, room_wire& w) {
  auto& st = self->state;
  auto& l = st.link;
  bool fed = l.attach == attach_phase::attached || (l.is_backup && l.backup_synced);
  if (l.owning != owner_phase::none || from != l.owner || !fed) {
    return; // from a former owner, or before our snapshot (which covers it)
  }
  if (w.epoch != st.epoch) {
    return restart_attach(self);
  }
  if (w.entry.offset <= st.offset) {
    return; // a duplicate (a snapshot overtook it)
  }
  if (w.entry.offset != st.offset + 1) {
    st.cfg.ctx.stats->cluster_stream_gaps_total.fetch_add(1, std::memory_order_relaxed);
    return restart_attach(self); // the snapshot fills the gap from the owner's history
  }
  st.commit(w.entry, st.cfg.ctx.now() - std::chrono::milliseconds(w.entry.age_ms));
  remember_pid(l, w.entry.pid, w.entry.offset);
}

void on_presence(room_self self, const std::string& from, room_wire& w) {
  auto& st = self->state;
  auto& l = st.link;
  if (l.owning != owner_phase::none || from != l.owner || w.pseq <= l.pseq) {
    return;
  }
  if (w.pseq != l.pseq + 1 && l.attach == attach_phase::attached) {
    restart_attach(self); // a change went missing: the snapshot carries the full list
  }
  l.pseq = w.pseq;
  apply_change(st, w.change, w.who);
}

room_wire reply(room_status s) {
  room_wire r;
  r.op = room_op::reply;
  r.status = s;
  return r;
}

room_wire not_owner(const room_state& st) {
  auto r = reply(room_status::not_owner);
  r.text = st.link.owner;
  return r;
}

room_wire on_replicate(room_self self, const std::string& from, room_wire& w) {
  auto& st = self->state;
  auto& l = st.link;
  if (!l.backup_synced || from != l.owner || w.epoch != st.epoch) {
    return reply(room_status::need_sync);
  }
  if (w.entry.offset <= st.offset) {
    return reply(room_status::ok);
  }
  if (w.entry.offset != st.offset + 1) {
    return reply(room_status::need_sync);
  }
  st.commit(w.entry, st.cfg.ctx.now());
  remember_pid(l, w.entry.pid, w.entry.offset);
  return reply(room_status::ok);
}

room_wire on_sync(room_self self, const std::string& from, room_wire& w) {
  auto& st = self->state;
  auto& l = st.link;
  if (l.owning != owner_phase::none || !w.snap) {
    return reply(room_status::refused); // our view makes us the owner: the sender is stale
  }
  adopt(st, *w.snap, true);
  replace_members(st, w.snap->members);
  l.pseq = w.snap->pseq;
  l.weight = w.snap->weight;
  l.owner = from;
  l.is_backup = true;
  l.backup_synced = true;
  l.durable = true;
  flush_waiting(st);
  return reply(room_status::ok);
}

room_wire on_handoff(room_self self, const std::string& from, room_wire& w) {
  auto& st = self->state;
  auto& l = st.link;
  if (!w.snap) {
    return reply(room_status::refused);
  }
  if (l.owning == owner_phase::claiming) {
    l.claim.found.emplace_back(from, std::move(*w.snap));
    l.claim.waiting.erase(from);
    if (l.claim.waiting.empty()) {
      evaluate(self); // finishes the claim
    }
  } else if (l.owning == owner_phase::owning) {
    auto mine = snapshot_of(st, false);
    if (w.snap->epoch == st.epoch) {
      adopt(st, *w.snap, true); // fills anything the claim missed
    } else if (better(*w.snap, mine)) {
      spdlog::warn("[{}] room {}: hand-off from {} wins over our epoch {} (partition heal)",
                   node_name(st), st.cfg.channel, from, st.epoch);
      adopt(st, *w.snap, true);
      replace_members(st, w.snap->members);
      l.weight = w.snap->weight;
      l.assigned = st.offset;
      auto push = make_wire(room_op::snapshot, st);
      push.snap = snapshot_of(st, false);
      send_to(st, std::vector<std::string>(l.followers.begin(), l.followers.end()), push);
      auto backups = l.synced;
      l.synced.clear();
      for (const auto& b : backups) {
        start_sync(self, b);
      }
    } else {
      spdlog::warn("[{}] room {}: hand-off from {} (epoch {}) loses to ours", node_name(st),
                   st.cfg.channel, from, w.snap->epoch);
    }
  } else if (!l.stash || better(*w.snap, *l.stash)) {
    l.stash = std::move(*w.snap); // our view has not made us the owner yet
  }
  return reply(room_status::ok);
}

room_wire on_attach(room_self self, const std::string& from, room_wire& w) {
  auto& st = self->state;
  auto& l = st.link;
  if (l.owning != owner_phase::owning) {
    return not_owner(st);
  }
  owner_replace_node(self, from, w.members);
  l.followers.insert(from);
  auto r = reply(room_status::ok);
  r.snap = snapshot_of(st, false);
  if (w.epoch == st.epoch) {
    auto& ring = r.snap->ring;
    ring.erase(std::remove_if(ring.begin(), ring.end(),
                              [&](const stream_entry& e) { return e.offset <= w.offset; }),
               ring.end());
  }
  return r;
}

room_wire on_claim(room_self self) {
  auto& st = self->state;
  auto& l = st.link;
  if (l.owning != owner_phase::none) {
    return reply(room_status::wait);
  }
  if ((l.is_backup && l.backup_synced) || l.attach == attach_phase::attached || l.durable) {
    auto r = reply(room_status::ok);
    r.snap = snapshot_of(st, false);
    r.snap->durable = l.backup_synced && l.durable;
    return r;
  }
  if (l.stash) {
    auto r = reply(room_status::ok);
    r.snap = std::move(*l.stash);
    l.stash.reset();
    return r;
  }
  return reply(room_status::none);
}

} // namespace

void cluster_remote(room_self self, const std::string& from, room_wire& w) {
  auto& st = self->state;
  auto& l = st.link;
  switch (w.op) {
    case room_op::stream:
      on_stream(self, from, w);
      break;
    case room_op::presence:
      on_presence(self, from, w);
      break;
    case room_op::member:
      if (l.owning == owner_phase::owning) {
        owner_change(self, w.change, w.who);
        if (l.followers.count(from) == 0 && l.synced.count(from) == 0) {
          send_to(st, from, make_wire(room_op::reattach, st)); // it lost us (reset)
        }
      }
      break;
    case room_op::detach:
      l.followers.erase(from);
      break;
    case room_op::snapshot:
      if (l.owning == owner_phase::none && from == l.owner && w.snap) {
        adopt(st, *w.snap, true);
        replace_members(st, w.snap->members);
        l.pseq = w.snap->pseq;
      }
      break;
    case room_op::drop:
      if (from == l.owner && l.owning == owner_phase::none) {
        l.backup_synced = false;
        l.is_backup = false;
        l.durable = false;
      }
      break;
    case room_op::reattach:
      if (l.owning == owner_phase::none && from == l.owner && l.attach != attach_phase::detached) {
        restart_attach(self);
      }
      break;
    default:
      spdlog::warn("[{}] room {}: unexpected one-way {} from {}", node_name(st), st.cfg.channel,
                   to_string(w.op), from);
  }
  st.maybe_idle();
}

caf::result<room_wire> cluster_remote_request(room_self self, const std::string& from,
                                              room_wire& w) {
  auto& st = self->state;
  auto& l = st.link;
  switch (w.op) {
    case room_op::publish: {
      if (l.owning == owner_phase::none) {
        return not_owner(st);
      }
      auto rp = self->make_response_promise<room_wire>();
      auto done = [rp](uint64_t offset) mutable {
        auto r = reply(room_status::ok);
        r.offset = offset;
        rp.deliver(std::move(r));
      };
      auto go = [self, w, done]() mutable {
        accept(self, std::move(w.entry.data), std::move(w.entry.from), w.entry.pid, done,
               clock::now());
      };
      if (l.owning == owner_phase::owning) {
        go();
      } else {
        cluster_defer(st, go);
      }
      return rp;
    }
    case room_op::attach:
      if (l.owning == owner_phase::claiming) {
        auto rp = self->make_response_promise<room_wire>();
        cluster_defer(st, [self, rp, from, w]() mutable { rp.deliver(on_attach(self, from, w)); });
        return rp;
      }
      return on_attach(self, from, w);
    case room_op::replicate:
      return on_replicate(self, from, w);
    case room_op::sync:
      return on_sync(self, from, w);
    case room_op::handoff:
      return on_handoff(self, from, w);
    case room_op::claim:
      return on_claim(self);
    default:
      spdlog::warn("[{}] room {}: unexpected request {} from {}", node_name(st), st.cfg.channel,
                   to_string(w.op), from);
      return reply(room_status::refused);
  }
}

} // namespace plexus::actors
