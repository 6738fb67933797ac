#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "engine/cluster_node.hpp"

namespace plexus::net {
class server;
}

namespace plexus::engine {

/// What the cluster routes need from the node.
struct cluster_routes_deps {
  /// Null on a single node: /v1/cluster lists this node alone, /pick answers with it.
  cluster_node* cluster = nullptr;
  /// This node's WebSocket URL (known once the HTTP port is bound).
  std::function<std::string()> self_url;
  /// Starts a drain (returns at once).
  std::function<void()> drain;
  /// cluster.drain_grace_s: a rebalance spreads its reconnects over a part of it.
  std::chrono::seconds grace{30};
};

/// Registers GET /v1/cluster, GET /v1/cluster/nodes, GET /v1/cluster/pick, POST /v1/drain
/// and POST /v1/rebalance, and, when
/// clustered, the server's 503 alternate and resume-token hooks. Before server start.
void add_cluster_routes(net::server& srv, const cluster_routes_deps& deps);

} // namespace plexus::engine
