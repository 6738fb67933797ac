#include "actors/room.hpp"

#include <functional>
#include <random>

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/server_frames.hpp"

namespace plexus::actors {

const char* room_state::name = "room";

namespace {

// Count frames are coalesced: a 20k-member room churns members constantly, and one count
// per second is all a UI needs.
constexpr auto count_interval = std::chrono::seconds(1);

// How long an empty room without history waits before asking to stop.
constexpr auto idle_linger = std::chrono::seconds(1);

} // namespace

std::string random_epoch() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

room_state::room_state(caf::event_based_actor* self) : self(self) {
  // nop
}

void room_state::add_subscriber(const caf::strong_actor_ptr& who, outbox_ptr out) {
  auto addr = caf::actor_cast<caf::actor_addr>(who);
  auto i = index.find(addr);
  if (i != index.end()) {
    subs[i->second].out = std::move(out); // re-subscribe: same session, maybe new outbox
    fanout.invalidate();
    recompute_encodings();
    return;
  }
  subscriber s;
  s.addr = addr;
  s.format = out->format();
  s.deflate = out->deflate();
  s.out = std::move(out);
  index.emplace(addr, subs.size());
  subs.push_back(std::move(s));
  fanout.invalidate();
  self->monitor(who);
  recompute_encodings();
}

bool room_state::remove_subscriber(const caf::actor_addr& who) {
  auto i = index.find(who);
  if (i == index.end()) {
    return false;
  }
  auto pos = i->second;
  index.erase(i);
  if (pos + 1 != subs.size()) {
    subs[pos] = std::move(subs.back());
    index[subs[pos].addr] = pos;
  }
  subs.pop_back();
  fanout.invalidate();
  self->demonitor(who);
  recompute_encodings();
  maybe_idle();
  return true;
}

void room_state::recompute_encodings() {
  json_subs = msgpack_subs = deflate_subs = 0;
  for (const auto& s : subs) {
    (s.format == wire_format::json ? json_subs : msgpack_subs) += 1;
    deflate_subs += s.deflate ? 1 : 0;
  }
  enc = encodings{};
  enc.json = json_subs > 0;
  enc.msgpack = msgpack_subs > 0;
  enc.deflate = deflate_subs > 0;
  enc.deflate_min_bytes = cfg.ctx.settings->deflate_min_bytes;
}

void room_state::broadcast(const frame_ptr& f) {
  fanout.push(subs, f, ns->slow_consumer);
  cfg.ctx.stats->messages_out_total.fetch_add(subs.size(), std::memory_order_relaxed);
}

bool room_state::has_local_interest() const {
  // A clustered room mirrors other nodes' members too; only this node's keep it here.
  return !subs.empty() || (link.clustered() ? !link.local_members.empty() : !members.empty());
}

void room_state::maybe_idle() {
  if (has_local_interest() || cluster_keeps_alive(*this) || idle_check_scheduled) {
    return;
  }
  // Linger a little before reporting, so a channel that only sees publishes (no
  // subscribers) is not respawned for every message; with history, stay until it expires
  // so clients that come back within the TTL can recover.
  auto now = cfg.ctx.now();
  hist.expire(now);
  auto until = std::max(now + idle_linger, hist.empty() ? now : hist.newest_expiry());
  idle_check_scheduled = true;
  self->delayed_send(self, until - now + std::chrono::milliseconds(1), idle_check_atom::value);
}

void room_state::report_if_idle() {
  hist.expire(cfg.ctx.now());
  // Only an owner's history keeps a room for recovery; a follower's copy is a mirror.
  bool history_matters = !link.clustered() || link.owning != owner_phase::none;
  if (!has_local_interest() && !cluster_keeps_alive(*this) && (hist.empty() || !history_matters)) {
    self->send(cfg.registry, idle_atom::value, routed);
  } else {
    maybe_idle();
  }
}

member_list room_state::member_snapshot() const {
  member_list out;
  out.reserve(members.size());
  for (const auto& kv : members) {
    out.push_back(kv.second);
  }
  return out;
}

void room_state::announce(const member_list& joins, const member_list& leaves,
                          const member_list& updates) {
  if (!ns->join_leave || subs.empty()) {
    return;
  }
  if (members.size() > ns->presence_max_members) {
    count_mode = true;
    if (!count_scheduled) {
      count_scheduled = true;
      self->delayed_send(self, count_interval, count_atom::value);
    }
    return;
  }
  if (count_mode) {
    // Back under the limit: members only had counts, so they get the whole list again.
    count_mode = false;
    broadcast(make_presence(std::nullopt, cfg.channel, member_snapshot(), enc));
    return;
  }
  broadcast(make_presence_diff(cfg.channel, joins, leaves, updates, enc));
}

namespace {

/// Pushes `subscribed`, then the replayed history, then the member list: all before any
/// live message, because the room is the only writer of room traffic into the outbox.
subscribe_reply handle_subscribe(room_state& st, const caf::strong_actor_ptr& sender,
                                 subscribe_args& args) {
  st.hist.expire(st.cfg.ctx.now());
  subscribe_reply reply;
  reply.offset = st.offset;
  reply.epoch = st.epoch;
  std::optional<bool> recovered;
  if (args.since) {
    bool same_epoch = args.epoch && *args.epoch == st.epoch;
    recovered = same_epoch && st.hist.covers(*args.since, st.offset);
    reply.recovered = *recovered;
    auto& counter = *recovered ? st.cfg.ctx.stats->recovery_hits_total
                               : st.cfg.ctx.stats->recovery_misses_total;
    counter.fetch_add(1, std::memory_order_relaxed);
  }
  auto out = args.out;
  auto fmt = encodings::only(out->format());
  st.add_subscriber(sender, out);
  out->push(make_subscribed(args.request_id, st.cfg.channel, st.offset, st.epoch, recovered, fmt));
  if (recovered.value_or(false)) {
    st.hist.for_each_after(*args.since, [&](const history_entry& e) {
      const auto& f = *e.encoded;
      bool has = out->format() == wire_format::json ? !f.json.empty() : !f.msgpack.empty();
      out->push(has ? e.encoded : make_message(st.cfg.channel, e.data, e.offset, e.from, fmt));
    });
  }
  if (st.ns->presence) {
    if (st.members.size() > st.ns->presence_max_members) {
      out->push(make_presence_count(st.cfg.channel, st.members.size(), fmt));
    } else {
      out->push(make_presence(std::nullopt, st.cfg.channel, st.member_snapshot(), fmt));
    }
  }
  return reply;
}

caf::result<uint64_t> handle_publish(room_state& st, publish_args& args) {
  if (auto refused = st.check_publish(args)) {
    return std::move(*refused);
  }
  stream_entry e;
  e.offset = st.offset + 1;
  e.data = std::move(args.data);
  e.from = std::move(args.from);
  st.commit(e, st.cfg.ctx.now());
  auto elapsed = std::chrono::duration<double>(clock::now() - args.accepted).count();
  st.cfg.ctx.stats->publish_latency.observe(elapsed);
  return e.offset;
}

} // namespace

std::optional<caf::error> room_state::check_publish(const publish_args& args) const {
  if (args.server) {
    return std::nullopt;
  }
  if (ns->publish == publish_rule::server) {
    return make_error(errc::permission_denied,
                      "only the server may publish in namespace '" + ns->name + "'");
  }
  if (ns->publish == publish_rule::subscribers && index.count(args.publisher) == 0) {
    return make_error(errc::permission_denied,
                      "publishing to '" + cfg.channel + "' requires a subscription");
  }
  return std::nullopt;
}

void room_state::commit(const stream_entry& e, clock::time_point at) {
  offset = e.offset;
  auto f = std::const_pointer_cast<frame>(make_message(cfg.channel, e.data, e.offset, e.from, enc));
  f->conflate_key = conflate_key;
  frame_ptr shared = std::move(f);
  broadcast(shared);
  if (ns->history_size > 0) {
    hist.append({e.offset, at, e.data, e.from, shared});
  }
}

void room_state::announce_resync() {
  for (const auto& s : subs) {
    s.out->push(
      make_subscribed(std::nullopt, cfg.channel, offset, epoch, false, encodings::only(s.format)));
  }
}

caf::behavior room_actor(caf::stateful_actor<room_state>* self, room_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.ns = &st.cfg.ctx.settings->namespace_of(st.cfg.channel);
  st.epoch = st.cfg.epoch.empty() ? random_epoch() : st.cfg.epoch;
  st.hist = history{st.ns->history_size, std::chrono::seconds{st.ns->history_ttl_s}};
  st.conflate_key = std::hash<std::string>{}(st.cfg.channel) | 1;
  st.recompute_encodings();
  st.cfg.ctx.stats->rooms.fetch_add(1, std::memory_order_relaxed);
  st.link.router = st.cfg.router;
  st.link.view = st.cfg.view;
  self->attach_functor([stats = st.cfg.ctx.stats] {
    stats->rooms.fetch_sub(1, std::memory_order_relaxed);
  });
  self->set_down_handler([self](const caf::down_msg& dm) {
    if (self->state.remove_subscriber(dm.source)) {
      cluster_interest_changed(self);
    }
  });
  self->set_default_handler([self](caf::scheduled_actor*, caf::message_view& mv) {
    spdlog::warn("[{}] room {} dropped unexpected message {}",
                 self->state.cfg.ctx.settings->node_name, self->state.cfg.channel,
                 caf::to_string(mv.content()));
    return caf::drop(self, mv);
  });
  if (st.link.clustered()) {
    cluster_start(self);
  }
  return {
    [self](subscribe_atom, subscribe_args& args) -> caf::result<subscribe_reply> {
      auto& st = self->state;
      ++st.routed;
      if (st.link.clustered() && cluster_must_wait(self)) {
        // The owner's offset and epoch are not known yet (claim or attach running). The
        // sender first: making the promise takes it out of the current message.
        auto sender = self->current_sender();
        auto rp = self->make_response_promise<subscribe_reply>();
        cluster_defer(st, [self, rp, sender, args]() mutable {
          rp.deliver(handle_subscribe(self->state, sender, args));
        });
        return rp;
      }
      return handle_subscribe(st, self->current_sender(), args);
    },
    [self](unsubscribe_atom, const std::string&) -> bool {
      auto& st = self->state;
      ++st.routed;
      auto removed = st.remove_subscriber(caf::actor_cast<caf::actor_addr>(self->current_sender()));
      if (removed) {
        cluster_interest_changed(self);
      }
      st.maybe_idle();
      return removed;
    },
    [self](publish_atom, publish_args& args) -> caf::result<uint64_t> {
      auto& st = self->state;
      ++st.routed;
      if (st.link.clustered()) {
        return cluster_publish(self, args);
      }
      auto result = handle_publish(st, args);
      st.maybe_idle();
      return result;
    },
    [self](presence_atom, const std::string&) -> caf::result<member_list> {
      auto& st = self->state;
      ++st.routed;
      st.maybe_idle();
      if (!st.ns->presence) {
        return make_error(errc::permission_denied,
                          "presence is off for channel '" + st.cfg.channel + "'");
      }
      if (st.link.clustered() && cluster_must_wait(self)) {
        auto rp = self->make_response_promise<member_list>();
        cluster_defer(st, [self, rp]() mutable { rp.deliver(self->state.member_snapshot()); });
        return rp;
      }
      return st.member_snapshot();
    },
    [self](join_atom, member_event& ev) {
      auto& st = self->state;
      ++st.routed;
      if (st.link.clustered() && st.ns->presence) {
        return cluster_member(self, member_change::join, ev.who);
      }
      if (!st.ns->presence) {
        st.maybe_idle();
        return;
      }
      auto [it, fresh] = st.members.insert_or_assign(ev.who.session, ev.who);
      (void) it;
      st.announce(fresh ? member_list{ev.who} : member_list{}, {},
                  fresh ? member_list{} : member_list{ev.who});
    },
    [self](update_atom, member_event& ev) {
      auto& st = self->state;
      ++st.routed;
      if (st.link.clustered() && st.ns->presence) {
        return cluster_member(self, member_change::update, ev.who);
      }
      auto i = st.members.find(ev.who.session);
      if (i == st.members.end()) {
        st.maybe_idle();
        return;
      }
      i->second = ev.who;
      st.announce({}, {}, {ev.who});
    },
    [self](leave_atom, member_event& ev) {
      auto& st = self->state;
      ++st.routed;
      if (st.link.clustered() && st.ns->presence) {
        return cluster_member(self, member_change::leave, ev.who);
      }
      auto i = st.members.find(ev.who.session);
      if (i == st.members.end()) {
        st.maybe_idle();
        return;
      }
      member gone = std::move(i->second);
      st.members.erase(i);
      st.announce({}, {gone}, {});
      st.maybe_idle();
    },
    [self](channels_atom) -> channel_info {
      auto& st = self->state;
      return channel_info{st.cfg.channel, st.subs.size(), st.offset};
    },
    [self](count_atom) {
      auto& st = self->state;
      st.count_scheduled = false;
      if (st.count_mode && !st.subs.empty()) {
        st.broadcast(make_presence_count(st.cfg.channel, st.members.size(), st.enc));
      }
    },
    [self](idle_check_atom) {
      self->state.idle_check_scheduled = false;
      self->state.report_if_idle();
    },
    [self](stop_atom) {
      cluster_on_stop(self);
      self->quit();
    },
    // -- cluster (room_cluster.cpp) ------------------------------------------------------
    [self](view_atom, placement_ptr& view) {
      ++self->state.routed;
      cluster_on_view(self, std::move(view));
    },
    [self](reset_atom) {
      ++self->state.routed;
      cluster_on_reset(self);
    },
    [self](remote_atom, const std::string& from, room_wire& msg) {
      ++self->state.routed;
      cluster_remote(self, from, msg);
    },
    [self](remote_req_atom, const std::string& from, room_wire& msg) -> caf::result<room_wire> {
      ++self->state.routed;
      return cluster_remote_request(self, from, msg);
    },
    [self](claim_tick_atom, uint64_t generation) { cluster_claim_tick(self, generation); },
    [self](attach_tick_atom, uint64_t generation) { cluster_attach_tick(self, generation); },
    [self](forward_tick_atom) { cluster_forward_tick(self); },
  };
}

} // namespace plexus::actors
