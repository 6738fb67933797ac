#include "bench/harness/url.hpp"

#include <cstdlib>

namespace plexus::bench {

std::string ws_url::authority() const {
  return host + ":" + std::to_string(port);
}

ws_url ws_url::with_path(const std::string& p) const {
  ws_url u = *this;
  u.path = p;
  u.text = "ws://" + authority() + p;
  return u;
}

std::optional<ws_url> parse_ws_url(const std::string& text) {
  const std::string scheme = "ws://";
  if (text.compare(0, scheme.size(), scheme) != 0) {
    return std::nullopt;
  }
  ws_url u;
  u.text = text;
  auto rest = text.substr(scheme.size());
  auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos) {
    u.host = hostport;
  } else {
    u.host = hostport.substr(0, colon);
    auto port = std::strtol(hostport.c_str() + colon + 1, nullptr, 10);
    if (port <= 0 || port > 65535) {
      return std::nullopt;
    }
    u.port = static_cast<uint16_t>(port);
  }
  if (u.host.empty()) {
    return std::nullopt;
  }
  return u;
}

} // namespace plexus::bench
