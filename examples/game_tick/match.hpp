#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

namespace plexus::examples {

/// One player's state in a match.
struct player {
  int x = 0;
  int y = 0;
  int dx = 0; // current input: -1, 0 or 1 per axis
  int dy = 0;
};

/// A match: a room actor of the host program that runs the simulation at a fixed rate and
/// publishes the whole state to the match's channel every tick. Players' inputs arrive as
/// messages on the match's input channel, published by their WebSocket clients.
///
///   state channel  match:<id>        (namespace "match": only the server publishes)
///   input channel  match-input:<id>  (namespace "match-input": any player publishes
///                                     {"dx":-1..1,"dy":-1..1})
struct match_state {
  explicit match_state(caf::event_based_actor*) {
  }
  std::string id;
  caf::actor registry;
  uint64_t tick = 0;
  std::map<std::string, player> players; // by user id
  static const char* name;
};

/// Ticks per second of the simulation.
constexpr int match_hz = 60;

/// Spawn with `sys.spawn(match_actor, "1", node.registry())`.
caf::behavior match_actor(caf::stateful_actor<match_state>* self, std::string id,
                          caf::actor registry);

/// The state frame's JSON: {"tick":N,"players":{"u1":{"x":..,"y":..},...}}.
std::string match_json(const match_state& st);

} // namespace plexus::examples
