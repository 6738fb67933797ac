// End-to-end pub/sub over real sockets on 127.0.0.1.
#include <gtest/gtest.h>

#include "tests/support/test_node.hpp"

namespace plexus::test {
namespace {

TEST(pubsub, welcome_names_session_node_and_user) {
  test_node n;
  auto c = n.connect();
  ASSERT_TRUE(c->open());
  EXPECT_EQ(json_string(n.last_welcome, "node"), "test");
  EXPECT_FALSE(json_string(n.last_welcome, "session").empty());
  EXPECT_FALSE(json_string(n.last_welcome, "user").empty());
  EXPECT_TRUE(json_int(n.last_welcome, "heartbeat_ms").has_value());
}

TEST(pubsub, publish_reaches_other_subscriber_with_offsets) {
  test_node n;
  auto a = n.connect();
  auto b = n.connect();
  a->send_text(R"({"type":"subscribe","channel":"news","id":1})");
  auto sub = a->read_type("subscribed");
  ASSERT_TRUE(sub);
  EXPECT_EQ(json_int(*sub, "id"), 1);
  EXPECT_EQ(json_int(*sub, "offset"), 0);
  b->send_text(R"({"type":"publish","channel":"news","data":{"x":1},"id":7})");
  auto ack = b->read_type("ack");
  ASSERT_TRUE(ack);
  EXPECT_EQ(json_int(*ack, "id"), 7);
  EXPECT_EQ(json_int(*ack, "offset"), 1);
  auto msg = a->read_type("message");
  ASSERT_TRUE(msg);
  EXPECT_EQ(json_string(*msg, "channel"), "news");
  EXPECT_EQ(json_raw(*msg, "data"), R"({"x":1})");
  EXPECT_EQ(json_int(*msg, "offset"), 1);
}

TEST(pubsub, ping_gets_pong) {
  test_node n;
  auto c = n.connect();
  c->send_text(R"({"type":"ping","id":3})");
  auto pong = c->read_type("pong");
  ASSERT_TRUE(pong);
  EXPECT_EQ(json_int(*pong, "id"), 3);
}

} // namespace
} // namespace plexus::test

namespace plexus::test {
namespace {

TEST(pubsub, channels_keep_working_after_an_idle_room_stopped) {
  test_node n;
  auto a = n.connect();
  a->send_text(R"({"type":"subscribe","channel":"short","id":1})");
  ASSERT_TRUE(a->read_type("subscribed"));
  a->send_text(R"({"type":"unsubscribe","channel":"short","id":2})");
  ASSERT_TRUE(a->read_type("ack"));
  // The empty room lingers about a second, then stops; the registry must outlive it.
  ASSERT_TRUE(wait_until(5s, [&] { return n.stats().rooms.load() == 0; }));
  a->send_text(R"({"type":"subscribe","channel":"other","id":3})");
  auto sub = a->read_type("subscribed");
  ASSERT_TRUE(sub) << "registry stopped with the room";
  EXPECT_EQ(json_int(*sub, "id"), 3);
}

} // namespace
} // namespace plexus::test
