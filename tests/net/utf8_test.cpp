#include "net/utf8.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace plexus::net {
namespace {

// A straightforward decoder (RFC 3629) to check the DFA against.
bool reference_valid(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<uint8_t>(s[i]);
    uint32_t cp = 0;
    std::size_t len = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      cp = b & 0x1F;
      len = 2;
    } else if ((b & 0xF0) == 0xE0) {
      cp = b & 0x0F;
      len = 3;
    } else if ((b & 0xF8) == 0xF0) {
      cp = b & 0x07;
      len = 4;
    } else {
      return false;
    }
    if (i + len > s.size()) {
      return false;
    }
    for (std::size_t k = 1; k < len; ++k) {
      auto c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (c & 0x3F);
    }
    static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) {
    s.push_back(static_cast<char>(x));
  }
  return s;
}

TEST(utf8, accepts_well_formed_text) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii text that is longer than eight bytes"));
  EXPECT_TRUE(valid_utf8("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5")); // kosme
  EXPECT_TRUE(valid_utf8(bytes({0xC2, 0x80})));                            // U+0080
  EXPECT_TRUE(valid_utf8(bytes({0xDF, 0xBF})));                            // U+07FF
  EXPECT_TRUE(valid_utf8(bytes({0xE0, 0xA0, 0x80})));                      // U+0800
  EXPECT_TRUE(valid_utf8(bytes({0xED, 0x9F, 0xBF})));                      // U+D7FF
  EXPECT_TRUE(valid_utf8(bytes({0xEE, 0x80, 0x80})));                      // U+E000
  EXPECT_TRUE(valid_utf8(bytes({0xEF, 0xBF, 0xBF})));                      // U+FFFF
  EXPECT_TRUE(valid_utf8(bytes({0xF0, 0x90, 0x80, 0x80})));                // U+10000
  EXPECT_TRUE(valid_utf8(bytes({0xF4, 0x8F, 0xBF, 0xBF})));                // U+10FFFF
  EXPECT_TRUE(valid_utf8(std::string("a\0b", 3)));
}

TEST(utf8, rejects_overlongs_surrogates_and_out_of_range) {
  EXPECT_FALSE(valid_utf8(bytes({0xC0, 0xAF}))); // overlong '/'
  EXPECT_FALSE(valid_utf8(bytes({0xC1, 0xBF})));
  EXPECT_FALSE(valid_utf8(bytes({0xE0, 0x80, 0xAF}))); // overlong 3 bytes
  EXPECT_FALSE(valid_utf8(bytes({0xE0, 0x9F, 0xBF})));
  EXPECT_FALSE(valid_utf8(bytes({0xF0, 0x80, 0x80, 0xAF}))); // overlong 4 bytes
  EXPECT_FALSE(valid_utf8(bytes({0xF0, 0x8F, 0xBF, 0xBF})));
  EXPECT_FALSE(valid_utf8(bytes({0xED, 0xA0, 0x80})));       // U+D800
  EXPECT_FALSE(valid_utf8(bytes({0xED, 0xBF, 0xBF})));       // U+DFFF
  EXPECT_FALSE(valid_utf8(bytes({0xF4, 0x90, 0x80, 0x80}))); // U+110000
  EXPECT_FALSE(valid_utf8(bytes({0xF5, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(valid_utf8(bytes({0xFE})));
  EXPECT_FALSE(valid_utf8(bytes({0xFF})));
  EXPECT_FALSE(valid_utf8(bytes({0x80}))); // lone continuation
  EXPECT_FALSE(valid_utf8(bytes({0xC3}))); // truncated
  EXPECT_FALSE(valid_utf8(bytes({0xE2, 0x82})));
  EXPECT_FALSE(valid_utf8(bytes({0xC3, 0x41})));
}

TEST(utf8, rejects_at_the_first_byte_that_cannot_continue) {
  // Autobahn 6.4.x: the server must fail on the bad byte, not when the message ends.
  struct fail_case {
    std::string prefix_ok; // every prefix of this is still possibly valid
    int bad;               // this byte makes it invalid
  };
  const fail_case cases[] = {
    {"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xF4", 0x90},
    {"hello\xED", 0xA0},
    {"hello\xE0", 0x80},
    {"hello\xF0", 0x8F},
    {"hello", 0xC0},
    {"hello", 0xF8},
  };
  for (const auto& c : cases) {
    utf8_validator v;
    for (char ch : c.prefix_ok) {
      auto b = static_cast<uint8_t>(ch);
      ASSERT_TRUE(v.feed(&b, 1));
    }
    auto bad = static_cast<uint8_t>(c.bad);
    EXPECT_FALSE(v.feed(&bad, 1)) << c.bad;
    // Once rejected, always rejected.
    EXPECT_FALSE(v.feed("abc"));
    EXPECT_FALSE(v.complete());
  }
}

TEST(utf8, incremental_feeding_tracks_incomplete_sequences) {
  utf8_validator v;
  EXPECT_TRUE(v.feed("\xF0\x9F"));
  EXPECT_FALSE(v.complete());
  EXPECT_TRUE(v.feed("\x98"));
  EXPECT_FALSE(v.complete());
  EXPECT_TRUE(v.feed("\x80 ok"));
  EXPECT_TRUE(v.complete());
  v.reset();
  EXPECT_TRUE(v.complete());
}

TEST(utf8, every_two_and_three_byte_sequence_matches_the_reference) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      std::string s = bytes({a, b});
      ASSERT_EQ(valid_utf8(s), reference_valid(s)) << a << " " << b;
    }
  }
  for (int a = 0xE0; a <= 0xEF; ++a) {
    for (int b = 0x70; b < 0xD0; ++b) {
      for (int c = 0x70; c < 0xD0; ++c) {
        std::string s = bytes({a, b, c});
        ASSERT_EQ(valid_utf8(s), reference_valid(s)) << a << " " << b << " " << c;
      }
    }
  }
}

TEST(utf8, random_strings_match_the_reference_whole_and_in_pieces) {
  std::mt19937 rng(12345);
  const uint8_t interesting[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0,
                                 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF3, 0xF4, 0xF5};
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    std::size_t len = rng() % 24;
    for (std::size_t i = 0; i < len; ++i) {
      s.push_back(static_cast<char>(interesting[rng() % sizeof(interesting)]));
    }
    bool expected = reference_valid(s);
    ASSERT_EQ(valid_utf8(s), expected);
    utf8_validator v;
    bool ok = true;
    std::size_t i = 0;
    while (i < s.size() && ok) {
      std::size_t k = std::min<std::size_t>(1 + rng() % 5, s.size() - i);
      ok = v.feed(std::string_view(s).substr(i, k));
      i += k;
    }
    ASSERT_EQ(ok && v.complete(), expected);
  }
}

} // namespace
} // namespace plexus::net
