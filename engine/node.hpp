#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/metrics.hpp"
#include "engine/config.hpp"
#include "engine/hooks.hpp"

namespace plexus::net {
class server;
}

namespace plexus::engine {

/// A plexus node: the actor system, the domain actors (registry, presence tracker), the
/// HTTP/WebSocket server and, when enabled, the cluster. Used by `plexus` (main) and by
/// host programs that embed a node.
///
///   node n{cfg};
///   auto port = n.start();   // throws std::runtime_error naming the option on bad setup
///   ...                      // n.system().spawn(...) for the host's own actors
///   n.stop();                // 1001 to clients, actors stopped, threads joined
class node {
public:
  explicit node(config cfg);
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Registers the host's callbacks (before start()). See engine/hooks.hpp.
  void set_hooks(hooks h);

  /// Starts everything and returns the bound HTTP port.
  uint16_t start();

  /// Graceful shutdown: stop accepting, close sockets with 1001 after what is queued,
  /// wait up to `grace` for clients to finish the close handshake, stop all actors.
  /// Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  /// Starts a graceful drain and returns at once: upgrades are refused (503 with another
  /// node's URL), /readyz answers 503, rooms move to their next owners (cluster), then every
  /// client gets `reconnect` (another node's URL, jittered after_ms) and a 4010 close.
  /// drained() turns true once no client is left or cluster.drain_grace_s passed; the
  /// host then calls stop(). Idempotent.
  void drain();
  bool drained() const;
  /// The cluster router (null unless cluster.enabled): `(listen_atom, actor)` delivers
  /// cluster::member_event to an embedder's actor.
  caf::actor cluster_router() const;

  const std::string& name() const;
  uint16_t port() const;
  /// "ws://host:port/ws" of this node.
  std::string ws_url() const;
  const config& settings() const;

  caf::actor_system& system();
  /// Channel name -> room; send it subscribe/publish/presence messages (actors/messages.hpp).
  caf::actor registry() const;
  /// The node's presence tracker; `(listen_atom, actor)` subscribes to presence events.
  caf::actor tracker() const;
  actors::metrics& stats();
  /// The actor running the hooks (null when none are registered); the cluster sends it
  /// node_event.
  caf::actor hook_actor() const;
  net::server& server();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// CAF 0.17 keeps a reference to the actor system's logger in a thread-local of every
/// thread that created the system or spawned actors from outside an actor, and its
/// destructor waits until that reference is gone. A thread that spawned or sent from
/// outside any actor and stays alive must call this before the node stops (node::start
/// and node::stop do it for their calling threads); otherwise stop() never returns.
void release_caf_thread_state();

} // namespace plexus::engine
