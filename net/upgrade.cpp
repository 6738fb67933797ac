#include "net/upgrade.hpp"

#include <algorithm>
#include <cctype>

namespace plexus::net {

namespace {

bool contains_token(const std::string& header, std::string_view token) {
  // Comma-separated, case-insensitive (Connection: keep-alive, Upgrade).
  std::size_t pos = 0;
  while (pos <= header.size()) {
    auto end = header.find(',', pos);
    if (end == std::string::npos) {
      end = header.size();
    }
    auto item = std::string_view{header}.substr(pos, end - pos);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) {
      item.remove_prefix(1);
    }
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) {
      item.remove_suffix(1);
    }
    if (item.size() == token.size()
        && std::equal(item.begin(), item.end(), token.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a))
                    == std::tolower(static_cast<unsigned char>(b));
           })) {
      return true;
    }
    pos = end + 1;
  }
  return false;
}

upgrade_refusal refuse(unsigned status, actors::rejection reason, std::string_view code,
                       std::string message) {
  upgrade_refusal r{http_response::error(status, code, message), reason, std::move(message)};
  return r;
}

std::string host_of_origin(const std::string& origin) {
  auto pos = origin.find("://");
  return pos == std::string::npos ? origin : origin.substr(pos + 3);
}

} // namespace

bool origin_allowed(const std::string* origin, const std::string* host,
                    const std::vector<std::string>& allowed) {
  if (origin == nullptr) {
    return true; // not a browser: origins only guard against cross-site pages
  }
  if (allowed.empty()) {
    return host != nullptr && host_of_origin(*origin) == *host;
  }
  for (const auto& a : allowed) {
    if (a == "*" || a == *origin) {
      return true;
    }
  }
  return false;
}

std::string token_of(const http_request& req) {
  auto q = req.param("token");
  if (!q.empty()) {
    return q;
  }
  if (auto* h = req.header("authorization")) {
    constexpr std::string_view bearer = "Bearer ";
    if (h->size() > bearer.size() && h->compare(0, bearer.size(), bearer) == 0) {
      return h->substr(bearer.size());
    }
  }
  return {};
}

std::variant<upgrade_plan, upgrade_refusal> plan_upgrade(const http_request& req,
                                                         const upgrade_context& ctx) {
  const auto& s = *ctx.settings;
  auto* upgrade = req.header("upgrade");
  auto* connection = req.header("connection");
  auto* key = req.header("sec-websocket-key");
  auto* version = req.header("sec-websocket-version");
  // RFC 6455 4.2.1: an HTTP/1.1 (or later) GET with Upgrade: websocket, Connection: Upgrade.
  if (req.method != "GET" || req.version < 11 || upgrade == nullptr
      || !contains_token(*upgrade, "websocket") || connection == nullptr
      || !contains_token(*connection, "upgrade")) {
    return refuse(400, actors::rejection::bad_upgrade, "bad_request",
                  "this endpoint needs a WebSocket upgrade request");
  }
  if (version == nullptr || *version != "13") {
    auto r = refuse(400, actors::rejection::bad_upgrade, "bad_request",
                    "unsupported Sec-WebSocket-Version (13 required)");
    r.response.headers.emplace_back("Sec-WebSocket-Version", "13");
    return r;
  }
  if (key == nullptr || !ws::valid_client_key(*key)) {
    return refuse(400, actors::rejection::bad_upgrade, "bad_request",
                  "missing or malformed Sec-WebSocket-Key");
  }
  if (ctx.draining || ctx.connections >= s.limits.max_connections) {
    auto r = ctx.draining ? refuse(503, actors::rejection::draining, "draining",
                                   "node is draining; reconnect elsewhere")
                          : refuse(503, actors::rejection::node_full, "node_full",
                                   "node is at max_connections");
    r.response.headers.emplace_back("Retry-After", "1");
    if (!ctx.alternate_url.empty()) {
      r.response.headers.emplace_back("X-Plexus-Alternate", ctx.alternate_url);
    }
    return r;
  }
  if (!ctx.ip_allowed) {
    auto r = refuse(429, actors::rejection::ip_rate, "too_many_connections",
                    "too many connections from " + req.peer_ip + " per second");
    r.response.headers.emplace_back("Retry-After", "1");
    return r;
  }
  if (!origin_allowed(req.header("origin"), req.header("host"), s.auth.allowed_origins)) {
    return refuse(403, actors::rejection::bad_origin, "forbidden_origin",
                  "origin not allowed: " + *req.header("origin"));
  }
  upgrade_plan plan;
  plan.mode = req.path == "/ws/echo" ? ws_mode::echo : ws_mode::session;
  auto token = token_of(req);
  auto verdict = token.empty() ? ctx.auth->anonymous() : ctx.auth->verify(token);
  if (!verdict.who) {
    return refuse(401, actors::rejection::unauthorized, "unauthorized", verdict.error);
  }
  plan.who = std::move(*verdict.who);
  if (auto* p = req.header("sec-websocket-protocol")) {
    plan.subprotocol = ws::choose_subprotocol(*p, {"plexus.json", "plexus.msgpack"});
    if (plan.subprotocol == "plexus.msgpack") {
      plan.format = actors::wire_format::msgpack;
    }
  }
  if (s.websocket.compression) {
    if (auto* e = req.header("sec-websocket-extensions")) {
      plan.deflate = ws::negotiate_deflate(*e);
    }
  }
  plan.accept = ws::accept_key(*key);
  return plan;
}

std::string handshake_response(const upgrade_plan& plan) {
  std::string r = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: ";
  r += plan.accept;
  r += "\r\n";
  if (plan.subprotocol) {
    r += "Sec-WebSocket-Protocol: " + *plan.subprotocol + "\r\n";
  }
  if (plan.deflate) {
    r += "Sec-WebSocket-Extensions: " + plan.deflate->response + "\r\n";
  }
  r += "\r\n";
  return r;
}

} // namespace plexus::net
