#include "cluster/wire.hpp"

#include <random>

#include <gtest/gtest.h>

namespace plexus::cluster {
namespace {

const std::string secret = "a shared cluster secret";

envelope sample_room() {
  envelope e;
  e.kind = envelope_kind::room_request;
  e.sender = "node-a";
  e.incarnation = 1700000000123;
  e.id = 42;
  auto& w = e.room;
  w.op = actors::room_op::attach;
  w.channel = "room:lobby";
  w.epoch = "0123456789abcdef";
  w.entry.offset = 7;
  w.entry.data = actors::payload{actors::wire_format::msgpack, std::string("\x81\xa1x\x01", 4)};
  w.entry.from = "alice";
  w.entry.pid = 99;
  w.who = actors::member{"bob", "s1", "node-b", "away", actors::payload{}};
  actors::room_snapshot s;
  s.epoch = "feedface00000000";
  s.offset = 12;
  s.pseq = 3;
  s.ring.push_back({11, 250, actors::payload{}, "carol", 0});
  s.members.push_back(actors::member{"dave", "s2", "node-c", "online", std::nullopt});
  s.weight = 3;
  s.durable = true;
  s.pids.emplace_back(5, 11);
  w.snap = s;
  w.members.push_back(actors::member{"erin", "s3", "node-a", "busy", std::nullopt});
  w.offset = 6;
  w.text = "hint";
  return e;
}

TEST(wire, room_envelope_round_trips) {
  auto e = sample_room();
  auto bytes = encode(e, secret);
  auto d = decode(bytes, secret);
  ASSERT_TRUE(d.env) << to_string(d.error) << ": " << d.detail;
  const auto& x = *d.env;
  EXPECT_EQ(x.kind, envelope_kind::room_request);
  EXPECT_EQ(x.sender, "node-a");
  EXPECT_EQ(x.incarnation, e.incarnation);
  EXPECT_EQ(x.id, 42u);
  EXPECT_EQ(x.room.op, actors::room_op::attach);
  EXPECT_EQ(x.room.channel, "room:lobby");
  EXPECT_EQ(x.room.entry.data, e.room.entry.data);
  EXPECT_EQ(x.room.entry.pid, 99u);
  EXPECT_EQ(x.room.who, e.room.who);
  ASSERT_TRUE(x.room.snap);
  EXPECT_EQ(x.room.snap->ring.size(), 1u);
  EXPECT_EQ(x.room.snap->ring[0].age_ms, 250u);
  EXPECT_EQ(x.room.snap->members, e.room.snap->members);
  EXPECT_TRUE(x.room.snap->durable);
  EXPECT_EQ(x.room.snap->pids, e.room.snap->pids);
  EXPECT_EQ(x.room.members, e.room.members);
  EXPECT_EQ(x.room.text, "hint");
}

TEST(wire, gossip_round_trips_and_never_sends_suspect) {
  envelope e;
  e.kind = envelope_kind::gossip;
  e.sender = "n1";
  member_info a;
  a.name = "n1";
  a.control = "127.0.0.1:9100";
  a.ws_url = "ws://127.0.0.1:8080/ws";
  a.incarnation = 5;
  a.version = 2;
  a.heartbeat = 77;
  a.connections = 12;
  a.draining = true;
  a.max_connections = 5000;
  member_info b = a;
  b.name = "n2";
  b.state = member_state::suspect; // our opinion only: goes out as up
  e.members = {a, b};
  auto d = decode(encode(e, secret), secret);
  ASSERT_TRUE(d.env);
  ASSERT_EQ(d.env->members.size(), 2u);
  EXPECT_EQ(d.env->members[0].heartbeat, 77u);
  EXPECT_TRUE(d.env->members[0].draining);
  EXPECT_EQ(d.env->members[0].max_connections, 5000u);
  EXPECT_EQ(d.env->members[1].state, member_state::up);
}

TEST(wire, wrong_secret_is_refused) {
  auto bytes = encode(sample_room(), secret);
  auto d = decode(bytes, "another secret entirely");
  EXPECT_FALSE(d.env);
  EXPECT_EQ(d.error, wire_error::bad_mac);
  EXPECT_EQ(decode(bytes, "").error, wire_error::bad_mac);
}

TEST(wire, any_flipped_bit_is_refused) {
  auto bytes = encode(sample_room(), secret);
  for (std::size_t i = 0; i < bytes.size(); i += 7) {
    auto copy = bytes;
    copy[i] ^= 0x10;
    EXPECT_FALSE(decode(copy, secret).env) << "byte " << i;
  }
}

TEST(wire, truncated_and_empty_are_refused) {
  auto bytes = encode(sample_room(), secret);
  EXPECT_EQ(decode("", secret).error, wire_error::too_short);
  EXPECT_EQ(decode(std::string(32, 'x'), secret).error, wire_error::too_short);
  for (std::size_t n = 0; n < bytes.size(); n += 5) {
    EXPECT_FALSE(decode(std::string_view(bytes).substr(0, n), secret).env);
  }
}

/// Bytes that carry a valid MAC but whatever body the test wants: what a buggy peer (same
/// secret) could send. The decoder must refuse it without throwing.
std::string signed_body(const std::string& body) {
  std::string out = body;
  auto hex = hmac_hex(secret, body, 64);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

TEST(wire, authenticated_garbage_is_refused_not_thrown) {
  std::mt19937 gen{12345};
  int refused = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string body(gen() % 200, '\0');
    for (auto& c : body) {
      c = static_cast<char>(gen());
    }
    refused += decode(signed_body(body), secret).env ? 0 : 1; // must not throw or crash
  }
  EXPECT_GT(refused, 1990);
  // A valid envelope prefix cut in the body: malformed.
  auto good = encode(sample_room(), secret);
  auto body = good.substr(0, good.size() - mac_size - 3);
  EXPECT_EQ(decode(signed_body(body), secret).error, wire_error::malformed);
  // An array header claiming four billion items.
  EXPECT_EQ(decode(signed_body("\xdd\xff\xff\xff\xff"), secret).error, wire_error::malformed);
}

TEST(wire, wrong_version_is_refused_with_the_version_named) {
  // [2, 1, "x", 0, 0, []] packed by hand: version 2.
  std::string body("\x96\x02\x01\xa1x\x00\x00\x90", 8);
  auto d = decode(signed_body(body), secret);
  EXPECT_FALSE(d.env);
  EXPECT_EQ(d.error, wire_error::wrong_version);
  EXPECT_NE(d.detail.find("version 2"), std::string::npos);
  // Version 1 with the same shape is a (empty) gossip.
  body[1] = '\x01';
  auto ok = decode(signed_body(body), secret);
  ASSERT_TRUE(ok.env) << ok.detail;
  EXPECT_EQ(ok.env->kind, envelope_kind::gossip);
}

TEST(wire, resume_mac_is_stable_and_keyed) {
  EXPECT_EQ(hmac_hex(secret, "n1.abc", 16), hmac_hex(secret, "n1.abc", 16));
  EXPECT_EQ(hmac_hex(secret, "n1.abc", 16).size(), 16u);
  EXPECT_NE(hmac_hex(secret, "n1.abc", 16), hmac_hex("other", "n1.abc", 16));
}

} // namespace
} // namespace plexus::cluster
