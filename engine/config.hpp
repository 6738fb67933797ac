#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "actors/settings.hpp"
#include "cluster/settings.hpp"
#include "net/settings.hpp"

namespace plexus::engine {

/// The `[node]` section.
struct node_settings {
  /// "" = hostname:port, unique enough for a cluster on distinct hosts.
  std::string name;
  std::string listen = "127.0.0.1:8080";
  /// 0 = one per core: I/O threads each run their own event loop.
  std::size_t io_threads = 0;
  /// 0 = one per core: CAF scheduler workers.
  std::size_t actor_threads = 0;
  /// "" = the bundled chat page (examples/chat).
  std::string static_dir;
  /// spdlog level: trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";
};

/// The whole configuration of a node: one struct per TOML section, filled in one place
/// (config_loader) from defaults, the TOML file and `--section.key` flags, in that order.
struct config {
  node_settings node;
  net::websocket_settings websocket;
  net::auth_settings auth;
  net::tls_settings tls;
  net::connection_limits connection_limits; // [limits] keys for connections
  actors::session_limits session_limits;    // [limits] keys for sessions
  actors::presence_settings presence;
  std::vector<actors::namespace_settings> namespaces; // [[namespace]] blocks
  cluster::cluster_settings cluster;

  /// The node name, with "" resolved to hostname:port.
  std::string resolved_name() const;
  /// Thread counts with 0 resolved to the number of cores.
  std::size_t resolved_io_threads() const;
  std::size_t resolved_actor_threads() const;
};

} // namespace plexus::engine
