#include "net/deflate.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "actors/deflate.hpp"
#include "actors/frame.hpp"

namespace plexus::net::ws {
namespace {

std::string hex(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) {
    s.push_back(static_cast<char>(x));
  }
  return s;
}

std::string chat_text(std::size_t n, unsigned seed = 1) {
  static const char* words[] = {"hello", "world",  "plexus",  "room",     "message",
                                "user",  "typing", "channel", "presence", "\xC3\xA9t\xC3\xA9"};
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) {
    s += words[rng() % 10];
    s += ' ';
  }
  s.resize(n);
  return s;
}

std::string random_bytes(std::size_t n, unsigned seed = 2) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) {
    c = static_cast<char>(rng());
  }
  return s;
}

// A raw deflate stream as a client would send it, with a chosen window, tail stripped.
std::string client_deflate(std::string_view in, int window_bits) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&zs, in.size()) + 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_SYNC_FLUSH), Z_OK);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  EXPECT_EQ(out.substr(out.size() - 4), hex({0, 0, 0xff, 0xff}));
  out.resize(out.size() - 4);
  return out;
}

TEST(deflate, round_trip_of_deflate_message_through_the_inflater) {
  inflater inf(15);
  for (std::size_t n : {0u, 1u, 5u, 300u, 4096u, 65536u, 200000u}) {
    for (const std::string& plain : {chat_text(n), random_bytes(n)}) {
      std::string z = actors::deflate_message(plain);
      ASSERT_FALSE(z.empty());
      std::string out;
      ASSERT_EQ(inf.inflate_message(z, 1 << 20, out, true), inflate_status::ok) << n;
      EXPECT_EQ(out, plain) << n;
    }
  }
  // Chat text compresses well.
  std::string text = chat_text(4096);
  EXPECT_LT(actors::deflate_message(text).size(), text.size() / 2);
}

TEST(deflate, deflate_message_has_no_context_takeover) {
  // Each message must inflate on its own: recipients join at different times.
  std::string a = chat_text(1000, 3);
  EXPECT_EQ(actors::deflate_message(a), actors::deflate_message(a));
  actors::deflate_message(chat_text(5000, 4));
  std::string z = actors::deflate_message(a);
  inflater fresh(15);
  std::string out;
  ASSERT_EQ(fresh.inflate_message(z, 1 << 20, out, false), inflate_status::ok);
  EXPECT_EQ(out, a);
}

TEST(deflate, deflate_message_is_the_same_on_every_thread) {
  std::string plain = chat_text(20000, 9);
  std::string expected = actors::deflate_message(plain);
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        results[t] = actors::deflate_message(plain);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto& r : results) {
    EXPECT_EQ(r, expected);
  }
}

