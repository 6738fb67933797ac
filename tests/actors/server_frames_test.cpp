#include "actors/server_frames.hpp"

#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <msgpack.hpp>

namespace plexus::actors {
namespace {

encodings both() {
  encodings e;
  e.json = true;
  e.msgpack = true;
  return e;
}

/// Checks that the msgpack encoding is exactly one map and carries the same fields, in the
/// same order and with the same types, as the JSON text (read back through the converter,
/// which payload_test checks on its own).
void expect_same_fields(const frame& f) {
  ASSERT_FALSE(f.msgpack.empty());
  std::size_t off = 0;
  auto oh = msgpack::unpack(f.msgpack.data(), f.msgpack.size(), off);
  EXPECT_EQ(off, f.msgpack.size()) << "trailing bytes: a map size does not match its fields";
  EXPECT_EQ(oh.get().type, msgpack::type::MAP);
  EXPECT_EQ(to_json(payload{wire_format::msgpack, f.msgpack}), f.json);
}

/// The value of `key` in the frame's msgpack map.
msgpack::object field(const msgpack::object_handle& oh, std::string_view key) {
  const auto& map = oh.get().via.map;
  for (uint32_t i = 0; i < map.size; ++i) {
    if (map.ptr[i].key.as<std::string>() == key) {
      return map.ptr[i].val;
    }
  }
  ADD_FAILURE() << "no field " << key;
  return {};
}

msgpack::object_handle unpack(const frame& f) {
  return msgpack::unpack(f.msgpack.data(), f.msgpack.size());
}

member make_member(std::string user, std::string session, std::string status,
                   std::optional<payload> meta = std::nullopt) {
  member m;
  m.user = std::move(user);
  m.session = std::move(session);
  m.node = "n1";
  m.status = std::move(status);
  m.meta = std::move(meta);
  return m;
}

TEST(server_frames, welcome) {
  welcome_info w;
  w.session = "s-1";
  w.node = "node-1";
  w.user = "alice";
  w.heartbeat_ms = 30000;
  w.resume = "r.tok";
  auto f = make_welcome(w, both());
  EXPECT_EQ(f->json, R"({"type":"welcome","session":"s-1","node":"node-1","user":"alice",)"
                     R"("heartbeat_ms":30000,"resume":"r.tok"})");
  expect_same_fields(*f);
  auto oh = unpack(*f);
  EXPECT_EQ(field(oh, "heartbeat_ms").type, msgpack::type::POSITIVE_INTEGER);
  EXPECT_EQ(field(oh, "heartbeat_ms").via.u64, 30000u);
}

TEST(server_frames, subscribed_all_fields) {
  auto f = make_subscribed(4, "room:1", 17, "ep", false, both());
  EXPECT_EQ(f->json, R"({"type":"subscribed","id":4,"channel":"room:1","offset":17,)"
                     R"("epoch":"ep","recovered":false})");
  expect_same_fields(*f);
  auto oh = unpack(*f);
  EXPECT_EQ(field(oh, "recovered").type, msgpack::type::BOOLEAN);
}

TEST(server_frames, subscribed_without_optionals) {
  auto f = make_subscribed(std::nullopt, "c", 0, "", std::nullopt, both());
  EXPECT_EQ(f->json, R"({"type":"subscribed","channel":"c","offset":0,"epoch":""})");
  expect_same_fields(*f);
}

TEST(server_frames, message_json_payload) {
  auto f = make_message("chat", payload{wire_format::json, R"({"t":"hi"})"}, 9, "bob", both());
  EXPECT_EQ(f->json, R"({"type":"message","channel":"chat","data":{"t":"hi"},"offset":9,)"
                     R"("from":"bob"})");
  expect_same_fields(*f);
  auto oh = unpack(*f);
  EXPECT_EQ(field(oh, "data").type, msgpack::type::MAP);
}

TEST(server_frames, message_msgpack_payload_inserted_raw) {
  std::string data("\x92\x01\xA1x", 4); // [1,"x"]
  auto f = make_message("c", payload{wire_format::msgpack, data}, 1, "", both());
  EXPECT_EQ(f->json, R"({"type":"message","channel":"c","data":[1,"x"],"offset":1})");
  EXPECT_NE(f->msgpack.find(data), std::string::npos);
  expect_same_fields(*f);
}

TEST(server_frames, message_without_from) {
  auto f = make_message("c", payload{}, 3, "", encodings::only(wire_format::json));
  EXPECT_EQ(f->json, R"({"type":"message","channel":"c","data":null,"offset":3})");
}

TEST(server_frames, message_big_offset) {
  auto f = make_message("c", payload{wire_format::json, "1"}, std::numeric_limits<uint64_t>::max(),
                        "u", both());
  EXPECT_EQ(f->json, R"({"type":"message","channel":"c","data":1,)"
                     R"("offset":18446744073709551615,"from":"u"})");
  expect_same_fields(*f);
}

TEST(server_frames, only_requested_formats_are_built) {
  auto f = make_message("c", payload{}, 1, "", encodings::only(wire_format::msgpack));
  EXPECT_TRUE(f->json.empty());
  EXPECT_FALSE(f->msgpack.empty());
  auto g = make_pong(std::nullopt, encodings::only(wire_format::json));
  EXPECT_FALSE(g->json.empty());
  EXPECT_TRUE(g->msgpack.empty());
  auto none = make_pong(std::nullopt, encodings{});
  EXPECT_TRUE(none->json.empty());
  EXPECT_TRUE(none->msgpack.empty());
}

TEST(server_frames, ack) {
  auto f = make_ack(5, 100, both());
  EXPECT_EQ(f->json, R"({"type":"ack","id":5,"offset":100})");
  expect_same_fields(*f);
  auto g = make_ack(-6, std::nullopt, both());
  EXPECT_EQ(g->json, R"({"type":"ack","id":-6})");
  expect_same_fields(*g);
  auto oh = unpack(*g);
  EXPECT_EQ(field(oh, "id").type, msgpack::type::NEGATIVE_INTEGER);
  EXPECT_EQ(field(oh, "id").via.i64, -6);
}

TEST(server_frames, error_with_and_without_id) {
  auto f = make_error(2, errc::invalid_channel, "bad name", both());
  EXPECT_EQ(f->json, R"({"type":"error","id":2,"code":"invalid_channel","message":"bad name"})");
  expect_same_fields(*f);
  auto g = make_error(std::nullopt, errc::bad_request, "malformed JSON: x", both());
  EXPECT_EQ(g->json, R"({"type":"error","code":"bad_request","message":"malformed JSON: x"})");
  expect_same_fields(*g);
}

TEST(server_frames, error_message_escaped) {
  auto f = make_error(std::nullopt, errc::internal, "a \"quote\"\\ and\nnewline\x01",
                      encodings::only(wire_format::json));
  EXPECT_EQ(f->json, R"({"type":"error","code":"internal","message":)"
                     R"("a \"quote\"\\ and\nnewline\u0001"})");
}

TEST(server_frames, pong) {
  auto f = make_pong(std::nullopt, both());
  EXPECT_EQ(f->json, R"({"type":"pong"})");
  expect_same_fields(*f);
  auto g = make_pong(77, both());
  EXPECT_EQ(g->json, R"({"type":"pong","id":77})");
  expect_same_fields(*g);
}

TEST(server_frames, presence) {
  member_list members{
    make_member("alice", "s1", "online", payload{wire_format::json, R"({"role":"admin"})"}),
    make_member("bob", "s2", "away")};
  auto f = make_presence(8, "room:x", members, both());
  EXPECT_EQ(f->json, R"({"type":"presence","id":8,"channel":"room:x","members":[)"
                     R"({"user":"alice","session":"s1","node":"n1","status":"online",)"
                     R"("meta":{"role":"admin"}},)"
                     R"({"user":"bob","session":"s2","node":"n1","status":"away","meta":null}]})");
  expect_same_fields(*f);
}

TEST(server_frames, presence_empty_without_id) {
  auto f = make_presence(std::nullopt, "c", {}, both());
  EXPECT_EQ(f->json, R"({"type":"presence","channel":"c","members":[]})");
  expect_same_fields(*f);
}

TEST(server_frames, presence_meta_in_other_format_is_converted) {
  member_list members{
    make_member("u", "s", "busy", payload{wire_format::msgpack, "\x81\xA1k\x05"})};
  auto f = make_presence(std::nullopt, "c", members, both());
  EXPECT_EQ(f->json, R"({"type":"presence","channel":"c","members":[{"user":"u","session":"s",)"
                     R"("node":"n1","status":"busy","meta":{"k":5}}]})");
  expect_same_fields(*f);
}

TEST(server_frames, presence_diff) {
  member_list joins{make_member("a", "s1", "online")};
  member_list leaves{make_member("b", "s2", "online")};
  member_list updates{make_member("c", "s3", "away", payload{wire_format::json, "[1]"})};
  auto f = make_presence_diff("room:1", joins, leaves, updates, both());
  EXPECT_EQ(f->json,
            R"({"type":"presence_diff","channel":"room:1",)"
            R"("joins":[{"user":"a","session":"s1","node":"n1","status":"online","meta":null}],)"
            R"("leaves":[{"user":"b","session":"s2","node":"n1","status":"online","meta":null}],)"
            R"("updates":[{"user":"c","session":"s3","node":"n1","status":"away","meta":[1]}]})");
  expect_same_fields(*f);
  auto g = make_presence_diff("c", {}, {}, {}, both());
  EXPECT_EQ(g->json,
            R"({"type":"presence_diff","channel":"c","joins":[],"leaves":[],"updates":[]})");
  expect_same_fields(*g);
}

TEST(server_frames, presence_count) {
  auto f = make_presence_count("room:big", 12345, both());
  EXPECT_EQ(f->json, R"({"type":"presence_count","channel":"room:big","count":12345})");
  expect_same_fields(*f);
  // As the reply to a `presence` request it carries the request's id.
  auto g = make_presence_count(7, "room:big", 12345, both());
  EXPECT_EQ(g->json, R"({"type":"presence_count","id":7,"channel":"room:big","count":12345})");
  expect_same_fields(*g);
}

TEST(server_frames, refresh_required) {
  auto f = make_refresh_required(60000, both());
  EXPECT_EQ(f->json, R"({"type":"refresh_required","expires_in_ms":60000})");
  expect_same_fields(*f);
}

TEST(server_frames, reconnect) {
  auto f = make_reconnect("ws://10.0.0.2:8080/ws", 1500, both());
  EXPECT_EQ(f->json, R"({"type":"reconnect","url":"ws://10.0.0.2:8080/ws","after_ms":1500})");
  expect_same_fields(*f);
  auto g = make_reconnect("", 0, both());
  EXPECT_EQ(g->json, R"({"type":"reconnect","after_ms":0})");
  expect_same_fields(*g);
}

TEST(server_frames, strings_are_valid_utf8_in_json) {
  // A user id that is not UTF-8 must not make the JSON text frame invalid.
  auto f = make_message("c", payload{}, 1, "bad\xFFid", both());
  EXPECT_EQ(f->json, "{\"type\":\"message\",\"channel\":\"c\",\"data\":null,\"offset\":1,"
                     "\"from\":\"bad\xEF\xBF\xBDid\"}");
  // msgpack carries the bytes as they are.
  auto oh = unpack(*f);
  EXPECT_EQ(field(oh, "from").as<std::string>(), "bad\xFFid");
}

TEST(server_frames, deflated_variants_built_on_request) {
  encodings e = both();
  e.deflate = true;
  e.deflate_min_bytes = 64;
  auto f
    = make_message("c", payload{wire_format::json, "\"" + std::string(2000, 'a') + "\""}, 1, "", e);
  EXPECT_FALSE(f->json_deflated.empty());
  EXPECT_FALSE(f->msgpack_deflated.empty());
  EXPECT_LT(f->json_deflated.size(), f->json.size());
  bool compressed = false;
  EXPECT_EQ(&f->payload_for(wire_format::msgpack, true, compressed), &f->msgpack_deflated);
  EXPECT_TRUE(compressed);
  auto small = make_pong(std::nullopt, e);
  EXPECT_TRUE(small->json_deflated.empty());
}

TEST(server_frames, frame_is_shared_and_uncompressed_by_default) {
  auto f = make_message("c", payload{wire_format::json, std::string(1000, '1')}, 1, "", both());
  bool compressed = true;
  EXPECT_EQ(&f->payload_for(wire_format::json, false, compressed), &f->json);
  EXPECT_FALSE(compressed);
  EXPECT_EQ(f->conflate_key, 0u);
}

} // namespace
} // namespace plexus::actors
