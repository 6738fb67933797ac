#include "actors/session.hpp"

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/permissions.hpp"
#include "actors/presence_tracker.hpp"
#include "actors/server_frames.hpp"

namespace plexus::actors {

const char* session_state::name = "session";

namespace {

using self_ptr = caf::stateful_actor<session_state>*;

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// Milliseconds until the token expires (negative once it has).
int64_t token_left_ms(const identity& who) {
  return who.expires_at * 1000 - unix_now_ms();
}

encodings own_format(const session_state& st) {
  return encodings::only(st.cfg.out->format());
}

std::chrono::milliseconds timeout_of(const session_state& st) {
  return std::chrono::milliseconds(st.cfg.ctx.settings->request_timeout_ms);
}

void subscribe(self_ptr self, std::optional<int64_t> id, subscribe_request& req) {
  auto& st = self->state;
  if (auto v = may_subscribe(st.cfg.who, req.channel); !v) {
    return st.reply_error(id, v.code, v.message);
  }
  auto max = st.cfg.ctx.settings->limits.max_subscriptions;
  if (st.subscriptions.count(req.channel) == 0 && st.subscriptions.size() >= max) {
    return st.reply_error(id, errc::too_many_subscriptions,
                          "subscription limit of " + std::to_string(max) + " reached");
  }
  auto channel = req.channel;
  bool presence = st.cfg.ctx.settings->namespace_of(channel).presence;
  st.subscriptions[channel] = presence;
  subscribe_args args{channel,   st.cfg.id,          st.cfg.who.user, st.cfg.out,
                      req.since, std::move(req.epoch), id};
  self->request(st.cfg.registry, timeout_of(st), subscribe_atom::value, std::move(args))
    .then(
      [self, channel, presence](const subscribe_reply&) {
        auto& st = self->state;
        st.emit(hook_event::kind::join, channel);
        if (presence && st.subscriptions.count(channel) > 0) {
          self->send(st.cfg.tracker, join_atom::value, channel, st.as_member());
        }
      },
      [self, id, channel](caf::error& err) {
        auto& st = self->state;
        st.subscriptions.erase(channel);
        st.reply_error(id, code_of(err), message_of(err));
      });
}

void unsubscribe(self_ptr self, std::optional<int64_t> id, const unsubscribe_request& req) {
  auto& st = self->state;
  auto i = st.subscriptions.find(req.channel);
  if (i == st.subscriptions.end()) {
    return st.reply_error(id, errc::not_subscribed, "not subscribed to '" + req.channel + "'");
  }
  if (i->second) {
    self->send(st.cfg.tracker, leave_atom::value, req.channel);
  }
  st.subscriptions.erase(i);
  st.emit(hook_event::kind::leave, req.channel);
  self->request(st.cfg.registry, timeout_of(st), unsubscribe_atom::value, req.channel)
    .then(
      [self, id](bool) {
        if (id) {
          self->state.reply(make_ack(*id, std::nullopt, own_format(self->state)));
        }
      },
      [self, id](caf::error& err) {
        self->state.reply_error(id, code_of(err), message_of(err));
      });
}

void publish(self_ptr self, std::optional<int64_t> id, publish_request& req) {
  auto& st = self->state;
  const auto& ns = st.cfg.ctx.settings->namespace_of(req.channel);
  if (auto v = may_publish(st.cfg.who, req.channel, ns); !v) {
    return st.reply_error(id, v.code, v.message);
  }
  if (ns.publish == publish_rule::subscribers && st.subscriptions.count(req.channel) == 0) {
    return st.reply_error(id, errc::permission_denied,
                          "publishing to '" + req.channel + "' requires a subscription");
  }
  std::optional<payload> copy;
  if (st.cfg.ctx.events) {
    copy = req.data; // only embedders that registered hooks pay for this copy
  }
  auto channel = req.channel;
  publish_args args{std::move(req.channel), std::move(req.data), st.cfg.who.user,
                    self->address(), false, clock::now()};
  self->request(st.cfg.registry, timeout_of(st), publish_atom::value, std::move(args))
    .then(
      [self, id, channel, copy = std::move(copy)](uint64_t offset) mutable {
        if (copy) {
          self->state.emit(hook_event::kind::message, channel, std::move(*copy), offset);
        }
        if (id) {
          self->state.reply(make_ack(*id, offset, own_format(self->state)));
        }
      },
      [self, id](caf::error& err) {
        self->state.reply_error(id, code_of(err), message_of(err));
      });
}

void presence(self_ptr self, std::optional<int64_t> id, const presence_request& req) {
  auto& st = self->state;
  if (auto v = may_subscribe(st.cfg.who, req.channel); !v) {
    return st.reply_error(id, v.code, v.message);
  }
  auto channel = req.channel;
  self->request(st.cfg.registry, timeout_of(st), presence_atom::value, channel)
    .then(
      [self, id, channel](const member_list& members) {
        auto& st = self->state;
        auto max = st.cfg.ctx.settings->namespace_of(channel).presence_max_members;
        if (members.size() > max) {
          // A room this big answers with its size; the id tells the client it is the reply.
          st.reply(make_presence_count(id, channel, members.size(), own_format(st)));
        } else {
          st.reply(make_presence(id, channel, members, own_format(st)));
        }
      },
      [self, id](caf::error& err) {
        self->state.reply_error(id, code_of(err), message_of(err));
      });
}

void set_status(self_ptr self, std::optional<int64_t> id, status_request& req) {
  auto& st = self->state;
  st.status = std::move(req.status);
  if (req.meta) {
    st.meta = std::move(req.meta);
  }
  self->send(st.cfg.tracker, status_atom::value, status_change{st.status, st.meta},
             st.as_member());
  if (id) {
    st.reply(make_ack(*id, std::nullopt, own_format(st)));
  }
}

void refresh(self_ptr self, std::optional<int64_t> id, const refresh_request& req) {
  auto& st = self->state;
  if (!st.cfg.verify) {
    return st.reply_error(id, errc::permission_denied, "token refresh is not enabled");
  }
  std::string why;
  auto fresh = st.cfg.verify(req.token, why);
  if (!fresh) {
    return st.reply_error(id, errc::permission_denied, "refresh token rejected: " + why);
  }
  if (fresh->user != st.cfg.who.user) {
    return st.reply_error(id, errc::permission_denied, "refresh token is for another user");
  }
  st.cfg.who = std::move(*fresh);
  st.schedule_expiry();
  if (id) {
    st.reply(make_ack(*id, std::nullopt, own_format(st)));
  }
}

void dispatch(self_ptr self, client_message& msg) {
  auto& st = self->state;
  st.heartbeat();
  auto id = msg.id;
  std::visit(
    [&](auto& body) {
      using T = std::decay_t<decltype(body)>;
      if constexpr (std::is_same_v<T, subscribe_request>) {
        subscribe(self, id, body);
      } else if constexpr (std::is_same_v<T, unsubscribe_request>) {
        unsubscribe(self, id, body);
      } else if constexpr (std::is_same_v<T, publish_request>) {
        publish(self, id, body);
      } else if constexpr (std::is_same_v<T, presence_request>) {
        presence(self, id, body);
      } else if constexpr (std::is_same_v<T, status_request>) {
        set_status(self, id, body);
      } else if constexpr (std::is_same_v<T, ping_request>) {
        st.reply(make_pong(id, own_format(st)));
      } else if constexpr (std::is_same_v<T, refresh_request>) {
        refresh(self, id, body);
      }
    },
    msg.body);
}

} // namespace

void session_state::reply_error(std::optional<int64_t> id, errc code,
                                const std::string& message) {
  cfg.ctx.stats->reject(rejection_for(code));
  spdlog::info("[{}] {} session {} user {} refused ({}): {}", cfg.ctx.settings->node_name,
               cfg.peer, cfg.id, cfg.who.user, to_string(code), message);
  reply(make_error(id, code, message, encodings::only(cfg.out->format())));
}

member session_state::as_member() const {
  return member{cfg.who.user, cfg.id, cfg.ctx.settings->node_name, status, meta};
}

void session_state::emit(hook_event::kind what, const std::string& channel, payload data,
                         uint64_t offset) {
  if (cfg.ctx.events) {
    self->send(cfg.ctx.events,
               hook_event{what, cfg.who.user, cfg.id, channel, std::move(data), offset});
  }
}

void session_state::heartbeat() {
  // Presence liveness needs one heartbeat per interval, not one per frame.
  auto now = cfg.ctx.now();
  auto every = std::chrono::milliseconds(
    std::max<uint32_t>(1, cfg.ctx.settings->presence.stale_threshold_ms / 8));
  if (last_heartbeat_sent == clock::time_point{} || now - last_heartbeat_sent >= every) {
    last_heartbeat_sent = now;
    self->send(cfg.tracker, heartbeat_atom::value);
  }
}

void session_state::schedule_expiry() {
  ++expiry_generation;
  if (cfg.who.expires_at == 0) {
    return;
  }
  auto left = std::chrono::milliseconds(std::max<int64_t>(0, token_left_ms(cfg.who)));
  // Warn refresh_warning before expiry, or a third of the lifetime left when that is
  // shorter: a client with a short-lived token still gets time to fetch a new one.
  auto warn_before = std::min(cfg.refresh_warning, left / 3);
  self->delayed_send(self, left - warn_before, expiry_atom::value, expiry_generation, false);
  self->delayed_send(self, left, expiry_atom::value, expiry_generation, true);
}

caf::behavior session_actor(caf::stateful_actor<session_state>* self, session_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.meta = st.cfg.who.meta;
  st.schedule_expiry();
  if (st.cfg.ctx.events) {
    st.emit(hook_event::kind::connect, {});
    // The state is gone when attached functors run: capture what the event needs.
    self->attach_functor([events = st.cfg.ctx.events, user = st.cfg.who.user, id = st.cfg.id] {
      caf::anon_send(events, hook_event{hook_event::kind::disconnect, user, id, {}, {}, 0});
    });
  }
  if (!st.cfg.who.anonymous) {
    // Personal channel: only this user may subscribe, and is subscribed from the start.
    subscribe_request personal{"user:" + st.cfg.who.user, std::nullopt, std::nullopt};
    subscribe(self, std::nullopt, personal);
  }
  self->set_default_handler([self](caf::scheduled_actor*, caf::message_view& mv) {
    spdlog::warn("[{}] session {} dropped unexpected message {}",
                 self->state.cfg.ctx.settings->node_name, self->state.cfg.id,
                 caf::to_string(mv.content()));
    return caf::drop(self, mv);
  });
  return {
    [self](client_message& msg) { dispatch(self, msg); },
    [self](closed_atom) { self->quit(); },
    // The connection answered app-level pings itself; the client is alive.
    [self](heartbeat_atom) { self->state.heartbeat(); },
    [self](expiry_atom, uint64_t generation, bool final) {
      auto& st = self->state;
      if (generation != st.expiry_generation) {
        return; // a refresh replaced the token
      }
      auto left_ms = std::max<int64_t>(0, token_left_ms(st.cfg.who));
      if (!final) {
        st.reply(make_refresh_required(static_cast<uint64_t>(left_ms), own_format(st)));
        return;
      }
      st.cfg.ctx.stats->reject(rejection::token_expired);
      spdlog::info("[{}] {} session {} user {} closed with 4001: token expired",
                   st.cfg.ctx.settings->node_name, st.cfg.peer, st.cfg.id, st.cfg.who.user);
      st.cfg.out->close(close_code::token_expired, "token expired");
      self->quit();
    },
  };
}

} // namespace plexus::actors
