#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace plexus::bench {

/// WebSocket opcodes (RFC 6455 section 5.2).
enum class ws_op : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Appends one complete client frame (FIN set, masked with `mask_key`) to `out`. The mask
/// is applied eight bytes at a time: it is the only per-byte work a client must do.
void append_client_frame(std::string& out, ws_op op, std::string_view payload, uint32_t mask_key);

/// Appends a client close frame with `code`.
void append_close_frame(std::string& out, uint16_t code, uint32_t mask_key);

/// One server frame found in a buffer.
struct ws_frame_view {
  bool fin = true;
  ws_op op = ws_op::text;
  std::string_view payload;
  std::size_t size = 0; // header + payload bytes consumed
};

/// Parses the frame at the start of [data, data + len). Returns 0 when the buffer holds
/// only part of it, -1 on a protocol violation (a reserved opcode or a 64-bit length with
/// the top bit set), 1 with `out` filled otherwise. Masked server frames (not allowed, but
/// harmless) are unmasked in place, hence the non-const buffer.
int parse_server_frame(char* data, std::size_t len, ws_frame_view& out);

/// A cheap per-connection pseudo-random sequence for mask keys (xorshift32).
inline uint32_t next_mask(uint32_t& state) {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

} // namespace plexus::bench
