#include "actors/msgpack_out.hpp"

#include <cstdint>
#include <cstring>

namespace plexus::actors {

namespace {

template <class Bits>
void append_big_endian(std::string& out, char tag, Bits bits) {
  char buf[1 + sizeof(Bits)];
  buf[0] = tag;
  for (std::size_t i = 0; i < sizeof(Bits); ++i) {
    buf[1 + i] = static_cast<char>((bits >> (8 * (sizeof(Bits) - 1 - i))) & 0xFF);
  }
  out.append(buf, sizeof(buf));
}

} // namespace

void append_msgpack_float64(std::string& out, double d) {
  uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof(bits));
  append_big_endian(out, static_cast<char>(0xCB), bits);
}

void append_msgpack_float32(std::string& out, float f) {
  uint32_t bits = 0;
  std::memcpy(&bits, &f, sizeof(bits));
  append_big_endian(out, static_cast<char>(0xCA), bits);
}

} // namespace plexus::actors
