#include "net/ws_reader.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "actors/deflate.hpp"
#include "tests/support/ws_test_frames.hpp"

namespace plexus::net::ws {
namespace {

using test::client_close;
using test::client_frame;
using test::client_frame_raw;
using test::client_header;
using test::feed_in_steps;
using test::recording_handler;
using test::ws_event;
using kind = ws_event::kind;

ws_event msg(std::string payload, bool text = true) {
  return {kind::message, text, 0, std::move(payload)};
}
ws_event ping(std::string payload) {
  return {kind::ping, false, 0, std::move(payload)};
}
ws_event pong(std::string payload) {
  return {kind::pong, false, 0, std::move(payload)};
}
ws_event closed(uint16_t code, std::string reason = {}) {
  return {kind::close, false, code, std::move(reason)};
}

std::string describe(const std::vector<ws_event>& events) {
  std::string s;
  for (const auto& e : events) {
    s += test::to_string(e) + "\n";
  }
  return s;
}

reader_options defaults() {
  return reader_options{};
}

reader_options with_deflate(bool no_context_takeover = true) {
  reader_options o;
  o.deflate = true;
  o.client_no_context_takeover = no_context_takeover;
  return o;
}

std::vector<ws_event> run(std::string_view bytes, reader_options opts = defaults(),
                          std::size_t step = 0) {
  reader r(opts);
  recording_handler h;
  feed_in_steps(r, bytes, step == 0 ? std::max<std::size_t>(bytes.size(), 1) : step, h);
  return h.events;
}

// The close code of the single protocol error the input causes (0 when none).
uint16_t error_code(std::string_view bytes, reader_options opts = defaults()) {
  auto events = run(bytes, opts);
  if (events.empty() || events.back().what != kind::error) {
    return 0;
  }
  return events.back().code;
}

std::string text(std::string_view s, bool fin = true, uint32_t mask = 0x37fa213d) {
  return client_frame(opcode::text, s, fin, false, mask);
}
std::string cont(std::string_view s, bool fin = true) {
  return client_frame(opcode::continuation, s, fin);
}

// A conversation touching every header form and both kinds of reassembly.
std::string conversation() {
  std::string c;
  c += text("Hello");
  c += client_frame(opcode::binary, std::string(126, '\x01'), true, false, 0x01020304);
  c += text("frag", false, 0xdeadbeef);
  c += client_frame(opcode::ping, "are you there?");
  c += cont("mented ", false);
  c += client_frame(opcode::pong, "");
  c += cont("\xE2\x82\xAC text");
  c += client_frame(opcode::binary, std::string(70000, 'z'), true, false, 0xa5a5a5a5);
  c += text("");
  c += client_close(1000, "bye");
  return c;
}

std::vector<ws_event> conversation_events() {
  return {msg("Hello"),
          msg(std::string(126, '\x01'), false),
          ping("are you there?"),
          pong(""),
          msg("fragmented \xE2\x82\xAC text"),
          msg(std::string(70000, 'z'), false),
          msg(""),
          closed(1000, "bye")};
}

reader_options big() {
  reader_options o;
  o.max_message_bytes = 1 << 20;
  return o;
}

TEST(ws_reader, delivers_whole_messages) {
  std::string binary("\x00\xff"
                     "b",
                     3);
  auto events = run(text("Hello") + client_frame(opcode::binary, binary));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], msg("Hello"));
  EXPECT_EQ(events[1], msg(binary, false));
}

TEST(ws_reader, whole_conversation_at_once) {
  EXPECT_EQ(run(conversation(), big()), conversation_events());
}

TEST(ws_reader, whole_conversation_one_byte_at_a_time) {
  EXPECT_EQ(run(conversation(), big(), 1), conversation_events());
}

TEST(ws_reader, whole_conversation_in_odd_steps) {
  for (std::size_t step : {2u, 3u, 7u, 13u, 125u, 1000u, 65537u}) {
    EXPECT_EQ(run(conversation(), big(), step), conversation_events()) << step;
  }
}

