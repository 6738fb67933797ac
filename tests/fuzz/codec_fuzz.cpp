// libFuzzer target for the client frame codec (actors/codec.cpp, actors/payload.cpp). Built
// with PLEXUS_FUZZ=ON (tests/fuzz/CMakeLists.txt; `scripts/fuzz 60 codec` builds and runs
// it); the normal test suite replays its corpus (ctest fuzz_corpus.codec). See README.md.
//
// Input layout: the first byte selects the format (even = JSON, odd = msgpack), the rest is
// one frame. The seed corpus files carry that selector byte (0 or 1) in front of the frame;
// tests/actors/codec_random_test.cpp writes them (PLEXUS_WRITE_CORPUS=1) and checks them.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "actors/codec.hpp"
#include "actors/payload.hpp"

namespace {

using plexus::actors::payload;
using plexus::actors::wire_format;

/// Converts decoded payloads both ways, so the converters are fuzzed with what the codec
/// lets through.
void exercise(const payload& p) {
  auto json = to_json(p);
  auto packed = to_msgpack(p);
  static_cast<void>(to_msgpack(payload{wire_format::json, json}));
  static_cast<void>(to_json(payload{wire_format::msgpack, packed}));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace plexus::actors;
  if (size == 0) {
    return 0;
  }
  auto format = (data[0] & 1) == 0 ? wire_format::json : wire_format::msgpack;
  std::string_view frame(reinterpret_cast<const char*>(data + 1), size - 1);
  auto result = decode_client_frame(format, frame);
  if (auto* msg = std::get_if<client_message>(&result)) {
    if (auto* pub = std::get_if<publish_request>(&msg->body)) {
      exercise(pub->data);
    } else if (auto* st = std::get_if<status_request>(&msg->body); st && st->meta) {
      exercise(*st->meta);
    }
  }
  return 0;
}
