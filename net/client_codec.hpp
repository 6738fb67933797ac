#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "net/client_types.hpp"

namespace plexus::net {

// The client side of PROTOCOL.md's frames: encodes client -> server requests and decodes
// server -> client frames, in JSON (text frames) or msgpack (binary frames). The inverse
// of actors/codec (client frames) and actors/server_frames (server frames). Never throws.

// -- encoding -------------------------------------------------------------------------

/// `{"type":"subscribe","id","channel","since"?,"epoch"?}`; since/epoch only together.
std::string encode_subscribe(wire_format f, int64_t id, std::string_view channel,
                             std::optional<uint64_t> since, std::string_view epoch);
/// `{"type":"unsubscribe","id","channel"}`
std::string encode_unsubscribe(wire_format f, int64_t id, std::string_view channel);
/// `{"type":"publish","id","channel","data"}`; `data` is converted to `f` when needed.
std::string encode_publish(wire_format f, int64_t id, std::string_view channel,
                           const payload& data);
/// `{"type":"presence","id","channel"}`
std::string encode_presence(wire_format f, int64_t id, std::string_view channel);
/// `{"type":"status","id","status","meta"?}`
std::string encode_status(wire_format f, int64_t id, std::string_view status,
                          const std::optional<payload>& meta);
/// `{"type":"ping","id"?}`
std::string encode_ping(wire_format f, std::optional<int64_t> id);
/// `{"type":"refresh","id","token"}`
std::string encode_refresh(wire_format f, int64_t id, std::string_view token);

/// "" when `p` is a well-formed value of its format, else what is wrong. A malformed value
/// would make the whole frame unreadable, and the server could not say which request
/// failed, so the client refuses it before sending.
std::string check_payload(const payload& p);

// -- decoding -------------------------------------------------------------------------

struct subscribed_frame {
  std::optional<int64_t> id;
  subscribed_event event;
};
struct presence_frame { // `presence`, or `presence_count` with event.count set
  std::optional<int64_t> id;
  presence_event event;
};
struct ack_frame {
  int64_t id = 0;
  std::optional<uint64_t> offset;
};
struct pong_frame {
  std::optional<int64_t> id;
};
struct refresh_required_frame {
  uint64_t expires_in_ms = 0;
};
struct reconnect_frame {
  std::string url; // empty: reconnect to the same URL
  uint64_t after_ms = 0;
};
/// A frame with a `type` this client does not know: ignored, for forward compatibility.
struct unknown_frame {
  std::string type;
};

using server_frame = std::variant<welcome_event, subscribed_frame, message_event, ack_frame,
                                  error_event, pong_frame, presence_frame, presence_diff_event,
                                  refresh_required_frame, reconnect_frame, unknown_frame>;

/// A decoded frame, or why the bytes are not one.
struct decode_outcome {
  std::optional<server_frame> frame;
  std::string error;
};

/// Decodes one server frame (a complete WebSocket message) in format `f`.
decode_outcome decode_server_frame(wire_format f, std::string_view bytes);

} // namespace plexus::net
