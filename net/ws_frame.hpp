#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace plexus::net::ws {

// RFC 6455 framing: pure functions, no I/O. The engine owns the WebSocket frame layer
// (Beast does HTTP and the upgrade request only) so that one encoded frame can be shared
// by every subscriber and many frames go out in one gather-write.

enum class opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Longest server frame header: 2 bytes + 8 bytes of 64-bit length (server frames are unmasked).
constexpr std::size_t max_server_header = 10;

/// Writes the header of an unmasked server frame into `out` (at least
/// `max_server_header` bytes) and returns its length.
std::size_t write_header(uint8_t* out, opcode op, bool fin, bool rsv1, uint64_t payload_len);

/// A complete unmasked server frame (header + payload), for control frames and tests.
std::string make_frame(opcode op, std::string_view payload, bool fin = true, bool rsv1 = false);

/// The payload of a close frame: 2-byte code + UTF-8 reason (truncated to fit 125 bytes).
std::string close_payload(uint16_t code, std::string_view reason);

/// XORs `n` bytes at `data` with `mask`, starting at byte `offset` of the masked payload
/// (so a payload can be unmasked in pieces).
void unmask(uint8_t* data, std::size_t n, const uint8_t mask[4], std::size_t offset = 0);

/// True for close codes a peer may send (RFC 6455 7.4: 1000-1003, 1007-1011, 3000-4999).
bool valid_close_code(uint16_t code);

} // namespace plexus::net::ws
