// libFuzzer target for the inbound WebSocket parser (net/ws_reader.cpp, with net/deflate.cpp,
// net/utf8.cpp, net/ws_frame.cpp): RFC 6455 framing and RFC 7692 permessage-deflate.
// Built with PLEXUS_FUZZ=ON (tests/fuzz/CMakeLists.txt, scripts/fuzz); the normal test suite
// replays tests/fuzz/corpus/ws_reader/ through tests/fuzz/corpus_driver.cpp.
//
// Input layout:
//
//   byte 0   options: bit 0 permessage-deflate, bit 1 client_no_context_takeover,
//            bits 2-4 client_max_window_bits - 8 (capped at 15), bits 5-7 max_message_bytes
//            (one of limits[] below)
//   byte 1   0: the stream is fed in one call; else it is fed in chunks whose sizes cycle
//            through bytes 2-5 (each + 1, so 1..256 bytes)
//   2..5     chunk sizes
//   6..      the byte stream a client sent after the upgrade
//
// Oracles (a violation aborts):
// - the same stream fed whole and fed in chunks reports the same events (framing state
//   must not depend on how TCP splits the bytes);
// - nothing is reported after a close frame or a protocol error;
// - messages fit max_message_bytes; text messages and close reasons are valid UTF-8
//   (checked by a separate, naive validator); control payloads fit 125 bytes; close codes
//   are ones a peer may send; protocol errors carry 1002, 1007 or 1009;
// - buffered_bytes() stays within the limit plus one frame header and one control payload
//   (limits before allocation), and is 0 once the reader finished.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/ws_frame.hpp"
#include "net/ws_reader.hpp"

namespace {

using plexus::net::ws::reader;
using plexus::net::ws::reader_handler;
using plexus::net::ws::reader_options;

constexpr std::size_t header_bytes = 6;
constexpr std::size_t limits[8] = {0, 1, 125, 126, 1000, 65535, 65536, 1u << 20};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "ws_reader_fuzz: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok) {
    fail(what);
  }
}

/// RFC 3629 UTF-8, written out independently of net/utf8.cpp's DFA.
bool naive_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<uint8_t>(s[i]);
    std::size_t n = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      n = 1;
      cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2;
      cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      auto c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (c & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))
        || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

struct event {
  char kind; // m(essage), p(ing), o (pong), c(lose), e(rror)
  bool text = false;
  uint16_t code = 0;
  std::string payload;

  bool operator==(const event& o) const {
    return kind == o.kind && text == o.text && code == o.code && payload == o.payload;
  }
};

class checking_handler : public reader_handler {
public:
  explicit checking_handler(std::size_t max_message) : max_message_(max_message) {
  }

  void on_message(bool text, std::string_view payload) override {
    alive();
    check(payload.size() <= max_message_, "message over max_message_bytes");
    check(!text || naive_utf8(payload), "text message is not valid UTF-8");
    events.push_back({'m', text, 0, std::string{payload}});
  }
  void on_ping(std::string_view payload) override {
    alive();
    check(payload.size() <= 125, "ping payload over 125 bytes");
    events.push_back({'p', false, 0, std::string{payload}});
  }
  void on_pong(std::string_view payload) override {
    alive();
    check(payload.size() <= 125, "pong payload over 125 bytes");
    events.push_back({'o', false, 0, std::string{payload}});
  }
  void on_close(uint16_t code, std::string_view reason) override {
    alive();
    done_ = true;
    check(code == 1005 ? reason.empty() : plexus::net::ws::valid_close_code(code),
          "close code a peer may not send");
    check(reason.size() <= 123, "close reason over 123 bytes");
    check(naive_utf8(reason), "close reason is not valid UTF-8");
    events.push_back({'c', false, code, std::string{reason}});
  }
  void on_protocol_error(uint16_t close_code, std::string_view reason) override {
    alive();
    done_ = true;
    check(close_code == 1002 || close_code == 1007 || close_code == 1009,
          "protocol error with an unexpected close code");
    events.push_back({'e', false, close_code, std::string{reason}});
  }

  std::vector<event> events;

private:
  void alive() const {
    check(!done_, "event after close or protocol error");
  }

  std::size_t max_message_;
  bool done_ = false;
};

/// What the reader may hold between feeds: a message up to the limit (deflate may expand
/// incompressible data slightly), one frame header and one control payload.
std::size_t buffer_bound(std::size_t max_message) {
  return max_message + max_message / 8 + 64 + 14 + 125;
}

void check_buffered(const reader& r, std::size_t max_message) {
  check(r.buffered_bytes() <= buffer_bound(max_message), "reader buffers past its limit");
  check(!r.finished() || r.buffered_bytes() == 0, "finished reader still holds buffers");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < header_bytes) {
    return 0;
  }
  reader_options opts;
  opts.deflate = (data[0] & 0x01) != 0;
  opts.client_no_context_takeover = (data[0] & 0x02) != 0;
  opts.client_max_window_bits = std::min(8 + ((data[0] >> 2) & 0x07), 15);
  opts.max_message_bytes = limits[data[0] >> 5];
  bool chunked = data[1] != 0;
  const uint8_t* steps = data + 2;
  std::string_view stream(reinterpret_cast<const char*>(data + header_bytes), size - header_bytes);

  // Whole: one feed of a copy (the reader unmasks in place).
  checking_handler whole_events{opts.max_message_bytes};
  {
    reader r{opts};
    std::vector<uint8_t> copy(stream.begin(), stream.end());
    r.feed(copy.data(), copy.size(), whole_events);
    check_buffered(r, opts.max_message_bytes);
  }
  if (!chunked) {
    return 0;
  }
  checking_handler chunk_events{opts.max_message_bytes};
  {
    reader r{opts};
    std::size_t pos = 0;
    for (std::size_t i = 0; pos < stream.size() && !r.finished(); ++i) {
      std::size_t n = std::min<std::size_t>(steps[i % 4] + 1u, stream.size() - pos);
      // Each chunk in its own allocation, so a read past it is caught by ASan.
      std::vector<uint8_t> chunk(stream.begin() + static_cast<std::ptrdiff_t>(pos),
                                 stream.begin() + static_cast<std::ptrdiff_t>(pos + n));
      r.feed(chunk.data(), chunk.size(), chunk_events);
      check_buffered(r, opts.max_message_bytes);
      pos += n;
    }
  }
  check(whole_events.events == chunk_events.events,
        "feeding in chunks reports other events than feeding at once");
  return 0;
}