TEST(ws_reader, frame_split_at_every_position) {
  std::string frames = text("abc\xC3\xA9"
                            "defghij")
                       + client_frame(opcode::ping, "p")
                       + client_frame(opcode::binary, std::string(300, 'q'))
                       + client_frame(opcode::binary, std::string(65536, 'w'));
  std::vector<ws_event> expected
    = {msg("abc\xC3\xA9"
           "defghij"),
       ping("p"), msg(std::string(300, 'q'), false), msg(std::string(65536, 'w'), false)};
  for (std::size_t cut = 0; cut <= frames.size(); cut += cut < 400 ? 1 : 997) {
    reader r(defaults());
    recording_handler h;
    std::string copy = frames;
    auto* p = reinterpret_cast<uint8_t*>(copy.data());
    r.feed(p, cut, h);
    r.feed(p + cut, copy.size() - cut, h);
    ASSERT_EQ(h.events, expected) << "cut at " << cut << "\n" << describe(h.events);
    EXPECT_EQ(r.buffered_bytes(), 0u);
  }
  // Three pieces, through every pair of cuts inside the first two frames.
  for (std::size_t a = 0; a < 24; ++a) {
    for (std::size_t b = a; b < 32; ++b) {
      reader r(defaults());
      recording_handler h;
      std::string copy = frames;
      auto* p = reinterpret_cast<uint8_t*>(copy.data());
      r.feed(p, a, h);
      r.feed(p + a, b - a, h);
      r.feed(p + b, copy.size() - b, h);
      ASSERT_EQ(h.events, expected) << a << " " << b;
    }
  }
}

TEST(ws_reader, fragmented_text_with_interleaved_control_frames) {
  std::string in = text("Hel", false) + client_frame(opcode::ping, "1") + cont("lo ", false)
                   + client_frame(opcode::pong, "2") + cont("", false) + cont("world");
  std::vector<ws_event> expected = {ping("1"), pong("2"), msg("Hello world")};
  EXPECT_EQ(run(in), expected);
  EXPECT_EQ(run(in, defaults(), 1), expected);
}

TEST(ws_reader, whole_message_is_delivered_from_the_callers_buffer) {
  struct pointer_handler : recording_handler {
    const char* seen = nullptr;
    void on_message(bool t, std::string_view payload) override {
      seen = payload.data();
      recording_handler::on_message(t, payload);
    }
  };
  std::string frame = text("zero copy please");
  reader r(defaults());
  pointer_handler h;
  r.feed(reinterpret_cast<uint8_t*>(frame.data()), frame.size(), h);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.seen, frame.data() + 6);
  EXPECT_EQ(r.buffered_bytes(), 0u);
}

TEST(ws_reader, buffers_are_released_after_a_large_message) {
  reader r(big());
  recording_handler h;
  std::string frame = client_frame(opcode::binary, std::string(500000, 'x'));
  auto* p = reinterpret_cast<uint8_t*>(frame.data());
  r.feed(p, 100000, h);
  EXPECT_GT(r.buffered_bytes(), 90000u);
  r.feed(p + 100000, frame.size() - 100000, h);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(r.buffered_bytes(), 0u);
  // A partial header is held, then nothing.
  std::string next = text("x");
  r.feed(reinterpret_cast<uint8_t*>(next.data()), 3, h);
  EXPECT_EQ(r.buffered_bytes(), 3u);
  r.feed(reinterpret_cast<uint8_t*>(next.data()) + 3, next.size() - 3, h);
  EXPECT_EQ(r.buffered_bytes(), 0u);
  EXPECT_EQ(h.events.back(), msg("x"));
}

TEST(ws_reader, close_frames) {
  EXPECT_EQ(run(client_frame(opcode::close, "")), std::vector<ws_event>{closed(1005)});
  EXPECT_EQ(run(client_close(1000)), std::vector<ws_event>{closed(1000)});
  EXPECT_EQ(run(client_close(4001, "token expired")),
            std::vector<ws_event>{closed(4001, "token expired")});
  EXPECT_EQ(run(client_close(3000, "\xC3\xA9t\xC3\xA9")),
            std::vector<ws_event>{closed(3000, "\xC3\xA9t\xC3\xA9")});
  // Input after the close is ignored.
  reader r(defaults());
  recording_handler h;
  feed_in_steps(r, client_close(1001) + text("late"), 1000, h);
  EXPECT_EQ(h.events, std::vector<ws_event>{closed(1001)});
  EXPECT_TRUE(r.finished());
  feed_in_steps(r, text("later"), 1000, h);
  EXPECT_EQ(h.events.size(), 1u);
}

