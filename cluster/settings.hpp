#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace plexus::cluster {

/// The `[cluster]` section.
struct cluster_settings {
  bool enabled = false;
  /// The ROUTER (everything between nodes) on this port; port + 1 stays reserved.
  std::string bind = "127.0.0.1:9100";
  /// Address other members use to reach us; "" = bind.
  std::string advertise;
  /// Members to join through; may include this node itself.
  std::vector<std::string> seeds;
  /// 500 ms spreads a change through 10 nodes in about 2 s.
  uint32_t gossip_interval_ms = 500;
  /// Four missed gossip rounds: suspect (probe indirectly).
  uint32_t suspect_timeout_ms = 2000;
  /// Ten missed rounds: down; rooms move and presence leaves are sent.
  uint32_t dead_timeout_ms = 5000;
  /// Shared by members; envelopes without a valid MAC under it are refused.
  std::string secret;
  /// Backups per room: 1 survives any single node failure.
  uint32_t replicas = 1;
  /// A draining node exits after this even if clients linger.
  uint32_t drain_grace_s = 30;
};

} // namespace plexus::cluster
