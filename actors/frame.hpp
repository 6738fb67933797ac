#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "actors/wire_format.hpp"

namespace plexus::actors {

/// Which encodings of a server frame to build. A room asks for the union of what its
/// subscribers speak, so each message is encoded once per format, never per recipient.
struct encodings {
  bool json = false;
  bool msgpack = false;
  /// Also build raw-deflate variants (permessage-deflate, no context takeover) of
  /// payloads of at least `deflate_min_bytes`; smaller ones are not worth compressing.
  bool deflate = false;
  std::size_t deflate_min_bytes = 256;

  static encodings only(wire_format f) {
    encodings e;
    (f == wire_format::json ? e.json : e.msgpack) = true;
    return e;
  }
  void add(wire_format f) {
    (f == wire_format::json ? json : msgpack) = true;
  }
};

/// An encoded server -> client message (the WebSocket payload, without the frame
/// header), immutable once built and shared by every recipient.
struct frame {
  std::string json;
  std::string msgpack;
  /// Raw deflate of the payload with the 00 00 ff ff tail removed (RFC 7692), or empty
  /// when not compressed.
  std::string json_deflated;
  std::string msgpack_deflated;
  /// Frames with the same non-zero key replace each other in a conflating queue
  /// (slow_consumer = "conflate"): a room uses a hash of its channel name.
  uint64_t conflate_key = 0;

  /// The payload a connection of format `f` sends; `compressed` tells whether it is a
  /// deflated variant (RSV1 set).
  const std::string& payload_for(wire_format f, bool deflate, bool& compressed) const {
    const std::string& plain = f == wire_format::json ? json : msgpack;
    const std::string& z = f == wire_format::json ? json_deflated : msgpack_deflated;
    compressed = deflate && !z.empty();
    return compressed ? z : plain;
  }
};

using frame_ptr = std::shared_ptr<const frame>;

/// Fills the deflated variants of `f` as `e` asks. Thread-safe (per-thread zlib state).
void deflate_variants(frame& f, const encodings& e);

} // namespace plexus::actors