TEST(ws_reader, close_frame_errors) {
  EXPECT_EQ(error_code(client_frame(opcode::close, "\x03")), 1002);
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1012, 1015, 1016, 1100, 2000, 2999, 5000}) {
    std::string payload = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    EXPECT_EQ(error_code(client_frame(opcode::close, payload)), 1002) << code;
  }
  EXPECT_EQ(error_code(client_frame(opcode::close, std::string("\x03\xE8\xFF", 3))), 1007);
  EXPECT_EQ(error_code(client_frame(opcode::close, std::string("\x03\xE8\xED\xA0\x80", 5))), 1007);
}

TEST(ws_reader, header_errors) {
  EXPECT_EQ(error_code(client_frame_raw(0x81, "unmasked", 0, false)), 1002);
  EXPECT_EQ(error_code(client_frame_raw(0xA1, "rsv2")), 1002);
  EXPECT_EQ(error_code(client_frame_raw(0x91, "rsv3")), 1002);
  EXPECT_EQ(error_code(client_frame_raw(0xC1, "rsv1 without deflate")), 1002);
  for (uint8_t op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    EXPECT_EQ(error_code(client_frame_raw(static_cast<uint8_t>(0x80 | op), "x")), 1002) << op;
  }
}

TEST(ws_reader, rsv1_errors_with_deflate) {
  std::string z = actors::deflate_message("hello");
  EXPECT_EQ(error_code(client_frame_raw(0x41, z) + client_frame_raw(0xC0, z), with_deflate()),
            1002);
  EXPECT_EQ(error_code(client_frame_raw(0xC9, "ping"), with_deflate()), 1002);
  EXPECT_EQ(error_code(client_frame_raw(0xC8, ""), with_deflate()), 1002);
}

TEST(ws_reader, control_frame_errors) {
  EXPECT_EQ(run(client_frame(opcode::ping, std::string(125, 'p'))),
            std::vector<ws_event>{ping(std::string(125, 'p'))});
  EXPECT_EQ(error_code(client_frame(opcode::ping, std::string(126, 'p'))), 1002);
  EXPECT_EQ(error_code(client_frame(opcode::pong, std::string(126, 'p'))), 1002);
  EXPECT_EQ(error_code(client_frame(opcode::close, std::string(126, 'p'))), 1002);
  EXPECT_EQ(error_code(client_frame(opcode::ping, "frag", false)), 1002);
  EXPECT_EQ(error_code(client_frame(opcode::close, "", false)), 1002);
}

TEST(ws_reader, fragmentation_errors) {
  EXPECT_EQ(error_code(cont("orphan")), 1002);
  EXPECT_EQ(error_code(cont("orphan", false)), 1002);
  EXPECT_EQ(error_code(text("a", false) + text("b")), 1002);
  EXPECT_EQ(error_code(text("a", false) + client_frame(opcode::binary, "b")), 1002);
  EXPECT_EQ(error_code(text("done") + cont("more")), 1002);
}

TEST(ws_reader, errors_stop_the_reader) {
  reader r(defaults());
  recording_handler h;
  feed_in_steps(r, text("ok") + cont("bad") + text("after"), 1000, h);
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[0], msg("ok"));
  EXPECT_EQ(h.events[1].what, kind::error);
  EXPECT_TRUE(r.finished());
  feed_in_steps(r, text("later"), 1, h);
  EXPECT_EQ(h.events.size(), 2u);
  EXPECT_EQ(r.buffered_bytes(), 0u);
}

TEST(ws_reader, size_limits_are_checked_on_the_declared_length) {
  reader_options o;
  o.max_message_bytes = 1000;
  EXPECT_EQ(run(text(std::string(1000, 'a')), o),
            std::vector<ws_event>{msg(std::string(1000, 'a'))});
  EXPECT_EQ(error_code(text(std::string(1001, 'a')), o), 1009);
  // Only the header arrives: refused before any payload is buffered.
  reader r(o);
  recording_handler h;
  std::string header = client_header(0x82, 5000);
  r.feed(reinterpret_cast<uint8_t*>(header.data()), header.size(), h);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].code, 1009);
  EXPECT_EQ(r.buffered_bytes(), 0u);
  // The running total of fragments counts.
  EXPECT_EQ(error_code(text(std::string(600, 'a'), false) + cont(std::string(401, 'b')), o), 1009);
  EXPECT_EQ(run(text(std::string(600, 'a'), false) + cont(std::string(400, 'b')), o).size(), 1u);
}

