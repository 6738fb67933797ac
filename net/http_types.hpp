#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plexus::net {

/// An HTTP request as route handlers see it (no Beast types, so handlers in other
/// folders compile without Beast).
struct http_request {
  std::string method; // "GET", "POST", ...
  std::string target; // as sent: path + query
  std::string path;   // decoded path without query
  std::map<std::string, std::string> query;
  std::vector<std::pair<std::string, std::string>> headers; // names lowercased
  std::string body;
  std::string peer_ip;
  /// HTTP version x 10 (11 is HTTP/1.1).
  unsigned version = 11;

  /// The first header named `name` (lowercase), or nullptr.
  const std::string* header(std::string_view name) const;
  /// A query parameter, or "" when absent.
  std::string param(const std::string& name) const;
};

/// A response; every error is `{"error":CODE,"message":TEXT}` (PROTOCOL.md).
struct http_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static http_response json(unsigned status, std::string body);
  static http_response error(unsigned status, std::string_view code, std::string_view message);
};

using http_responder = std::function<void(http_response)>;

/// A route: answers through `respond`, now or later (from any thread).
using http_handler = std::function<void(const http_request&, http_responder respond)>;

/// Exact-path routes by method. Filled at start-up, read-only afterwards.
class route_table {
public:
  void add(std::string method, std::string path, http_handler h);
  /// The handler for method+path; nullptr when none. `path_known` tells whether the path
  /// exists with another method (405 rather than 404).
  const http_handler* find(const std::string& method, const std::string& path,
                           bool& path_known) const;

private:
  std::map<std::pair<std::string, std::string>, http_handler> routes_;
};

/// JSON string literal of `s` (quotes included, escaped).
std::string json_quote(std::string_view s);

/// Percent-decodes a URL component; '+' stays '+'.
std::string url_decode(std::string_view s);

} // namespace plexus::net
