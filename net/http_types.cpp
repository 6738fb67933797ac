#include "net/http_types.hpp"

#include <cstdio>

namespace plexus::net {

const std::string* http_request::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.first == name) {
      return &h.second;
    }
  }
  return nullptr;
}

std::string http_request::param(const std::string& name) const {
  auto i = query.find(name);
  return i == query.end() ? std::string{} : i->second;
}

http_response http_response::json(unsigned status, std::string body) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http_response http_response::error(unsigned status, std::string_view code,
                                   std::string_view message) {
  return json(status, "{\"error\":" + json_quote(code) + ",\"message\":" + json_quote(message)
                        + "}");
}

void route_table::add(std::string method, std::string path, http_handler h) {
  routes_[{std::move(method), std::move(path)}] = std::move(h);
}

const http_handler* route_table::find(const std::string& method, const std::string& path,
                                      bool& path_known) const {
  path_known = false;
  for (const auto& kv : routes_) {
    if (kv.first.second == path) {
      path_known = true;
      if (kv.first.first == method) {
        return &kv.second;
      }
    }
  }
  return nullptr;
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') {
          return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
          return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
          return c - 'A' + 10;
        }
        return -1;
      };
      int hi = hex(s[i + 1]);
      int lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

} // namespace plexus::net