TEST(ws_reader, huge_length_headers_never_allocate) {
  uint8_t top_bit[] = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
  reader r(defaults());
  recording_handler h;
  r.feed(top_bit, sizeof(top_bit), h);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].code, 1002);
  EXPECT_EQ(r.buffered_bytes(), 0u);

  for (uint64_t len : {(uint64_t{1} << 63) - 1, uint64_t{1} << 62, uint64_t{1} << 32}) {
    reader_options o;
    o.max_message_bytes = 1 << 30;
    reader r2(o);
    recording_handler h2;
    std::string header = client_header(0x81, len);
    r2.feed(reinterpret_cast<uint8_t*>(header.data()), header.size(), h2);
    ASSERT_EQ(h2.events.size(), 1u);
    EXPECT_EQ(h2.events[0].code, 1009);
    EXPECT_EQ(r2.buffered_bytes(), 0u);
  }
  // Also when the limit is as large as it gets: the payload is streamed, not reserved.
  reader_options unlimited;
  unlimited.max_message_bytes = std::numeric_limits<std::size_t>::max();
  reader r3(unlimited);
  recording_handler h3;
  std::string header = client_header(0x82, (uint64_t{1} << 63) - 1);
  r3.feed(reinterpret_cast<uint8_t*>(header.data()), header.size(), h3);
  EXPECT_TRUE(h3.events.empty());
  EXPECT_EQ(r3.buffered_bytes(), 0u);
}

TEST(ws_reader, invalid_utf8_is_1007) {
  EXPECT_EQ(error_code(text("bad \xC0\xAF")), 1007);
  EXPECT_EQ(error_code(text("surrogate \xED\xA0\x80")), 1007);
  // Incomplete at the end of the message.
  EXPECT_EQ(error_code(text("cut \xE2\x82")), 1007);
  EXPECT_EQ(error_code(text("cut \xE2", false) + cont("\x82")), 1007);
  // A code point split across fragments is fine.
  EXPECT_EQ(run(text("euro \xE2", false) + cont("\x82", false) + cont("\xAC")),
            std::vector<ws_event>{msg("euro \xE2\x82\xAC")});
  // Binary messages are not checked.
  EXPECT_EQ(run(client_frame(opcode::binary, "\xC0\xAF")).at(0).what, kind::message);
}

TEST(ws_reader, invalid_utf8_fails_fast_in_the_first_fragment) {
  // Autobahn 6.4.1: kosme + an invalid sequence, then more fragments that never get read.
  reader r(defaults());
  recording_handler h;
  std::string first = text("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xF4\x90\x80\x80", false);
  r.feed(reinterpret_cast<uint8_t*>(first.data()), first.size(), h);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].code, 1007);
  std::string rest = cont("edited", true);
  r.feed(reinterpret_cast<uint8_t*>(rest.data()), rest.size(), h);
  EXPECT_EQ(h.events.size(), 1u);
}

TEST(ws_reader, invalid_utf8_fails_fast_inside_a_frame) {
  // Autobahn 6.4.3: one frame, delivered in chops; the bad byte is in the second chop.
  std::string frame = text("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xF4\x90\x80\x80hello");
  reader r(defaults());
  recording_handler h;
  auto* p = reinterpret_cast<uint8_t*>(frame.data());
  r.feed(p, 10, h);
  EXPECT_TRUE(h.events.empty());
  r.feed(p, 0, h);
  r.feed(p + 10, 9, h); // header (6) + 13 payload bytes: through 0xF4 0x90
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].code, 1007);
}

std::vector<std::string> split3(const std::string& s) {
  std::size_t a = s.size() / 3;
  std::size_t b = 2 * s.size() / 3;
  return {s.substr(0, a), s.substr(a, b - a), s.substr(b)};
}

TEST(ws_reader, compressed_messages) {
  std::string plain = "compressed \xC3\xA9 text " + std::string(2000, 'r');
  std::string z = actors::deflate_message(plain);
  EXPECT_EQ(run(client_frame(opcode::text, z, true, true), with_deflate()),
            std::vector<ws_event>{msg(plain)});
  EXPECT_EQ(run(client_frame(opcode::binary, z, true, true), with_deflate(), 1),
            std::vector<ws_event>{msg(plain, false)});
  // Fragmented: RSV1 on the first frame only; a ping in the middle.
  auto parts = split3(z);
  std::string in = client_frame(opcode::text, parts[0], false, true)
                   + client_frame(opcode::ping, "x") + cont(parts[1], false) + cont(parts[2]);
  std::vector<ws_event> expected = {ping("x"), msg(plain)};
  EXPECT_EQ(run(in, with_deflate()), expected);
  EXPECT_EQ(run(in, with_deflate(false), 3), expected);
  // Uncompressed messages still work when deflate is negotiated.
  EXPECT_EQ(run(text("plain"), with_deflate()), std::vector<ws_event>{msg("plain")});
}

