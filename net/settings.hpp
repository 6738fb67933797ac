#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace plexus::net {

/// The `[websocket]` section.
struct websocket_settings {
  /// Server pings this often; 30 s keeps NAT and proxy idle timers (often 60 s) open.
  uint32_t heartbeat_interval_ms = 30000;
  /// A peer silent this long after a ping is closed; 10 s tolerates a slow mobile link.
  uint32_t heartbeat_timeout_ms = 10000;
  /// permessage-deflate when the client offers it; chat text compresses ~3x.
  bool compression = true;
  /// Frames below this are sent uncompressed: deflating 64 bytes costs more than it saves.
  uint32_t compression_min_bytes = 256;
  /// Largest client message (after inflation); 64 KiB is far above any chat frame.
  uint32_t max_message_bytes = 65536;
  /// A connection whose unsent bytes pass this is a slow consumer (4 MiB: seconds of a
  /// busy room's traffic, so only a stalled reader hits it).
  uint32_t send_queue_limit_bytes = 4194304;
  /// /ws/echo for conformance suites; off in production.
  bool echo_endpoint = false;
};

/// The `[auth]` section.
struct auth_settings {
  /// Connections without a token get a generated user id. Only the loopback quickstart
  /// config turns this on.
  bool anonymous = false;
  std::string jwt_secret;
  std::string jwt_secret_file;
  std::string jwt_public_key_file;
  /// Clock skew tolerated on `exp`/`nbf`: 5 s covers NTP-synced hosts.
  uint32_t jwt_leeway_s = 5;
  /// /metrics needs the api key too (when metrics are reachable from outside).
  bool metrics_api_key = false;
  /// Exact origins, "*" for any; empty = same host as the request's Host header.
  std::vector<std::string> allowed_origins;
  /// Key for the server API (`Authorization: apikey K`); empty disables the API.
  std::string api_key;
};

/// The `[tls]` section: both set -> https and wss on the node's port.
struct tls_settings {
  std::string cert_file;
  std::string key_file;
  bool enabled() const {
    return !cert_file.empty() && !key_file.empty();
  }
};

/// The connection part of the `[limits]` section.
struct connection_limits {
  /// Per node; 100k is what a tuned 2-core node holds idle.
  uint32_t max_connections = 100000;
  /// New connections per client address per second: stops reconnect storms and scans.
  uint32_t connections_per_ip_per_second = 100;
  /// An HTTP request/upgrade must complete within this (slowloris).
  uint32_t handshake_timeout_ms = 10000;
};

/// Everything the HTTP/WebSocket layer needs.
struct server_settings {
  std::string node_name;
  std::string listen = "127.0.0.1:8080";
  std::string static_dir;
  std::size_t io_threads = 1;
  websocket_settings websocket;
  auth_settings auth;
  tls_settings tls;
  connection_limits limits;
};

} // namespace plexus::net
