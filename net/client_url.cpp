#include "net/client_url.hpp"

#include <cctype>

namespace plexus::net {

namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) {
      return false;
    }
  }
  return true;
}

std::optional<uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) {
    return std::nullopt;
  }
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v == 0 || v > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(v);
}

} // namespace

std::string ws_url::host_header() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string ws_url::str() const {
  return (secure ? "wss://" : "ws://") + host_header() + target;
}

std::optional<ws_url> parse_ws_url(std::string_view url) {
  ws_url out;
  if (starts_with_ci(url, "ws://")) {
    url.remove_prefix(5);
  } else if (starts_with_ci(url, "wss://")) {
    url.remove_prefix(6);
    out.secure = true;
    out.port = 443;
  } else {
    return std::nullopt;
  }
  auto path_at = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, path_at);
  std::string_view rest = path_at == std::string_view::npos ? "" : url.substr(path_at);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash); // fragments are never sent
  }
  if (authority.find('@') != std::string_view::npos) {
    return std::nullopt; // credentials in URLs leak into logs; use the token option
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    out.host.assign(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return std::nullopt;
      }
      port_text = after.substr(1);
      if (port_text.empty()) {
        return std::nullopt;
      }
    }
  } else {
    auto colon = authority.rfind(':');
    out.host.assign(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) {
        return std::nullopt;
      }
    }
  }
  if (out.host.empty()) {
    return std::nullopt;
  }
  if (!port_text.empty()) {
    auto p = parse_port(port_text);
    if (!p) {
      return std::nullopt;
    }
    out.port = *p;
  }
  if (rest.empty()) {
    out.target = "/ws";
  } else if (rest.front() == '?') {
    out.target = "/ws" + std::string(rest);
  } else {
    out.target.assign(rest);
  }
  return out;
}

} // namespace plexus::net