TEST(deflate, rfc7692_examples) {
  inflater inf(15);
  std::string out;
  // 7.2.3.1: "Hello" compressed.
  ASSERT_EQ(inf.inflate_message(hex({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), 100, out, false),
            inflate_status::ok);
  EXPECT_EQ(out, "Hello");
  // 7.2.3.2: a second "Hello" referring to the first through the shared window.
  ASSERT_EQ(inf.inflate_message(hex({0xf2, 0x00, 0x11, 0x00, 0x00}), 100, out, true),
            inflate_status::ok);
  EXPECT_EQ(out, "Hello");
  // After a reset the back-reference has nothing to point to.
  EXPECT_EQ(inf.inflate_message(hex({0xf2, 0x00, 0x11, 0x00, 0x00}), 100, out, true),
            inflate_status::error);
  // 7.2.3.3: a stored block; 7.2.3.4: BFINAL set.
  ASSERT_EQ(
    inf.inflate_message(hex({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}),
                        100, out, false),
    inflate_status::ok);
  EXPECT_EQ(out, "Hello");
  ASSERT_EQ(inf.inflate_message(hex({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), 100, out, false),
            inflate_status::ok);
  EXPECT_EQ(out, "Hello");
  // The stream ended with BFINAL; the next message starts a new one.
  ASSERT_EQ(inf.inflate_message(hex({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), 100, out, false),
            inflate_status::ok);
  EXPECT_EQ(out, "Hello");
}

TEST(deflate, context_takeover_across_messages_of_a_client_stream) {
  // A client keeping its window sends the second copy as a short back-reference.
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  inflater inf(15);
  std::string msg = chat_text(3000, 5);
  for (int i = 0; i < 3; ++i) {
    std::string z(8000, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(msg.data());
    zs.avail_in = static_cast<uInt>(msg.size());
    zs.next_out = reinterpret_cast<Bytef*>(z.data());
    zs.avail_out = static_cast<uInt>(z.size());
    ASSERT_EQ(deflate(&zs, Z_SYNC_FLUSH), Z_OK);
    z.resize(z.size() - zs.avail_out - 4);
    if (i > 0) {
      EXPECT_LT(z.size(), 50u);
    }
    std::string out;
    ASSERT_EQ(inf.inflate_message(z, 1 << 20, out, false), inflate_status::ok);
    EXPECT_EQ(out, msg);
  }
  deflateEnd(&zs);
}

TEST(deflate, small_windows_as_negotiated) {
  std::string plain = chat_text(20000, 6);
  for (int bits = 9; bits <= 15; ++bits) {
    inflater inf(bits);
    std::string out;
    ASSERT_EQ(inf.inflate_message(client_deflate(plain, bits), 1 << 20, out, true),
              inflate_status::ok)
      << bits;
    EXPECT_EQ(out, plain);
  }
  // A client that agreed to 8 deflates with 9 (zlib has no 8-bit raw deflate window).
  inflater inf8(8);
  std::string out;
  ASSERT_EQ(inf8.inflate_message(client_deflate(plain, 9), 1 << 20, out, true), inflate_status::ok);
  EXPECT_EQ(out, plain);
}

TEST(deflate, limit_is_inclusive) {
  std::string plain(10000, 'a');
  std::string z = actors::deflate_message(plain);
  inflater inf(15);
  std::string out;
  EXPECT_EQ(inf.inflate_message(z, 10000, out, true), inflate_status::ok);
  EXPECT_EQ(out.size(), 10000u);
  EXPECT_EQ(inf.inflate_message(z, 9999, out, true), inflate_status::too_big);
  EXPECT_TRUE(out.empty());
  // The inflater is usable again after refusing a message.
  EXPECT_EQ(inf.inflate_message(z, 10000, out, true), inflate_status::ok);
  EXPECT_EQ(out, plain);
}

TEST(deflate, decompression_bomb_stops_at_the_limit) {
  // 100 MB of zeros deflate to ~100 KB (deflate's ratio tops out near 1:1032).
  constexpr std::size_t total = 100u << 20;
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string zeros(1 << 20, '\0');
  std::string bomb;
  std::string buf(1 << 16, '\0');
  for (std::size_t fed = 0; fed < total; fed += zeros.size()) {
    zs.next_in = reinterpret_cast<Bytef*>(zeros.data());
    zs.avail_in = static_cast<uInt>(zeros.size());
    int flush = fed + zeros.size() >= total ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf.data());
      zs.avail_out = static_cast<uInt>(buf.size());
      ASSERT_NE(deflate(&zs, flush), Z_STREAM_ERROR);
      bomb.append(buf.data(), buf.size() - zs.avail_out);
    } while (zs.avail_out == 0);
  }
  deflateEnd(&zs);
  bomb.resize(bomb.size() - 4);
  EXPECT_LT(bomb.size(), 200u * 1024);

  constexpr std::size_t limit = 1 << 20;
  inflater inf(15);
  std::string out;
  EXPECT_EQ(inf.inflate_message(bomb, limit, out, true), inflate_status::too_big);
  // At most limit + 1 bytes were ever produced (plus string growth slack).
  EXPECT_LE(out.capacity(), 2 * limit + 64);

  // A small limit on a tiny bomb.
  std::string small_bomb = actors::deflate_message(std::string(1 << 20, '\0'));
  EXPECT_LT(small_bomb.size(), 2000u);
  std::string small_out;
  EXPECT_EQ(inf.inflate_message(small_bomb, 65536, small_out, true), inflate_status::too_big);
  EXPECT_LE(small_out.capacity(), 2 * 65536u + 64);
}

TEST(deflate, corrupt_input_is_an_error_and_the_inflater_recovers) {
  inflater inf(15);
  std::string out;
  // Block type 3 is reserved.
  EXPECT_EQ(inf.inflate_message(hex({0xff, 0xff, 0xff}), 100, out, false), inflate_status::error);
  // A stored block whose NLEN is not the complement of LEN.
  EXPECT_EQ(inf.inflate_message(hex({0x00, 0x05, 0x00, 0x00, 0x00, 'H', 'e', 'l', 'l', 'o'}), 100,
                                out, false),
            inflate_status::error);
  std::mt19937 rng(99);
  for (int i = 0; i < 2000; ++i) {
    std::string junk = random_bytes(rng() % 64, static_cast<unsigned>(i));
    auto st = inf.inflate_message(junk, 4096, out, false);
    EXPECT_LE(out.size(), 4096u);
    (void)st;
  }
  std::string z = actors::deflate_message("after the junk");
  inflater clean(15);
  ASSERT_EQ(clean.inflate_message(z, 100, out, true), inflate_status::ok);
  EXPECT_EQ(out, "after the junk");
}

TEST(deflate_variants, compresses_requested_formats_above_the_threshold) {
  actors::frame f;
  f.json = "{\"type\":\"message\",\"data\":\"" + chat_text(2000) + "\"}";
  f.msgpack = chat_text(2000, 7);
  actors::encodings e;
  e.json = true;
  e.deflate = true;
  e.deflate_min_bytes = 256;
  actors::deflate_variants(f, e);
  ASSERT_FALSE(f.json_deflated.empty());
  EXPECT_LT(f.json_deflated.size(), f.json.size());
  EXPECT_TRUE(f.msgpack_deflated.empty()); // not requested
  inflater inf(15);
  std::string out;
  ASSERT_EQ(inf.inflate_message(f.json_deflated, 1 << 20, out, true), inflate_status::ok);
  EXPECT_EQ(out, f.json);

  bool compressed = false;
  EXPECT_EQ(&f.payload_for(actors::wire_format::json, true, compressed), &f.json_deflated);
  EXPECT_TRUE(compressed);
  EXPECT_EQ(&f.payload_for(actors::wire_format::json, false, compressed), &f.json);
  EXPECT_FALSE(compressed);
}

TEST(deflate_variants, skips_small_incompressible_and_unrequested) {
  actors::encodings e;
  e.json = true;
  e.msgpack = true;
  e.deflate = true;
  e.deflate_min_bytes = 256;

  actors::frame small;
  small.json = std::string(255, 'a');
  small.msgpack = std::string(256, 'a');
  actors::deflate_variants(small, e);
  EXPECT_TRUE(small.json_deflated.empty());
  EXPECT_FALSE(small.msgpack_deflated.empty()); // exactly at the threshold

  actors::frame noise;
  noise.json = random_bytes(1000, 11);
  noise.msgpack = random_bytes(1000, 12);
  actors::deflate_variants(noise, e);
  EXPECT_TRUE(noise.json_deflated.empty());
  EXPECT_TRUE(noise.msgpack_deflated.empty());
  bool compressed = true;
  EXPECT_EQ(&noise.payload_for(actors::wire_format::msgpack, true, compressed), &noise.msgpack);
  EXPECT_FALSE(compressed);

  actors::frame off;
  off.json = std::string(5000, 'a');
  e.deflate = false;
  actors::deflate_variants(off, e);
  EXPECT_TRUE(off.json_deflated.empty());
}

} // namespace
} // namespace plexus::net::ws
