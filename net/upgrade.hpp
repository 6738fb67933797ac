#pragma once

#include <optional>
#include <string>
#include <variant>

#include "actors/identity.hpp"
#include "actors/metrics.hpp"
#include "actors/wire_format.hpp"
#include "net/auth.hpp"
#include "net/handshake.hpp"
#include "net/http_types.hpp"
#include "net/settings.hpp"
#include "net/ws_connection.hpp"

namespace plexus::net {

/// What the node knows when an upgrade request arrives.
struct upgrade_context {
  const server_settings* settings = nullptr;
  const authenticator* auth = nullptr;
  bool draining = false;
  std::size_t connections = 0;
  /// False when this address opened too many connections this second.
  bool ip_allowed = true;
  /// URL of another node with room ("" when none is known), for 503 refusals.
  std::string alternate_url;
};

/// An accepted upgrade: everything needed to build the connection.
struct upgrade_plan {
  ws_mode mode = ws_mode::session;
  actors::wire_format format = actors::wire_format::json;
  std::optional<std::string> subprotocol;
  std::optional<ws::deflate_agreement> deflate;
  actors::identity who;
  std::string accept; // Sec-WebSocket-Accept
};

/// A refused upgrade: the HTTP response to send, and what to count and log.
struct upgrade_refusal {
  http_response response;
  actors::rejection reason = actors::rejection::bad_upgrade;
  std::string log;
};

/// Decides an upgrade request on /ws or /ws/echo, in the order PROTOCOL.md implies:
/// malformed (400), draining/full (503 + Retry-After + X-Plexus-Alternate), too many
/// connections from the address (429), origin (403), token (401).
std::variant<upgrade_plan, upgrade_refusal> plan_upgrade(const http_request& req,
                                                         const upgrade_context& ctx);

/// The 101 Switching Protocols response for an accepted plan.
std::string handshake_response(const upgrade_plan& plan);

/// True when `origin` may connect: listed exactly, "*" listed, or (empty list) its host
/// equals the request's Host header.
bool origin_allowed(const std::string* origin, const std::string* host,
                    const std::vector<std::string>& allowed);

/// The token of a request: `?token=` or `Authorization: Bearer`.
std::string token_of(const http_request& req);

} // namespace plexus::net