TEST(ws_reader, compressed_messages_with_context_takeover) {
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string in;
  std::string plain = "a repeated message, again and again";
  for (int i = 0; i < 3; ++i) {
    std::string z(200, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(plain.data());
    zs.avail_in = static_cast<uInt>(plain.size());
    zs.next_out = reinterpret_cast<Bytef*>(z.data());
    zs.avail_out = static_cast<uInt>(z.size());
    ASSERT_EQ(deflate(&zs, Z_SYNC_FLUSH), Z_OK);
    z.resize(z.size() - zs.avail_out - 4);
    in += client_frame(opcode::text, z, true, true);
  }
  deflateEnd(&zs);
  std::vector<ws_event> expected(3, msg(plain));
  EXPECT_EQ(run(in, with_deflate(false)), expected);
  EXPECT_EQ(run(in, with_deflate(false), 1), expected);
}

TEST(ws_reader, compressed_errors) {
  // Corrupt deflate data.
  EXPECT_EQ(error_code(client_frame(opcode::text, "\xff\xff\xff", true, true), with_deflate()),
            1007);
  // Invalid UTF-8 after inflation.
  std::string z = actors::deflate_message("bad \xC0\xAF utf8");
  EXPECT_EQ(error_code(client_frame(opcode::text, z, true, true), with_deflate()), 1007);
  // A bomb: 10 MB of zeros in ~10 KB.
  std::string bomb = actors::deflate_message(std::string(10 << 20, '\0'));
  EXPECT_LT(bomb.size(), 20000u);
  reader r(with_deflate());
  recording_handler h;
  feed_in_steps(r, client_frame(opcode::binary, bomb, true, true), 1 << 20, h);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].code, 1009);
  EXPECT_EQ(r.buffered_bytes(), 0u);
  // Compressed size far over the limit is refused from the header.
  EXPECT_EQ(error_code(client_header(0xC2, 200000), with_deflate()), 1009);
}

// Random mutations of a valid conversation and plain random bytes must never crash,
// hang or hold more than a message's worth of memory.
TEST(ws_reader, random_input_fuzz) {
  std::mt19937_64 rng(20240611);
  std::string base = conversation();
  std::string z = actors::deflate_message(std::string(3000, 'k'));
  base.insert(0, client_frame(opcode::text, z, true, true));
  reader_options variants[] = {defaults(), with_deflate(), with_deflate(false)};
  std::size_t messages = 0;
  std::size_t errors = 0;
  for (int round = 0; round < 10000; ++round) {
    std::string input;
    if (round % 2 == 0) {
      input.resize(rng() % 300);
      for (auto& c : input) {
        c = static_cast<char>(rng());
      }
      // Mostly masked headers, so the fuzz gets past the first check.
      if (!input.empty() && input.size() > 1 && rng() % 2 == 0) {
        input[1] = static_cast<char>(input[1] | 0x80);
      }
    } else {
      input = base.substr(0, rng() % base.size());
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips && !input.empty(); ++f) {
        input[rng() % input.size()] ^= static_cast<char>(1u << (rng() % 8));
      }
    }
    reader r(variants[round % 3]);
    recording_handler h;
    feed_in_steps(r, input, 1 + rng() % 64, h);
    // At most a compressed message's allowance plus a control frame.
    EXPECT_LE(r.buffered_bytes(), 65536u + 65536u / 8 + 64 + 125);
    for (const auto& e : h.events) {
      messages += e.what == kind::message;
      errors += e.what == kind::error;
      if (e.what == kind::error) {
        EXPECT_TRUE(e.code == 1002 || e.code == 1007 || e.code == 1009) << e.code;
      }
    }
    if (r.finished()) {
      EXPECT_EQ(r.buffered_bytes(), 0u);
    }
  }
  EXPECT_GT(messages, 0u);
  EXPECT_GT(errors, 0u);
}

} // namespace
} // namespace plexus::net::ws
