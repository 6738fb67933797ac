// The client's frame codec against the server's own codec and frame builders, both formats.
#include <gtest/gtest.h>

#include "actors/codec.hpp"
#include "actors/server_frames.hpp"
#include "net/client_codec.hpp"
#include "net/client_url.hpp"

namespace plexus::net {
namespace {

const wire_format formats[] = {wire_format::json, wire_format::msgpack};

/// What the server's decoder makes of a frame the client encoded.
actors::client_message server_reads(wire_format f, const std::string& bytes) {
  auto r = actors::decode_client_frame(f, bytes);
  if (auto* err = std::get_if<actors::decode_error>(&r)) {
    ADD_FAILURE() << "server refused client frame: " << err->message;
    return {};
  }
  return std::get<actors::client_message>(r);
}

/// What the client decodes from a frame the server built.
server_frame client_reads(wire_format f, const actors::frame_ptr& fr) {
  const std::string& bytes = f == wire_format::json ? fr->json : fr->msgpack;
  auto out = decode_server_frame(f, bytes);
  EXPECT_TRUE(out.frame.has_value()) << out.error;
  return out.frame ? *out.frame : server_frame{unknown_frame{}};
}

TEST(client_codec, subscribe_encodes_channel_and_resume_point) {
  for (auto f : formats) {
    auto m = server_reads(f, encode_subscribe(f, 5, "room:a", 17, "ep1"));
    EXPECT_EQ(m.id, 5);
    auto& s = std::get<actors::subscribe_request>(m.body);
    EXPECT_EQ(s.channel, "room:a");
    EXPECT_EQ(s.since, 17u);
    EXPECT_EQ(s.epoch, "ep1");
    auto plain = server_reads(f, encode_subscribe(f, 6, "room:b", std::nullopt, ""));
    auto& p = std::get<actors::subscribe_request>(plain.body);
    EXPECT_FALSE(p.since);
    EXPECT_FALSE(p.epoch);
  }
}

TEST(client_codec, publish_converts_data_to_the_connection_format) {
  for (auto f : formats) {
    auto m
      = server_reads(f, encode_publish(f, 9, "room:a", json(R"({"text":"hé \"x\"","n":3.0})")));
    EXPECT_EQ(m.id, 9);
    auto& p = std::get<actors::publish_request>(m.body);
    EXPECT_EQ(p.channel, "room:a");
    EXPECT_EQ(p.data.format, f);
    EXPECT_EQ(actors::to_json(p.data), R"({"text":"hé \"x\"","n":3.0})");
  }
}

TEST(client_codec, other_requests_round_trip) {
  for (auto f : formats) {
    auto st = server_reads(f, encode_status(f, 1, "away", json(R"({"name":"ann"})")));
    auto& s = std::get<actors::status_request>(st.body);
    EXPECT_EQ(s.status, "away");
    ASSERT_TRUE(s.meta);
    EXPECT_EQ(actors::to_json(*s.meta), R"({"name":"ann"})");
    auto un = server_reads(f, encode_unsubscribe(f, 2, "x"));
    EXPECT_EQ(std::get<actors::unsubscribe_request>(un.body).channel, "x");
    auto pr = server_reads(f, encode_presence(f, 3, "room:p"));
    EXPECT_EQ(std::get<actors::presence_request>(pr.body).channel, "room:p");
    auto pi = server_reads(f, encode_ping(f, std::nullopt));
    EXPECT_FALSE(pi.id);
    EXPECT_TRUE(std::holds_alternative<actors::ping_request>(pi.body));
    auto rf = server_reads(f, encode_refresh(f, 4, "tok"));
    EXPECT_EQ(std::get<actors::refresh_request>(rf.body).token, "tok");
  }
}

TEST(client_codec, decodes_every_server_frame) {
  for (auto f : formats) {
    auto e = actors::encodings::only(f);
    auto w = client_reads(f, actors::make_welcome({"s1", "n1", "u1", 60000, "r1"}, e));
    auto& we = std::get<welcome_event>(w);
    EXPECT_EQ(we.session, "s1");
    EXPECT_EQ(we.node, "n1");
    EXPECT_EQ(we.user, "u1");
    EXPECT_EQ(we.heartbeat_ms, 60000u);
    EXPECT_EQ(we.resume, "r1");

    auto s = std::get<subscribed_frame>(
      client_reads(f, actors::make_subscribed(7, "room:a", 12, "ep", false, e)));
    EXPECT_EQ(s.id, 7);
    EXPECT_EQ(s.event.channel, "room:a");
    EXPECT_EQ(s.event.offset, 12u);
    EXPECT_EQ(s.event.epoch, "ep");
    EXPECT_EQ(s.event.recovered, false);

    actors::payload data{wire_format::json, R"({"a":[1,2.5,"x"],"b":null})"};
    auto m = std::get<message_event>(client_reads(f, actors::make_message("c", data, 3, "u9", e)));
    EXPECT_EQ(m.channel, "c");
    EXPECT_EQ(m.offset, 3u);
    EXPECT_EQ(m.from, "u9");
    EXPECT_EQ(m.data.format, f);
    EXPECT_EQ(actors::to_json(m.data), R"({"a":[1,2.5,"x"],"b":null})");

    auto a = std::get<ack_frame>(client_reads(f, actors::make_ack(11, 42, e)));
    EXPECT_EQ(a.id, 11);
    EXPECT_EQ(a.offset, 42u);

    auto er = std::get<error_event>(
      client_reads(f, actors::make_error(5, actors::errc::permission_denied, "no", e)));
    EXPECT_EQ(er.id, 5);
    EXPECT_EQ(er.code, "permission_denied");
    EXPECT_EQ(er.message, "no");

    actors::member_list ms{
      {"u1", "s1", "n1", "away", actors::payload{wire_format::json, R"({"name":"ann"})"}},
      {"u2", "s2", "n1", "online", std::nullopt}};
    auto p = std::get<presence_frame>(client_reads(f, actors::make_presence(8, "room:a", ms, e)));
    EXPECT_EQ(p.id, 8);
    ASSERT_EQ(p.event.members.size(), 2u);
    EXPECT_EQ(p.event.members[0].status, "away");
    ASSERT_TRUE(p.event.members[0].meta);
    EXPECT_EQ(actors::to_json(*p.event.members[0].meta), R"({"name":"ann"})");
    EXPECT_FALSE(p.event.members[1].meta);

    auto d = std::get<presence_diff_event>(
      client_reads(f, actors::make_presence_diff("room:a", ms, {}, {ms[1]}, e)));
    EXPECT_EQ(d.joins.size(), 2u);
    EXPECT_EQ(d.leaves.size(), 0u);
    ASSERT_EQ(d.updates.size(), 1u);
    EXPECT_EQ(d.updates[0].user, "u2");

    auto c = std::get<presence_frame>(client_reads(f, actors::make_presence_count("r", 5000, e)));
    EXPECT_EQ(c.event.count, 5000u);

    auto r = std::get<reconnect_frame>(
      client_reads(f, actors::make_reconnect("ws://other:1/ws", 250, e)));
    EXPECT_EQ(r.url, "ws://other:1/ws");
    EXPECT_EQ(r.after_ms, 250u);

    auto rr
      = std::get<refresh_required_frame>(client_reads(f, actors::make_refresh_required(1500, e)));
    EXPECT_EQ(rr.expires_in_ms, 1500u);
    auto pong = std::get<pong_frame>(client_reads(f, actors::make_pong(4, e)));
    EXPECT_EQ(pong.id, 4);
  }
}

TEST(client_codec, unknown_types_are_kept_and_garbage_is_refused) {
  auto u = decode_server_frame(wire_format::json, R"({"type":"future_thing","x":1})");
  ASSERT_TRUE(u.frame);
  EXPECT_EQ(std::get<unknown_frame>(*u.frame).type, "future_thing");
  for (std::string bad : {"", "{", "[]", R"({"no":"type"})", R"({"type":"message"})"}) {
    EXPECT_FALSE(decode_server_frame(wire_format::json, bad).frame) << bad;
  }
  for (std::string bad :
       {std::string("\xc1"), std::string("\x93\x01"), std::string("\xdd\xff\xff\xff\xff")}) {
    EXPECT_FALSE(decode_server_frame(wire_format::msgpack, bad).frame);
  }
}

TEST(client_codec, check_payload_refuses_malformed_values) {
  EXPECT_EQ(check_payload(json(R"({"a":1})")), "");
  EXPECT_NE(check_payload(json("{nope")), "");
  EXPECT_NE(check_payload(json("")), "");
  EXPECT_EQ(check_payload(msgpack(std::string("\x81\xa1"
                                              "a\x01",
                                              4))),
            "");
  EXPECT_NE(check_payload(msgpack(std::string("\x82\xa1"
                                              "a",
                                              3))),
            "");
}

TEST(client_url, parses_hosts_ports_and_paths) {
  auto a = parse_ws_url("ws://127.0.0.1:8080/ws");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(a->target, "/ws");
  EXPECT_EQ(a->str(), "ws://127.0.0.1:8080/ws");
  auto b = parse_ws_url("WS://example.com");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->port, 80);
  EXPECT_EQ(b->target, "/ws");
  auto c = parse_ws_url("ws://[::1]:9000?x=1#frag");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->target, "/ws?x=1");
  EXPECT_EQ(c->host_header(), "[::1]:9000");
  auto d = parse_ws_url("wss://h/custom/path");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->secure);
  EXPECT_EQ(d->port, 443);
  EXPECT_EQ(d->target, "/custom/path");
  for (auto bad : {"http://h/ws", "ws://", "ws://:80/", "ws://h:0/", "ws://h:70000/", "ws://h:/",
                   "ws://u:p@h/", "ws://[::1/"}) {
    EXPECT_FALSE(parse_ws_url(bad)) << bad;
  }
}

} // namespace
} // namespace plexus::net
