#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plexus::net {

/// A parsed `ws://host[:port][/path][?query]` URL (`wss://` parses, with `secure` set).
struct ws_url {
  bool secure = false;
  std::string host; // without brackets for IPv6 literals
  uint16_t port = 80;
  /// Path and query sent in the request line; "/ws" when the URL has no path.
  std::string target = "/ws";

  /// `host:port` for the Host header (IPv6 literals bracketed).
  std::string host_header() const;
  /// The URL written back out.
  std::string str() const;
};

/// Parses `url`; nullopt when it is not a ws:// or wss:// URL with a host and a valid port.
std::optional<ws_url> parse_ws_url(std::string_view url);

} // namespace plexus::net
