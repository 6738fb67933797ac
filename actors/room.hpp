#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/behavior.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/context.hpp"
#include "actors/frame.hpp"
#include "actors/fanout.hpp"
#include "actors/history.hpp"
#include "actors/messages.hpp"
#include "actors/outbox.hpp"
#include "actors/room_cluster.hpp"

namespace plexus::actors {

/// One local subscriber of a room.
struct subscriber {
  caf::actor_addr addr;
  outbox_ptr out;
  wire_format format = wire_format::json;
  bool deflate = false;
};

/// How a room is created.
struct room_config {
  std::string channel;
  context ctx;
  /// The node's registry: rooms report idleness to it and stop only when it agrees.
  caf::actor registry;
  /// "" = a fresh random epoch (a new room); set when a room is recreated elsewhere with
  /// known state (cluster hand-off).
  std::string epoch;
  /// The cluster router; null on a single node (the room then works alone).
  caf::actor router;
  /// The cluster as the registry saw it when spawning the room (null on a single node).
  placement_ptr view;
};

/// State of a room actor: one per channel on its owner node.
///
/// Lifecycle:
///
///   spawned by registry --(subscribe/publish/...)--> active
///   active --(no subscribers, no members, history expired)--> idle report to registry
///   registry --(stop: nothing routed since the report)--> quit
///   registry --(routed more in the meantime)--> report ignored, room stays active
struct room_state {
  explicit room_state(caf::event_based_actor* self);

  caf::event_based_actor* self;
  room_config cfg;
  const namespace_settings* ns = nullptr;
  std::string epoch;
  uint64_t offset = 0; // offset of the newest message; the first message gets 1
  history hist{0, std::chrono::seconds{0}};
  std::vector<subscriber> subs;
  std::unordered_map<caf::actor_addr, std::size_t> index; // addr -> position in subs
  fanout_plan fanout;                                     // subs grouped for broadcasts
  encodings enc;                                          // what the subscribers speak
  std::size_t json_subs = 0;
  std::size_t msgpack_subs = 0;
  std::size_t deflate_subs = 0;
  std::unordered_map<std::string, member> members; // session id -> presence entry
  uint64_t routed = 0;                             // messages received through the registry
  bool idle_check_scheduled = false;
  bool count_scheduled = false;
  bool count_mode = false; // members were told counts, not lists, since the room grew
  uint64_t conflate_key = 0;
  room_link link; // the cluster side (room_cluster.cpp)

  static const char* name;

  void add_subscriber(const caf::strong_actor_ptr& who, outbox_ptr out);
  bool remove_subscriber(const caf::actor_addr& who);
  void recompute_encodings();
  /// Pushes `f` to every local subscriber (the fan-out hot path).
  void broadcast(const frame_ptr& f);
  /// Schedules an idle check when the room has nothing left to serve.
  void maybe_idle();
  /// Reports to the registry if still idle (called by the scheduled check).
  void report_if_idle();
  void announce(const member_list& joins, const member_list& leaves, const member_list& updates);
  member_list member_snapshot() const;
  /// True when local subscribers or local presence members need the room.
  bool has_local_interest() const;
  /// Checks a publish against the namespace's rule; an error when refused.
  std::optional<caf::error> check_publish(const publish_args& args) const;
  /// Fans a message out to local subscribers and keeps it in the history; `at` is when
  /// its owner accepted it (history TTL). Sets `offset` to the entry's.
  void commit(const stream_entry& e, clock::time_point at);
  /// Pushes a fresh `subscribed` (recovered: false) to every local subscriber: the room's
  /// epoch changed under them, so they must resync.
  void announce_resync();
};

/// Spawns with `sys.spawn(room_actor, cfg)`.
caf::behavior room_actor(caf::stateful_actor<room_state>* self, room_config cfg);

/// A fresh random epoch id (16 hex digits).
std::string random_epoch();

} // namespace plexus::actors
