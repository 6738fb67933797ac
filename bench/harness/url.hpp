#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace plexus::bench {

/// A parsed `ws://host:port/path?query` target (no TLS: the harness measures the engine,
/// not OpenSSL).
struct ws_url {
  std::string host;
  uint16_t port = 80;
  std::string path = "/"; // path and query
  std::string text;       // as given

  /// "host:port", for the Host header and the report.
  std::string authority() const;
  /// The same server with another path (the peers serve pub/sub on different paths).
  ws_url with_path(const std::string& p) const;
};

/// Parses `ws://host[:port][/path]`; nullopt when it is not one.
std::optional<ws_url> parse_ws_url(const std::string& text);

} // namespace plexus::bench
