#include "net/ws_frame.hpp"

#include <cstring>

namespace plexus::net::ws {

std::size_t write_header(uint8_t* out, opcode op, bool fin, bool rsv1, uint64_t payload_len) {
  out[0]
    = static_cast<uint8_t>((fin ? 0x80 : 0x00) | (rsv1 ? 0x40 : 0x00) | static_cast<uint8_t>(op));
  if (payload_len < 126) {
    out[1] = static_cast<uint8_t>(payload_len);
    return 2;
  }
  if (payload_len <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(payload_len >> 8);
    out[3] = static_cast<uint8_t>(payload_len);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) {
    out[2 + i] = static_cast<uint8_t>(payload_len >> (56 - 8 * i));
  }
  return 10;
}

std::string make_frame(opcode op, std::string_view payload, bool fin, bool rsv1) {
  uint8_t header[max_server_header];
  auto header_len = write_header(header, op, fin, rsv1, payload.size());
  std::string out;
  out.reserve(header_len + payload.size());
  out.append(reinterpret_cast<const char*>(header), header_len);
  out.append(payload);
  return out;
}

std::string close_payload(uint16_t code, std::string_view reason) {
  constexpr std::size_t max_reason = 125 - 2;
  if (reason.size() > max_reason) {
    // Cut on a code point boundary: a reason ending in half a character is invalid UTF-8,
    // which the peer must answer with 1007.
    std::size_t cut = max_reason;
    while (cut > 0 && (static_cast<uint8_t>(reason[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    reason = reason.substr(0, cut);
  }
  std::string out;
  out.reserve(2 + reason.size());
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason);
  return out;
}

void unmask(uint8_t* data, std::size_t n, const uint8_t mask[4], std::size_t offset) {
  // Rotate the key so that key[0] applies to data[0]; then every 8-byte block starts at
  // the same key phase and can be XORed as one 64-bit word.
  uint8_t key[8];
  for (std::size_t i = 0; i < 8; ++i) {
    key[i] = mask[(offset + i) & 3];
  }
  uint64_t key64;
  std::memcpy(&key64, key, 8);
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    uint64_t v[4];
    std::memcpy(v, data + i, 32);
    v[0] ^= key64;
    v[1] ^= key64;
    v[2] ^= key64;
    v[3] ^= key64;
    std::memcpy(data + i, v, 32);
  }
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, data + i, 8);
    v ^= key64;
    std::memcpy(data + i, &v, 8);
  }
  for (; i < n; ++i) {
    data[i] ^= key[i & 7];
  }
}

bool valid_close_code(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011)
         || (code >= 3000 && code <= 4999);
}

} // namespace plexus::net::ws
