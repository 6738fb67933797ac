#pragma once

// The messages the domain actors exchange. All of them stay inside one process (the
// cluster has its own msgpack wire format), so the structs are allowed as "unsafe"
// (non-serializable) CAF message types.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <caf/actor_addr.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "actors/client_message.hpp"
#include "actors/identity.hpp"
#include "actors/outbox.hpp"
#include "actors/payload.hpp"
#include "actors/presence_types.hpp"

namespace plexus::actors {

// Atoms (CAF 0.17: at most 10 characters of [0-9A-Za-z_ ]).
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsubscr")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using presence_atom = caf::atom_constant<caf::atom("presence")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using leave_atom = caf::atom_constant<caf::atom("leave")>;
using update_atom = caf::atom_constant<caf::atom("update")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using idle_check_atom = caf::atom_constant<caf::atom("idlecheck")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using closed_atom = caf::atom_constant<caf::atom("closed")>;
using count_atom = caf::atom_constant<caf::atom("count")>;
using channels_atom = caf::atom_constant<caf::atom("channels")>;
using expiry_atom = caf::atom_constant<caf::atom("expiry")>;
using listen_atom = caf::atom_constant<caf::atom("listen")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;

using clock = std::chrono::steady_clock;

/// A session (or embedded actor) joining a room. The room pushes `subscribed`, the
/// replayed history and then live messages straight into `out`, in that order, so
/// nothing falls between replay and live delivery.
struct subscribe_args {
  std::string channel;
  std::string session_id;
  std::string user;
  outbox_ptr out;
  std::optional<uint64_t> since;
  std::optional<std::string> epoch;
  std::optional<int64_t> request_id;
};

/// What the room answers a subscribe with (after pushing the frames itself).
struct subscribe_reply {
  uint64_t offset = 0;
  std::string epoch;
  bool recovered = false;
};

/// A publish into a room. `publisher` is the publishing session (null for the HTTP API
/// and embedded publishers), used for the namespace's "subscribers" rule.
struct publish_args {
  std::string channel;
  payload data;
  std::string from;
  caf::actor_addr publisher;
  bool server = false; // HTTP API or embedded actor: allowed in "server" namespaces
  clock::time_point accepted = clock::now();
};

/// A presence member event from a node's tracker to a room.
struct member_event {
  std::string channel;
  member who;
};

/// A channel and its local subscriber count, for GET /v1/channels.
struct channel_info {
  std::string channel;
  uint64_t subscribers = 0;
  uint64_t offset = 0;
};

using channel_list = std::vector<channel_info>;

/// Handed to the tracker when presence changes, for embedders' on_status_change / on_join.
struct presence_event {
  enum class kind : uint8_t { join, leave, status } what = kind::join;
  std::string channel; // empty for status changes
  member who;
};

/// What a session tells the embedder's hooks (context::events).
struct hook_event {
  enum class kind : uint8_t { connect, disconnect, join, leave, message } what = kind::connect;
  std::string user;
  std::string session;
  std::string channel;    // join, leave, message
  payload data;           // message
  uint64_t offset = 0;    // message
};

} // namespace plexus::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::hook_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::frame_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::client_message)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::subscribe_args)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::subscribe_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::publish_args)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::member_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::member)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::member_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::channel_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::channel_info)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::presence_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::payload)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::outbox_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::identity)
