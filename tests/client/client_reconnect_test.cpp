// Reconnecting: node restarts, dropped connections with recovery, 503 alternates,
// `reconnect` frames and silent servers. Every wait is bounded and waits on events.
#include <gtest/gtest.h>

#include "net/client.hpp"
#include "net/server.hpp"
#include "tests/client/client_test_support.hpp"
#include "tests/support/test_node.hpp"

namespace plexus::test {
namespace {

using net::client;
using net::client_state;
using net::json;

std::function<void(engine::config&)> on_port(uint16_t port, std::string name = "test") {
  return [port, name](engine::config& cfg) {
    cfg.node.listen = "127.0.0.1:" + std::to_string(port);
    cfg.node.name = name;
  };
}

std::size_t count_open(recorder& r) {
  std::size_t n = 0;
  for (auto s : r.states) {
    n += s == client_state::open ? 1 : 0;
  }
  return n;
}

TEST(client_reconnect, node_restart_on_the_same_port_resubscribes_and_reports_resync) {
  const uint16_t port = free_port();
  auto node = std::make_unique<test_node>(on_port(port));
  recorder r;
  client c(local_options(port), r.handlers());
  c.connect();
  auto sub = c.subscribe("room:restart");
  ASSERT_TRUE(ready(sub));
  auto first = sub.get();
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto ack = c.publish("room:restart", json(R"("before")"));
  ASSERT_TRUE(ready(ack));
  ASSERT_TRUE(ack.get().ok());
  ASSERT_TRUE(r.wait(5s, [&] { return r.messages.size() == 1; }));

  node.reset(); // closes every connection with 1001 and stops
  ASSERT_TRUE(r.wait(5s, [&] { return !r.disconnects.empty(); }));
  {
    std::lock_guard<std::mutex> lock(r.mu);
    EXPECT_EQ(r.disconnects[0].close_code, 1001);
    EXPECT_TRUE(r.disconnects[0].will_retry);
  }
  EXPECT_TRUE(r.saw_state(client_state::reconnecting));

  node = std::make_unique<test_node>(on_port(port));
  // Back on its own: a second open, and the channel re-subscribed with since/epoch, which
  // the new node (new epoch) cannot honour: recovered false, reported as a resync.
  ASSERT_TRUE(r.wait(10s, [&] { return count_open(r) == 2 && !r.resyncs.empty(); }));
  {
    std::lock_guard<std::mutex> lock(r.mu);
    const auto& rs = r.resyncs.front();
    EXPECT_EQ(rs.channel, "room:restart");
    EXPECT_EQ(rs.recovered, false);
    EXPECT_TRUE(rs.resubscribed);
    EXPECT_NE(rs.epoch, first.value().epoch);
  }
  auto positions = c.positions();
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_NE(positions[0].epoch, first.value().epoch);

  // And it works again.
  auto again = c.publish("room:restart", json(R"("after")"));
  ASSERT_TRUE(ready(again));
  auto a = again.get();
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(r.wait(5s, [&] { return r.messages.size() == 2; }));
  std::lock_guard<std::mutex> lock(r.mu);
  EXPECT_EQ(actors::to_json(r.messages[1].data), R"("after")");
}

TEST(client_reconnect, dropped_connection_recovers_missed_messages_from_history) {
  test_node n;
  recorder r;
  client c(local_options(n.port()), r.handlers());
  c.connect();
  auto sub = c.subscribe("room:hist");
  ASSERT_TRUE(ready(sub));
  ASSERT_TRUE(sub.get().ok());

  // The node drops every connection; the room (and its history) stays.
  n.node().server().close_all(4010, "reconnect elsewhere");
  ASSERT_TRUE(r.wait(5s, [&] { return !r.disconnects.empty(); }));
  // Published while the client is away (or just back: either way it must arrive once).
  auto res
    = http_request(n.port(), "POST", "/v1/publish", R"({"channel":"room:hist","data":"missed"})",
                   {{"Authorization", std::string("apikey ") + test_node::api_key}});
  ASSERT_EQ(res.status, 200) << res.body;

  ASSERT_TRUE(r.wait(10s, [&] { return r.subscribed.size() == 2 && r.messages.size() == 1; }));
  std::lock_guard<std::mutex> lock(r.mu);
  EXPECT_EQ(r.disconnects[0].close_code, 4010);
  EXPECT_TRUE(r.subscribed[1].resubscribed);
  EXPECT_EQ(r.subscribed[1].recovered, true);
  EXPECT_TRUE(r.resyncs.empty());
  EXPECT_EQ(actors::to_json(r.messages[0].data), R"("missed")");
}

TEST(client_reconnect, publish_made_while_reconnecting_is_sent_after_reopening) {
  const uint16_t port = free_port();
  auto node = std::make_unique<test_node>(on_port(port));
  recorder r;
  client c(local_options(port), r.handlers());
  c.connect();
  auto sub = c.subscribe("room:queued");
  ASSERT_TRUE(ready(sub));
  ASSERT_TRUE(sub.get().ok());
  node.reset();
  ASSERT_TRUE(r.wait(5s, [&] { return !r.disconnects.empty(); }));
  auto ack = c.publish("room:queued", json("1"));
  node = std::make_unique<test_node>(on_port(port));
  ASSERT_TRUE(ready(ack, 10s));
  auto a = ack.get();
  EXPECT_TRUE(a.ok()) << a.error().message;
}

TEST(client_reconnect, refused_upgrade_follows_the_alternate_node) {
  test_node other([](engine::config& cfg) { cfg.node.name = "other"; });
  test_node full;
  const std::string other_url = other.node().ws_url();
  full.node().server().alternate_url = [other_url]() { return other_url; };
  full.node().server().set_draining(true);
  recorder r;
  client c(local_options(full.port()), r.handlers());
  c.connect();
  ASSERT_TRUE(c.wait_for_state(client_state::open, 5s));
  EXPECT_EQ(c.welcome()->node, "other");
  std::lock_guard<std::mutex> lock(r.mu);
  ASSERT_EQ(r.disconnects.size(), 1u);
  EXPECT_EQ(r.disconnects[0].http_status, 503);
  EXPECT_EQ(r.disconnects[0].retry_in_ms, 0u);
  EXPECT_EQ(r.disconnects[0].next_url, other_url);
}

TEST(client_reconnect, reconnect_frame_moves_the_client_to_the_named_node) {
  test_node target([](engine::config& cfg) { cfg.node.name = "target"; });
  const std::string url = target.node().ws_url();
  fake_node fake([url](const fake_node::sender& send) {
    send(R"({"type":"welcome","session":"f1","node":"fake","user":"u","heartbeat_ms":60000,)"
         R"("resume":""})");
    send(R"({"type":"reconnect","url":")" + url + R"(","after_ms":10})");
  });
  recorder r;
  client c(local_options(fake.port()), r.handlers());
  auto sub = c.subscribe("room:moved");
  c.connect();
  ASSERT_TRUE(r.wait(5s, [&] { return r.welcomes.size() == 2 && r.welcomes[1].node == "target"; }));
  ASSERT_TRUE(ready(sub));
  auto s = sub.get();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(fake.upgrades(), 1);
  std::lock_guard<std::mutex> lock(r.mu);
  ASSERT_FALSE(r.disconnects.empty());
  EXPECT_EQ(r.disconnects[0].retry_in_ms, 10u);
  EXPECT_EQ(r.disconnects[0].next_url, url);
}

TEST(client_reconnect, silent_server_is_detected_by_the_heartbeat_watchdog) {
  fake_node fake([](const fake_node::sender& send) {
    // A 100 ms heartbeat, then nothing: not even pongs.
    send(R"({"type":"welcome","session":"f","node":"fake","user":"u","heartbeat_ms":100,)"
         R"("resume":""})");
  });
  recorder r;
  client c(local_options(fake.port()), r.handlers());
  c.connect();
  ASSERT_TRUE(r.wait(5s, [&] { return count_open(r) >= 2; }));
  EXPECT_GE(fake.upgrades(), 2);
  std::lock_guard<std::mutex> lock(r.mu);
  ASSERT_FALSE(r.disconnects.empty());
  EXPECT_NE(r.disconnects[0].reason.find("silent"), std::string::npos) << r.disconnects[0].reason;
}

TEST(client_reconnect, token_refusal_is_not_retried) {
  test_node n([](engine::config& cfg) {
    cfg.auth.anonymous = false;
    cfg.auth.jwt_secret = "a-test-secret-of-at-least-32-bytes!!";
  });
  recorder r;
  auto o = local_options(n.port());
  o.token = "not-a-jwt";
  client c(o, r.handlers());
  c.connect();
  ASSERT_TRUE(
    r.wait(5s, [&] { return !r.states.empty() && r.states.back() == client_state::closed; }));
  std::lock_guard<std::mutex> lock(r.mu);
  ASSERT_EQ(r.disconnects.size(), 1u);
  EXPECT_EQ(r.disconnects[0].http_status, 401);
  EXPECT_FALSE(r.disconnects[0].will_retry);
}

} // namespace
} // namespace plexus::test
