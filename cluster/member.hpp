#pragma once

#include <cstdint>
#include <string>

namespace plexus::cluster {

/// A member's state as this node sees it. Only `up` and `down` are gossiped: suspicion is
/// each node's own opinion, so one bad link does not spread as a verdict.
enum class member_state : uint8_t { up = 0, suspect, down };

const char* to_string(member_state s);

/// One row of the member table: what gossip carries about a node.
struct member_info {
  std::string name;
  /// host:port of its ROUTER (control and channel traffic).
  std::string control;
  /// The URL clients connect to (ws://host:port/ws or wss://...).
  std::string ws_url;
  /// Process start time in ms: a restarted node always comes back higher.
  uint64_t incarnation = 0;
  /// Bumped by the node itself to refute a `down` verdict (SWIM) or to announce leaving.
  uint64_t version = 0;
  /// Bumped every gossip round by the node itself: progress means it is alive.
  uint64_t heartbeat = 0;
  member_state state = member_state::up;
  uint64_t connections = 0;
  bool draining = false;
  /// At limits.max_connections: placement skips it.
  bool full = false;
  /// Its limits.max_connections (0: not announced, an older node): a draining node spreads
  /// its clients in proportion to each peer's spare capacity, max_connections - connections.
  uint64_t max_connections = 0;
};

} // namespace plexus::cluster
