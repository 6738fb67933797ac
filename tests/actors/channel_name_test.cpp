#include "actors/channel_name.hpp"

#include <string>

#include <gtest/gtest.h>

namespace plexus::actors {
namespace {

TEST(channel_name, valid_names) {
  for (auto name : {"a", "Z", "0", "room:lobby", "user:42", "a-b_c.d:e@f/g", "chat/general",
                    "ns:sub:deep", ":leading", "trailing:", "@", "/", ".", "-", "_"}) {
    EXPECT_TRUE(valid_channel_name(name)) << name;
  }
}

TEST(channel_name, every_allowed_character) {
  std::string all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:@/";
  EXPECT_TRUE(valid_channel_name(all));
}

TEST(channel_name, every_other_byte_is_refused) {
  const std::string allowed
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:@/";
  for (int c = 0; c < 256; ++c) {
    std::string name = "a";
    name.push_back(static_cast<char>(c));
    bool expected = allowed.find(static_cast<char>(c)) != std::string::npos;
    EXPECT_EQ(valid_channel_name(name), expected) << "byte " << c;
  }
}

TEST(channel_name, empty_is_invalid) {
  EXPECT_FALSE(valid_channel_name(""));
}

TEST(channel_name, length_limit) {
  EXPECT_TRUE(valid_channel_name(std::string(max_channel_length, 'x')));
  EXPECT_FALSE(valid_channel_name(std::string(max_channel_length + 1, 'x')));
  EXPECT_EQ(max_channel_length, 128u);
}

TEST(channel_name, refuses_spaces_wildcards_and_unicode) {
  for (auto name : {"a b", "a*", "*", "room#1", "caf\xC3\xA9", "a\nb", "tab\t", "q?", "x,y"}) {
    EXPECT_FALSE(valid_channel_name(name)) << name;
  }
  EXPECT_FALSE(valid_channel_name(std::string("a\0b", 3)));
}

TEST(channel_name, namespace_is_before_first_colon) {
  EXPECT_EQ(channel_namespace("room:lobby"), "room");
  EXPECT_EQ(channel_namespace("room:a:b"), "room");
  EXPECT_EQ(channel_namespace("lobby"), "");
  EXPECT_EQ(channel_namespace(":x"), "");
  EXPECT_EQ(channel_namespace("trailing:"), "trailing");
  EXPECT_EQ(channel_namespace(""), "");
}

TEST(channel_name, personal_channel_owner) {
  EXPECT_EQ(personal_channel_owner("user:42"), "42");
  EXPECT_EQ(personal_channel_owner("user:a:b"), "a:b");
  EXPECT_EQ(personal_channel_owner("user:"), "");
  EXPECT_EQ(personal_channel_owner("user"), "");
  EXPECT_EQ(personal_channel_owner("users:42"), "");
  EXPECT_EQ(personal_channel_owner("room:42"), "");
  EXPECT_EQ(personal_channel_owner("User:42"), "");
}

TEST(channel_name, exact_patterns) {
  EXPECT_TRUE(channel_matches("room:1", "room:1"));
  EXPECT_FALSE(channel_matches("room:1", "room:10"));
  EXPECT_FALSE(channel_matches("room:10", "room:1"));
  EXPECT_FALSE(channel_matches("", "a"));
  EXPECT_TRUE(channel_matches("", ""));
}

TEST(channel_name, trailing_star_matches_any_suffix) {
  EXPECT_TRUE(channel_matches("room:*", "room:1"));
  EXPECT_TRUE(channel_matches("room:*", "room:"));
  EXPECT_TRUE(channel_matches("room:*", "room:a:b"));
  EXPECT_FALSE(channel_matches("room:*", "room"));
  EXPECT_FALSE(channel_matches("room:*", "chat:1"));
  EXPECT_TRUE(channel_matches("*", "anything"));
  EXPECT_TRUE(channel_matches("*", ""));
}

TEST(channel_name, star_only_special_at_the_end) {
  EXPECT_FALSE(channel_matches("a*b", "axxb"));
  EXPECT_TRUE(channel_matches("a*b", "a*b"));
  EXPECT_TRUE(channel_matches("a**", "a*x"));
  EXPECT_FALSE(channel_matches("a**", "ax"));
}

} // namespace
} // namespace plexus::actors
