#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/context.hpp"
#include "actors/frame.hpp"
#include "cluster/board.hpp"
#include "cluster/membership.hpp"
#include "engine/config.hpp"

namespace plexus::net {
class server;
}

namespace plexus::cluster {
class transport;
}

namespace plexus::engine {

/// The cluster half of a node (`cluster.enabled`): the ZeroMQ transport, the router actor
/// (membership, gossip, room traffic between nodes) and the member board the HTTP routes
/// read. Owned by engine::node, which wires it to the registry, the hooks and the server.
class cluster_node {
public:
  /// `on_change` (may be empty) runs on the router's thread for every member change (the
  /// node turns it into the embedder's on_node_change); it must not block.
  cluster_node(const config& cfg, std::string name, caf::actor_system& sys, actors::context ctx,
               caf::actor registry, std::function<void(const cluster::member_event&)> on_change);
  ~cluster_node();
  cluster_node(const cluster_node&) = delete;
  cluster_node& operator=(const cluster_node&) = delete;

  /// Binds cluster.bind and starts gossiping with the seeds, announcing `ws_url` ("" when
  /// the HTTP port is not known yet: set_ws_url follows). Throws std::runtime_error naming
  /// cluster.bind when the port is taken.
  void start(const std::string& ws_url = {});
  /// Our WebSocket URL, once the HTTP port is known (gossiped for placement).
  void set_ws_url(const std::string& url);
  /// Marks this node draining in gossip; its rooms move to their next owners.
  void drain();
  /// Tells the others we leave (they drop us at once instead of after dead_timeout) and
  /// stops the transport. Idempotent.
  void stop();

  const std::shared_ptr<cluster::board>& board() const {
    return board_;
  }
  caf::actor router() const {
    return router_;
  }

  /// Resume token for `session`: `<node>.<session>.<mac>`, the MAC under cluster.secret so
  /// a client cannot steer itself onto a node of its choosing with a forged token.
  std::string make_resume(const std::string& session) const;
  /// The node a resume token names, when the token is well-formed and its MAC is valid.
  std::optional<std::string> resume_node(const std::string& token) const;

private:
  config cfg_;
  std::string name_;
  caf::actor_system& sys_;
  actors::context ctx_;
  caf::actor registry_;
  std::function<void(const cluster::member_event&)> on_change_;
  std::shared_ptr<cluster::transport> net_;
  std::shared_ptr<cluster::board> board_;
  caf::actor router_;
  bool stopped_ = false;
};

/// The URL of this node for clients: ws(s)://host:port/ws, with a wildcard listen host
/// replaced by the cluster's advertised host.
std::string public_ws_url(const config& cfg, uint16_t port);

/// The window a drain or rebalance spreads `clients` reconnects over: 2 ms per client, at
/// least 500 ms, at most half of `grace`.
uint64_t reconnect_window_ms(std::size_t clients, std::chrono::seconds grace);

/// The frames of a drain or a rebalance, one call per client (from any thread): `reconnect`
/// with another node's URL, the nodes in proportion to their spare capacity
/// (max_connections - connections; up nodes, else suspect ones, else "" = anywhere), and
/// an `after_ms` drawn uniformly from [0, window_ms).
std::function<actors::frame_ptr()> reconnect_spreader(const cluster_node* cluster,
                                                      uint64_t window_ms);

/// Runs a drain to its end (blocking; the node runs it on its own thread): refuse new
/// upgrades, mark the node draining in gossip (rooms hand off), wait for the hand-offs,
/// send every client `reconnect` with another node's URL and a jittered `after_ms` and
/// close it with 4010, then wait until no client is left or `grace` has passed.
void run_drain(net::server& srv, cluster_node* cluster, const actors::metrics& stats,
               const std::string& name, std::chrono::seconds grace);

} // namespace plexus::engine
