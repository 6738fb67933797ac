#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace plexus::engine {

/// A connection opened or closed.
struct connection_event {
  std::string user;
  std::string session;
};

/// A client published into a channel (after the room accepted it).
struct message_event {
  std::string user;
  std::string session;
  std::string channel;
  std::string data; // JSON text
  uint64_t offset = 0;
};

/// A session joined (subscribed to) or left a channel.
struct join_event {
  std::string user;
  std::string session;
  std::string channel;
};

/// A session changed its presence status (the `status` frame).
struct status_event {
  std::string user;
  std::string session;
  std::string status;
  std::string meta; // JSON text, "null" when none
};

/// A cluster member changed state.
struct node_event {
  std::string node;
  std::string state; // "up", "suspect", "down", "draining"
  uint64_t incarnation = 0;
};

/// Callbacks a host program registers (node::set_hooks, before start). They run on one
/// actor of the node, one at a time and in the order events happened per session, so
/// they need no locking; they must not block (post heavy work elsewhere).
struct hooks {
  std::function<void(const connection_event&)> on_connect;
  std::function<void(const connection_event&)> on_disconnect;
  std::function<void(const message_event&)> on_message;
  std::function<void(const join_event&)> on_join;
  std::function<void(const join_event&)> on_leave;
  std::function<void(const status_event&)> on_status_change;
  std::function<void(const node_event&)> on_node_change;

  bool any() const {
    return on_connect || on_disconnect || on_message || on_join || on_leave || on_status_change
           || on_node_change;
  }
};

/// Spawns the actor that runs `h` for the events sessions (actors::hook_event), the
/// presence tracker (actors::presence_event of kind status) and the cluster (node_event)
/// send it.
caf::actor spawn_hook_actor(caf::actor_system& sys, hooks h);

} // namespace plexus::engine
