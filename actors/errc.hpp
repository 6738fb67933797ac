#pragma once

#include <cstdint>
#include <string>

namespace plexus::actors {

/// The error codes of `error` frames (PROTOCOL.md), also used as caf::error codes.
enum class errc : uint8_t {
  none = 0,
  bad_request,
  unknown_type,
  invalid_channel,
  permission_denied,
  not_subscribed,
  rate_limited,
  too_large,
  internal,
  too_many_subscriptions, // extension: limits.max_subscriptions reached
};

/// The wire name of a code, e.g. "bad_request".
const char* to_string(errc x);

/// WebSocket close codes of PROTOCOL.md.
namespace close_code {
constexpr uint16_t normal = 1000;
constexpr uint16_t going_away = 1001;
constexpr uint16_t protocol_error = 1002;
constexpr uint16_t unsupported_data = 1003;
constexpr uint16_t invalid_payload = 1007;
constexpr uint16_t policy = 1008;
constexpr uint16_t too_big = 1009;
constexpr uint16_t internal = 1011;
constexpr uint16_t token_expired = 4001;
constexpr uint16_t rate_limited = 4008;
constexpr uint16_t slow_consumer = 4009;
constexpr uint16_t reconnect = 4010;
} // namespace close_code

} // namespace plexus::actors
