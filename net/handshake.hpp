#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::net::ws {

/// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 4.2.2).
std::string accept_key(std::string_view client_key);

/// True when `key` is a base64 encoding of 16 bytes, as RFC 6455 requires.
bool valid_client_key(std::string_view key);

/// The permessage-deflate parameters we agreed to.
struct deflate_agreement {
  /// The client resets its compressor per message (we may free our inflater).
  bool client_no_context_takeover = false;
  /// The window the client compresses with (our inflater must use at least this).
  int client_max_window_bits = 15;
  /// The Sec-WebSocket-Extensions response value. Always contains
  /// server_no_context_takeover: we compress each broadcast frame once, independently,
  /// and send the same bytes to every subscriber.
  std::string response;
};

/// Picks the first acceptable permessage-deflate offer in a Sec-WebSocket-Extensions
/// header (several offers, comma-separated, parameters after ';'). Offers with unknown
/// or malformed parameters are skipped (RFC 7692 5). nullopt: no acceptable offer.
std::optional<deflate_agreement> negotiate_deflate(std::string_view extensions_header);

/// Picks the first of `supported` that the client lists in Sec-WebSocket-Protocol
/// (comma-separated tokens). nullopt when none match or the header is empty.
std::optional<std::string> choose_subprotocol(std::string_view protocols_header,
                                              const std::vector<std::string>& supported);

} // namespace plexus::net::ws
