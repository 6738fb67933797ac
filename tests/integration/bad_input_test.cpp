// Every bad input of issue 2 gets a clear answer, is counted, and leaves the node serving.
#include <gtest/gtest.h>

#include <msgpack.hpp>

#include "tests/support/test_node.hpp"

namespace plexus::test {
namespace {

using actors::rejection;

/// Sends `frame` and expects an error reply with `code`, then checks the connection still
/// works (ping -> pong) and the rejection was counted.
void expect_error(test_node& n, ws_client& c, const std::string& frame, const std::string& code,
                  rejection counted, bool binary = false) {
  auto before = n.stats().rejected_count(counted);
  binary ? c.send_binary(frame) : c.send_text(frame);
  auto err = binary ? c.read_message() : c.read_type("error");
  ASSERT_TRUE(err) << "no error reply to " << frame;
  if (!binary) {
    EXPECT_EQ(json_string(*err, "code"), code) << *err;
    EXPECT_FALSE(json_string(*err, "message").empty());
  }
  EXPECT_TRUE(wait_until(2s, [&] { return n.stats().rejected_count(counted) == before + 1; }));
  c.send_text(R"({"type":"ping","id":99})");
  EXPECT_TRUE(c.read_type("pong")) << "connection unusable after " << frame;
}

TEST(bad_input, malformed_json_is_bad_request) {
  test_node n;
  auto c = n.connect();
  expect_error(n, *c, R"({"type":"publish",)", "bad_request", rejection::bad_request);
  expect_error(n, *c, "not json at all", "bad_request", rejection::bad_request);
}

TEST(bad_input, unknown_type) {
  test_node n;
  auto c = n.connect();
  expect_error(n, *c, R"({"type":"teleport","id":4})", "unknown_type", rejection::unknown_type);
}

TEST(bad_input, missing_and_ill_typed_fields_are_bad_request) {
  test_node n;
  auto c = n.connect();
  expect_error(n, *c, R"({"type":"subscribe"})", "bad_request", rejection::bad_request);
  expect_error(n, *c, R"({"type":"publish","channel":"a"})", "bad_request",
               rejection::bad_request);
  expect_error(n, *c, R"({"type":"subscribe","channel":42})", "bad_request",
               rejection::bad_request);
  expect_error(n, *c, R"({"channel":"a"})", "bad_request", rejection::bad_request);
}

TEST(bad_input, error_reply_carries_the_request_id) {
  test_node n;
  auto c = n.connect();
  c->send_text(R"({"type":"subscribe","channel":"bad name!","id":12})");
  auto err = c->read_type("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(json_int(*err, "id"), 12);
  EXPECT_EQ(json_string(*err, "code"), "invalid_channel");
}

TEST(bad_input, invalid_channel_names) {
  test_node n;
  auto c = n.connect();
  expect_error(n, *c, R"({"type":"subscribe","channel":"has space"})", "invalid_channel",
               rejection::invalid_channel);
  expect_error(n, *c, R"({"type":"subscribe","channel":""})", "invalid_channel",
               rejection::invalid_channel);
  expect_error(n, *c, "{\"type\":\"publish\",\"data\":1,\"channel\":\"" + std::string(129, 'a')
                        + "\"}",
               "invalid_channel", rejection::invalid_channel);
}

TEST(bad_input, unsubscribe_without_subscription_is_not_subscribed) {
  test_node n;
  auto c = n.connect();
  expect_error(n, *c, R"({"type":"unsubscribe","channel":"never","id":1})", "not_subscribed",
               rejection::not_subscribed);
}

TEST(bad_input, malformed_msgpack_is_bad_request) {
  test_node n;
  ws_request req;
  req.subprotocol = "plexus.msgpack";
  auto c = n.connect(req);
  ASSERT_TRUE(c->open());
  EXPECT_EQ(c->answer().header("sec-websocket-protocol"), "plexus.msgpack");
  auto before = n.stats().rejected_count(rejection::bad_request);
  c->send_binary(std::string("\xc1\xff\x00", 3));
  auto err = c->read_message();
  ASSERT_TRUE(err);
  auto obj = msgpack::unpack(err->data(), err->size());
  auto map = obj.get().as<std::map<std::string, msgpack::object>>();
  EXPECT_EQ(map.at("type").as<std::string>(), "error");
  EXPECT_EQ(map.at("code").as<std::string>(), "bad_request");
  EXPECT_TRUE(wait_until(2s, [&] {
    return n.stats().rejected_count(rejection::bad_request) == before + 1;
  }));
}

TEST(bad_input, oversize_frame_closes_with_1009) {
  test_node n{[](engine::config& cfg) { cfg.websocket.max_message_bytes = 1024; }};
  auto c = n.connect();
  c->send_text(std::string(2048, 'x'));
  EXPECT_EQ(c->wait_closed(), 1009);
  EXPECT_EQ(n.stats().rejected_count(rejection::message_too_big), 1u);
  auto other = n.connect();
  EXPECT_TRUE(other->open()) << "node must keep serving";
}

TEST(bad_input, plain_http_request_to_ws_is_400_with_json_body) {
  test_node n;
  auto a = http_request(n.port(), "GET", "/ws");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(json_string(a.body, "error"), "bad_request");
  EXPECT_FALSE(json_string(a.body, "message").empty());
  EXPECT_EQ(n.stats().rejected_count(rejection::bad_upgrade), 1u);
}

TEST(bad_input, unknown_path_is_404) {
  test_node n;
  auto a = http_request(n.port(), "GET", "/nope");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(json_string(a.body, "error"), "not_found");
  EXPECT_EQ(n.stats().rejected_count(rejection::not_found), 1u);
}

TEST(bad_input, wrong_api_key_is_401) {
  test_node n;
  auto a = http_request(n.port(), "POST", "/v1/publish", R"({"channel":"a","data":1})",
                        {{"Authorization", "apikey wrong"}});
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(json_string(a.body, "error"), "unauthorized");
  auto none = http_request(n.port(), "POST", "/v1/publish", R"({"channel":"a","data":1})");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(n.stats().rejected_count(rejection::bad_api_key), 2u);
}

TEST(bad_input, bad_http_publish_bodies) {
  test_node n;
  std::vector<std::pair<std::string, std::string>> key{
    {"Authorization", std::string{"apikey "} + test_node::api_key}};
  EXPECT_EQ(http_request(n.port(), "POST", "/v1/publish", "{", key).status, 400);
  EXPECT_EQ(http_request(n.port(), "POST", "/v1/publish", R"({"channel":"a"})", key).status, 400);
  auto bad = http_request(n.port(), "POST", "/v1/publish", R"({"channel":"a b","data":1})", key);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json_string(bad.body, "error"), "invalid_channel");
}

} // namespace
} // namespace plexus::test
