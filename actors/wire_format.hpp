#pragma once

#include <cstdint>

namespace plexus::actors {

/// How a connection encodes its frames: the `plexus.json` or `plexus.msgpack` subprotocol.
enum class wire_format : uint8_t {
  json,    // text frames
  msgpack, // binary frames, same fields as JSON
};

constexpr const char* to_string(wire_format f) {
  return f == wire_format::json ? "json" : "msgpack";
}

} // namespace plexus::actors
