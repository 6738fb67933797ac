#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/context.hpp"
#include "actors/identity.hpp"
#include "actors/messages.hpp"
#include "actors/outbox.hpp"

namespace plexus::actors {

/// Verifies a token from a `refresh` frame; returns the identity or sets `error`.
using token_verifier = std::function<std::optional<identity>(const std::string& token,
                                                             std::string& error)>;

/// How a session actor is created (by the net layer on upgrade, or by an embedder).
struct session_config {
  std::string id;
  identity who;
  outbox_ptr out;
  context ctx;
  caf::actor registry;
  caf::actor tracker;
  /// Token for sticky reconnects (the connection sends it in `welcome`).
  std::string resume;
  /// Checks `refresh` tokens; empty = refresh is refused.
  token_verifier verify;
  /// Warn this long before the token expires (refresh_required); a third of the lifetime
  /// left when that is shorter.
  std::chrono::milliseconds refresh_warning{30000};
  /// The client's "ip:port", for refusal logs.
  std::string peer;
};

/// State of a session actor: one per WebSocket connection. It owns the connection's
/// identity and subscriptions and turns client frames into room operations; rooms write
/// room traffic straight into the outbox, the session only writes its own replies.
struct session_state {
  explicit session_state(caf::event_based_actor* self) : self(self) {
  }

  caf::event_based_actor* self;
  session_config cfg;
  /// Channels joined (or being joined: added before the room answers, so a quick
  /// unsubscribe finds it), with whether the room tracks presence.
  std::unordered_map<std::string, bool> subscriptions;
  std::string status = "online";
  std::optional<payload> meta;
  clock::time_point last_heartbeat_sent{};
  uint64_t expiry_generation = 0;

  static const char* name;

  void reply(const frame_ptr& f) {
    cfg.out->push(f);
  }
  void reply_error(std::optional<int64_t> id, errc code, const std::string& message);
  member as_member() const;
  void heartbeat();
  /// Tells the embedder's hooks (when registered) about this session.
  void emit(hook_event::kind what, const std::string& channel, payload data = {},
            uint64_t offset = 0);
  void schedule_expiry();
};

caf::behavior session_actor(caf::stateful_actor<session_state>* self, session_config cfg);

} // namespace plexus::actors
