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
  auto policy = ns->slow_consumer;
  for (const auto& s : subs) {
    s.out->push(f, policy);
  }
  cfg.ctx.stats->messages_out_total.fetch_add(subs.size(), std::memory_order_relaxed);
}

void room_state::maybe_idle() {
  if (!subs.empty() || !members.empty() || idle_check_scheduled) {
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
  if (subs.empty() && members.empty() && hist.empty()) {
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
  if (!args.server) {
    if (st.ns->publish == publish_rule::server) {
      return make_error(errc::permission_denied,
                        "only the server may publish in namespace '" + st.ns->name + "'");
    }
    if (st.ns->publish == publish_rule::subscribers && st.index.count(args.publisher) == 0) {
      return make_error(errc::permission_denied,
                        "publishing to '" + st.cfg.channel + "' requires a subscription");
    }
  }
  auto offset = ++st.offset;
  auto f = std::const_pointer_cast<frame>(
    make_message(st.cfg.channel, args.data, offset, args.from, st.enc));
  f->conflate_key = st.conflate_key;
  frame_ptr shared = std::move(f);
  st.broadcast(shared);
  if (st.ns->history_size > 0) {
    auto at = st.cfg.ctx.now();
    st.hist.append({offset, at, std::move(args.data), std::move(args.from), shared});
  }
  auto elapsed = std::chrono::duration<double>(clock::now() - args.accepted).count();
  st.cfg.ctx.stats->publish_latency.observe(elapsed);
  return offset;
}

} // namespace

caf::behavior room_actor(caf::stateful_actor<room_state>* self, room_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.ns = &st.cfg.ctx.settings->namespace_of(st.cfg.channel);
  st.epoch = st.cfg.epoch.empty() ? random_epoch() : st.cfg.epoch;
  st.hist = history{st.ns->history_size, std::chrono::seconds{st.ns->history_ttl_s}};
  st.conflate_key = std::hash<std::string>{}(st.cfg.channel) | 1;
  st.recompute_encodings();
  st.cfg.ctx.stats->rooms.fetch_add(1, std::memory_order_relaxed);
  self->attach_functor([stats = st.cfg.ctx.stats] {
    stats->rooms.fetch_sub(1, std::memory_order_relaxed);
  });
  self->set_down_handler([self](const caf::down_msg& dm) {
    self->state.remove_subscriber(dm.source);
  });
  self->set_default_handler([self](caf::scheduled_actor*, caf::message_view& mv) {
    spdlog::warn("[{}] room {} dropped unexpected message {}",
                 self->state.cfg.ctx.settings->node_name, self->state.cfg.channel,
                 caf::to_string(mv.content()));
    return caf::drop(self, mv);
  });
  return {
    [self](subscribe_atom, subscribe_args& args) -> subscribe_reply {
      auto& st = self->state;
      ++st.routed;
      return handle_subscribe(st, self->current_sender(), args);
    },
    [self](unsubscribe_atom, const std::string&) -> bool {
      auto& st = self->state;
      ++st.routed;
      auto removed = st.remove_subscriber(caf::actor_cast<caf::actor_addr>(self->current_sender()));
      st.maybe_idle();
      return removed;
    },
    [self](publish_atom, publish_args& args) -> caf::result<uint64_t> {
      auto& st = self->state;
      ++st.routed;
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
      return st.member_snapshot();
    },
    [self](join_atom, member_event& ev) {
      auto& st = self->state;
      ++st.routed;
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
    [self](stop_atom) { self->quit(); },
  };
}

} // namespace plexus::actors
