#include "net/ws_frame.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "net/utf8.hpp"

namespace plexus::net::ws {
namespace {

std::vector<uint8_t> header(opcode op, bool fin, bool rsv1, uint64_t len) {
  std::vector<uint8_t> out(max_server_header);
  out.resize(write_header(out.data(), op, fin, rsv1, len));
  return out;
}

TEST(ws_frame, header_uses_the_shortest_length_encoding) {
  EXPECT_EQ(header(opcode::text, true, false, 0), (std::vector<uint8_t>{0x81, 0x00}));
  EXPECT_EQ(header(opcode::text, true, false, 125), (std::vector<uint8_t>{0x81, 125}));
  EXPECT_EQ(header(opcode::binary, true, false, 126), (std::vector<uint8_t>{0x82, 126, 0x00, 126}));
  EXPECT_EQ(header(opcode::binary, true, false, 65535),
            (std::vector<uint8_t>{0x82, 126, 0xFF, 0xFF}));
  EXPECT_EQ(header(opcode::binary, true, false, 65536),
            (std::vector<uint8_t>{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(header(opcode::text, true, false, 0x0102030405060708ULL),
            (std::vector<uint8_t>{0x81, 127, 1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(ws_frame, header_sets_fin_rsv1_and_opcode) {
  EXPECT_EQ(header(opcode::text, false, false, 1)[0], 0x01);
  EXPECT_EQ(header(opcode::continuation, true, false, 1)[0], 0x80);
  EXPECT_EQ(header(opcode::text, true, true, 1)[0], 0xC1);
  EXPECT_EQ(header(opcode::close, true, false, 2)[0], 0x88);
  EXPECT_EQ(header(opcode::ping, true, false, 0)[0], 0x89);
  EXPECT_EQ(header(opcode::pong, true, false, 0)[0], 0x8A);
  // Server frames are never masked.
  EXPECT_EQ(header(opcode::text, true, false, 5)[1] & 0x80, 0);
}

TEST(ws_frame, make_frame_is_header_then_payload) {
  EXPECT_EQ(make_frame(opcode::text, "Hello"), std::string("\x81\x05Hello", 7));
  std::string big(300, 'x');
  std::string f = make_frame(opcode::binary, big, true, true);
  ASSERT_EQ(f.size(), 4 + big.size());
  EXPECT_EQ(static_cast<uint8_t>(f[0]), 0xC2);
  EXPECT_EQ(f.substr(4), big);
}

TEST(ws_frame, close_payload_is_big_endian_code_and_reason) {
  EXPECT_EQ(close_payload(1000, ""), std::string("\x03\xE8", 2));
  EXPECT_EQ(close_payload(4009, "slow"), std::string("\x0F\xA9slow", 6));
}

TEST(ws_frame, close_payload_truncates_to_125_bytes_on_a_code_point_boundary) {
  std::string ascii(200, 'a');
  EXPECT_EQ(close_payload(1000, ascii).size(), 125u);
  // 61 two-byte characters = 122 bytes, then a 3-byte one that does not fit in 123.
  std::string reason;
  for (int i = 0; i < 61; ++i) {
    reason += "\xC3\xA9";
  }
  reason += "\xE2\x82\xAC";
  std::string p = close_payload(1001, reason);
  EXPECT_EQ(p.size(), 2u + 122u);
  EXPECT_TRUE(valid_utf8(p.substr(2)));
  for (int extra = 0; extra < 4; ++extra) {
    std::string r = std::string(extra, 'a') + std::string(60, 'x');
    for (int i = 0; i < 30; ++i) {
      r += "\xF0\x9F\x98\x80";
    }
    std::string q = close_payload(1000, r);
    EXPECT_LE(q.size(), 125u);
    EXPECT_TRUE(valid_utf8(q.substr(2))) << extra;
  }
}

void naive_unmask(uint8_t* data, std::size_t n, const uint8_t mask[4], std::size_t offset) {
  for (std::size_t i = 0; i < n; ++i) {
    data[i] ^= mask[(offset + i) % 4];
  }
}

TEST(ws_frame, unmask_matches_bytewise_xor_for_every_offset_length_and_alignment) {
  std::mt19937 rng(7);
  const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
  std::vector<uint8_t> buf(200);
  for (auto& b : buf) {
    b = static_cast<uint8_t>(rng());
  }
  for (std::size_t align = 0; align < 8; ++align) {
    for (std::size_t offset = 0; offset < 8; ++offset) {
      for (std::size_t n = 0; n <= 80; ++n) {
        std::vector<uint8_t> a(buf.begin(), buf.begin() + 100);
        std::vector<uint8_t> b = a;
        unmask(a.data() + align, n, mask, offset);
        naive_unmask(b.data() + align, n, mask, offset);
        ASSERT_EQ(a, b) << "align " << align << " offset " << offset << " n " << n;
      }
    }
  }
}

TEST(ws_frame, unmask_in_pieces_equals_unmask_at_once) {
  const uint8_t mask[4] = {0xA1, 0x02, 0xF3, 0x44};
  std::string text = "The quick brown fox jumps over the lazy dog, twice: the quick brown fox";
  std::vector<uint8_t> whole(text.begin(), text.end());
  unmask(whole.data(), whole.size(), mask);
  for (std::size_t cut1 = 0; cut1 <= text.size(); cut1 += 3) {
    for (std::size_t cut2 = cut1; cut2 <= text.size(); cut2 += 5) {
      std::vector<uint8_t> pieces(text.begin(), text.end());
      unmask(pieces.data(), cut1, mask, 0);
      unmask(pieces.data() + cut1, cut2 - cut1, mask, cut1);
      unmask(pieces.data() + cut2, pieces.size() - cut2, mask, cut2);
      ASSERT_EQ(pieces, whole) << cut1 << " " << cut2;
    }
  }
  // Unmasking twice restores the input.
  unmask(whole.data(), whole.size(), mask);
  EXPECT_EQ(std::string(whole.begin(), whole.end()), text);
}

TEST(ws_frame, valid_close_codes_follow_rfc6455_section_7_4) {
  for (uint16_t c :
       {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
    EXPECT_TRUE(valid_close_code(c)) << c;
  }
  for (uint16_t c :
       {0, 1, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    EXPECT_FALSE(valid_close_code(c)) << c;
  }
}

} // namespace
} // namespace plexus::net::ws
