#pragma once

#include <string_view>
#include <variant>

#include "actors/client_message.hpp"
#include "actors/wire_format.hpp"

namespace plexus::actors {

using decode_result = std::variant<client_message, decode_error>;

/// Decodes one client frame (a complete WebSocket message payload) in `f`.
///
/// Never throws and never crashes on any input: malformed JSON/msgpack, wrong field
/// types, unknown `type`, invalid channel names, oversized `meta`, `since` without
/// `epoch` and so on come back as a `decode_error` with the PROTOCOL.md error code
/// (`bad_request`, `unknown_type`, `invalid_channel`) and a one-line message, plus the
/// frame's `id` when it had a readable one. A publish's `data` is kept as validated,
/// compact JSON text (JSON frames) or one msgpack object (msgpack frames).
decode_result decode_client_frame(wire_format f, std::string_view bytes);

} // namespace plexus::actors
