#include "net/handshake.hpp"

#include <gtest/gtest.h>

namespace plexus::net::ws {
namespace {

TEST(handshake, accept_key_matches_rfc6455_example) {
  // RFC 6455 1.3. (A value "s3pPLMBiTxaQ9kxGzzhZOtg+HBo=" circulates in copies of the
  // example; it is not SHA-1 of the key + GUID.)
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(accept_key("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

TEST(handshake, client_key_must_be_base64_of_16_bytes) {
  EXPECT_TRUE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_TRUE(valid_client_key("AAAAAAAAAAAAAAAAAAAAAA=="));
  EXPECT_TRUE(valid_client_key("+/+/+/+/+/+/+/+/+/+/+w=="));
  EXPECT_FALSE(valid_client_key(""));
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ=")); // 23 characters
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ==="));
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZQAA")); // 18 bytes
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25j"));     // 15 bytes
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZ!=="));
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25j ZQ=="));
  EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZ=A="));
}

TEST(negotiate_deflate, chrome_offer) {
  auto a = negotiate_deflate("permessage-deflate; client_max_window_bits");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->response, "permessage-deflate; server_no_context_takeover");
  EXPECT_FALSE(a->client_no_context_takeover);
  EXPECT_EQ(a->client_max_window_bits, 15);
}

TEST(negotiate_deflate, firefox_offer) {
  auto a = negotiate_deflate("permessage-deflate");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->response, "permessage-deflate; server_no_context_takeover");
  EXPECT_FALSE(a->client_no_context_takeover);
  EXPECT_EQ(a->client_max_window_bits, 15);
}

TEST(negotiate_deflate, client_parameters_are_echoed) {
  auto a = negotiate_deflate(
    "permessage-deflate; client_no_context_takeover; client_max_window_bits=10");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->client_no_context_takeover);
  EXPECT_EQ(a->client_max_window_bits, 10);
  EXPECT_EQ(a->response, "permessage-deflate; server_no_context_takeover; "
                         "client_no_context_takeover; client_max_window_bits=10");
}

TEST(negotiate_deflate, server_parameters) {
  auto a = negotiate_deflate("permessage-deflate; server_no_context_takeover");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->response, "permessage-deflate; server_no_context_takeover");
  a = negotiate_deflate("permessage-deflate; server_max_window_bits=15");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->response, "permessage-deflate; server_no_context_takeover; "
                         "server_max_window_bits=15");
  // Broadcast frames are deflated once with a 15-bit window: a smaller one can't be kept.
  EXPECT_FALSE(negotiate_deflate("permessage-deflate; server_max_window_bits=10"));
  EXPECT_FALSE(negotiate_deflate("permessage-deflate; server_max_window_bits=8"));
}

TEST(negotiate_deflate, never_adds_client_no_context_takeover_unasked) {
  auto a = negotiate_deflate("permessage-deflate; client_max_window_bits=12");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->client_no_context_takeover);
  EXPECT_EQ(a->response.find("client_no_context_takeover"), std::string::npos);
  EXPECT_EQ(a->client_max_window_bits, 12);
}

TEST(negotiate_deflate, whitespace_case_and_quoted_values) {
  auto a = negotiate_deflate("  PerMessage-Deflate ;client_max_window_bits = \"9\" ;\t"
                             "CLIENT_NO_CONTEXT_TAKEOVER  ");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->client_max_window_bits, 9);
  EXPECT_TRUE(a->client_no_context_takeover);
  a = negotiate_deflate("permessage-deflate; server_max_window_bits=\"15\"");
  ASSERT_TRUE(a);
}

TEST(negotiate_deflate, invalid_offers_are_rejected) {
  const char* bad[] = {
    "",
    "x-webkit-deflate-frame",
    "permessage-deflate; unknown_param",
    "permessage-deflate; client_max_window_bits=16",
    "permessage-deflate; client_max_window_bits=7",
    "permessage-deflate; client_max_window_bits=010",
    "permessage-deflate; client_max_window_bits=",
    "permessage-deflate; client_max_window_bits=\"\"",
    "permessage-deflate; client_max_window_bits=abc",
    "permessage-deflate; server_max_window_bits",
    "permessage-deflate; server_max_window_bits=16",
    "permessage-deflate; server_no_context_takeover=1",
    "permessage-deflate; client_no_context_takeover=true",
    "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
    "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
    "permessage-deflate; server_max_window_bits=15; server_max_window_bits=15",
    "permessage-deflate; client_max_window_bits=\"10",
    "permessage-deflate;",
    "permessage-deflatex",
  };
  for (const char* h : bad) {
    EXPECT_FALSE(negotiate_deflate(h)) << h;
  }
}

TEST(negotiate_deflate, first_acceptable_of_several_offers) {
  // Autobahn 13.7: the first offer asks for an 8-bit server window, the second fits.
  auto a = negotiate_deflate("permessage-deflate; server_no_context_takeover; "
                             "server_max_window_bits=8, permessage-deflate; "
                             "client_no_context_takeover, permessage-deflate");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->client_no_context_takeover);
  a = negotiate_deflate("foo, permessage-deflate; bogus, permessage-deflate; "
                        "client_max_window_bits=11, permessage-deflate");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->client_max_window_bits, 11);
  // A comma inside a quoted value does not split offers.
  a = negotiate_deflate("permessage-deflate; client_max_window_bits=\"1,0\", permessage-deflate");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->client_max_window_bits, 15);
  EXPECT_FALSE(negotiate_deflate("foo, bar; baz=1, permessage-deflate; nope"));
}

TEST(choose_subprotocol, picks_our_preference_among_what_the_client_lists) {
  std::vector<std::string> ours = {"plexus.msgpack", "plexus.json"};
  EXPECT_EQ(choose_subprotocol("plexus.json", ours), "plexus.json");
  EXPECT_EQ(choose_subprotocol("plexus.json, plexus.msgpack", ours), "plexus.msgpack");
  EXPECT_EQ(choose_subprotocol(" chat ,\tplexus.json ", ours), "plexus.json");
  EXPECT_FALSE(choose_subprotocol("", ours));
  EXPECT_FALSE(choose_subprotocol("chat, superchat", ours));
  EXPECT_FALSE(choose_subprotocol("plexus.jsonx", ours));
  EXPECT_FALSE(choose_subprotocol("plexus.json", {}));
}

} // namespace
} // namespace plexus::net::ws
