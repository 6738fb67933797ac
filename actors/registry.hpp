#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/cluster_messages.hpp"
#include "actors/context.hpp"

namespace plexus::actors {

/// A room as the registry knows it.
struct room_entry {
  caf::actor room;
  uint64_t routed = 0; // messages delegated to it; compared with its idle report
};

/// State of the node's registry: channel name -> room. Every message for a room goes
/// through here (delegated, so the room answers the original sender), which is what lets
/// a room stop without racing a message on its way: the registry only stops a room whose
/// idle report counts every message it was sent.
struct registry_state {
  explicit registry_state(caf::event_based_actor* self) : self(self) {
  }

  caf::event_based_actor* self;
  context ctx;
  std::unordered_map<std::string, room_entry> rooms;
  std::unordered_map<caf::actor_addr, std::string> names; // room addr -> channel
  /// Clustered: the router (learnt from the first view it sends) and the current view.
  caf::actor router;
  placement_ptr view;

  static const char* name;

  /// The room of `channel`, spawned on first use; counts one routed message.
  caf::actor& route(const std::string& channel);
  /// The room if it exists (counting one routed message), else nullptr.
  caf::actor* route_existing(const std::string& channel);
};

/// Cluster messages, besides the room traffic above:
/// - `(view_atom, placement_ptr)` from the router: every room re-derives its role.
/// - `(reset_atom)`: this node was declared down by the others; rooms drop their roles.
/// - `(remote_atom | remote_req_atom, from_node, room_wire)`: delegated to the room.
caf::behavior registry_actor(caf::stateful_actor<registry_state>* self, context ctx);

} // namespace plexus::actors
