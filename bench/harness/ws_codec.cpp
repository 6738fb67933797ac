#include "bench/harness/ws_codec.hpp"

#include <cstring>

namespace plexus::bench {

namespace {

void mask_bytes(char* p, std::size_t n, uint32_t key) {
  uint64_t k8 = (static_cast<uint64_t>(key) << 32) | key;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    w ^= k8;
    std::memcpy(p + i, &w, 8);
  }
  const auto* kb = reinterpret_cast<const unsigned char*>(&key);
  for (; i < n; ++i) {
    p[i] = static_cast<char>(static_cast<unsigned char>(p[i]) ^ kb[i % 4]);
  }
}

} // namespace

void append_client_frame(std::string& out, ws_op op, std::string_view payload, uint32_t key) {
  unsigned char hdr[14];
  std::size_t h = 0;
  hdr[h++] = static_cast<unsigned char>(0x80 | static_cast<uint8_t>(op));
  auto n = payload.size();
  if (n < 126) {
    hdr[h++] = static_cast<unsigned char>(0x80 | n);
  } else if (n <= 0xFFFF) {
    hdr[h++] = 0x80 | 126;
    hdr[h++] = static_cast<unsigned char>(n >> 8);
    hdr[h++] = static_cast<unsigned char>(n);
  } else {
    hdr[h++] = 0x80 | 127;
    for (int s = 56; s >= 0; s -= 8) {
      hdr[h++] = static_cast<unsigned char>(static_cast<uint64_t>(n) >> s);
    }
  }
  // The key's bytes go on the wire in memory order, which is the order mask_bytes uses.
  std::memcpy(hdr + h, &key, 4);
  h += 4;
  auto start = out.size();
  out.append(reinterpret_cast<const char*>(hdr), h);
  out.append(payload.data(), payload.size());
  mask_bytes(out.data() + start + h, n, key);
}

void append_close_frame(std::string& out, uint16_t code, uint32_t key) {
  char body[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  append_client_frame(out, ws_op::close, std::string_view(body, 2), key);
}

int parse_server_frame(char* data, std::size_t len, ws_frame_view& out) {
  if (len < 2) {
    return 0;
  }
  auto b0 = static_cast<unsigned char>(data[0]);
  auto b1 = static_cast<unsigned char>(data[1]);
  auto op = b0 & 0x0F;
  if ((op > 2 && op < 8) || op > 10) {
    return -1;
  }
  bool masked = (b1 & 0x80) != 0;
  uint64_t n = b1 & 0x7F;
  std::size_t h = 2;
  if (n == 126) {
    if (len < 4) {
      return 0;
    }
    n = (static_cast<uint64_t>(static_cast<unsigned char>(data[2])) << 8)
        | static_cast<unsigned char>(data[3]);
    h = 4;
  } else if (n == 127) {
    if (len < 10) {
      return 0;
    }
    n = 0;
    for (int i = 0; i < 8; ++i) {
      n = (n << 8) | static_cast<unsigned char>(data[2 + i]);
    }
    if (n >> 63) {
      return -1;
    }
    h = 10;
  }
  uint32_t key = 0;
  if (masked) {
    if (len < h + 4) {
      return 0;
    }
    std::memcpy(&key, data + h, 4);
    h += 4;
  }
  if (len - h < n) {
    return 0;
  }
  if (masked) {
    mask_bytes(data + h, n, key);
  }
  out.fin = (b0 & 0x80) != 0;
  out.op = static_cast<ws_op>(op);
  out.payload = std::string_view(data + h, n);
  out.size = h + n;
  return 1;
}

} // namespace plexus::bench
