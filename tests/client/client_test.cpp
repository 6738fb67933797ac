// The C++ client against a real in-process node: requests, replies, events, both formats.
#include <gtest/gtest.h>

#include "net/client.hpp"
#include "tests/client/client_test_support.hpp"
#include "tests/support/test_node.hpp"

namespace plexus::test {
namespace {

using net::client;
using net::client_state;
using net::json;
using net::wire_format;

class client_formats : public ::testing::TestWithParam<wire_format> {};

TEST_P(client_formats, subscribe_publish_ack_and_message) {
  test_node n;
  recorder r;
  client c(local_options(n.port(), GetParam()), r.handlers());
  c.connect();
  ASSERT_TRUE(c.wait_for_state(client_state::open, 5s));
  ASSERT_TRUE(c.welcome());
  EXPECT_EQ(c.welcome()->node, "test");
  EXPECT_FALSE(c.welcome()->user.empty());

  auto sub = c.subscribe("room:a");
  ASSERT_TRUE(ready(sub));
  auto s = sub.get();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s.value().channel, "room:a");
  EXPECT_FALSE(s.value().epoch.empty());
  EXPECT_FALSE(s.value().recovered);

  auto ack = c.publish("room:a", json(R"({"text":"hi","n":[1,2.5]})"));
  ASSERT_TRUE(ready(ack));
  auto a = ack.get();
  ASSERT_TRUE(a.ok()) << a.error().code << ": " << a.error().message;
  EXPECT_EQ(a.value(), s.value().offset + 1);

  ASSERT_TRUE(r.wait(5s, [&] { return !r.messages.empty(); }));
  std::lock_guard<std::mutex> lock(r.mu);
  EXPECT_EQ(r.messages[0].channel, "room:a");
  EXPECT_EQ(r.messages[0].offset, a.value());
  EXPECT_EQ(r.messages[0].data.format, GetParam());
  EXPECT_EQ(actors::to_json(r.messages[0].data), R"({"text":"hi","n":[1,2.5]})");
  EXPECT_EQ(r.messages[0].from, c.welcome()->user);
}

TEST_P(client_formats, presence_status_and_diffs_between_two_clients) {
  test_node n;
  recorder ra, rb;
  client a(local_options(n.port(), GetParam()), ra.handlers());
  client b(local_options(n.port(), GetParam()), rb.handlers());
  a.connect();
  b.connect();
  auto st = a.set_status("online", json(R"({"name":"ann"})"));
  ASSERT_TRUE(ready(st));
  ASSERT_TRUE(st.get().ok());
  auto sa = a.subscribe("room:p");
  ASSERT_TRUE(ready(sa));
  ASSERT_TRUE(sa.get().ok());
  auto sb = b.subscribe("room:p");
  ASSERT_TRUE(ready(sb));
  ASSERT_TRUE(sb.get().ok());

  // Presence is eventual: a member's join reaches the room just after its `subscribed`
  // (docs/protocol.md). So b learns ann, and itself, from its snapshot or from the join
  // diff that follows it.
  const std::string b_user = b.welcome()->user;
  auto has = [](const auto& members, const std::function<bool(const actors::member&)>& pred) {
    return std::any_of(members.begin(), members.end(), pred);
  };
  auto seen_by_b = [&](const std::function<bool(const actors::member&)>& pred) {
    return rb.wait(5s, [&] {
      return std::any_of(rb.presences.begin(), rb.presences.end(),
                         [&](const auto& p) { return has(p.members, pred); })
             || std::any_of(rb.diffs.begin(), rb.diffs.end(),
                            [&](const auto& d) { return has(d.joins, pred); });
    });
  };
  ASSERT_TRUE(seen_by_b([](const actors::member& m) {
    return m.meta && actors::to_json(*m.meta) == R"({"name":"ann"})";
  }));
  ASSERT_TRUE(seen_by_b([&](const actors::member& m) { return m.user == b_user; }));

  auto pr = b.presence("room:p");
  ASSERT_TRUE(ready(pr));
  auto p = pr.get();
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p.value().members.size(), 2u);

  // a goes away: b sees the update.
  auto away = a.set_status("away", json(R"({"name":"ann"})"));
  ASSERT_TRUE(ready(away));
  ASSERT_TRUE(away.get().ok());
  const std::string a_user = a.welcome()->user;
  EXPECT_TRUE(rb.wait(5s, [&] {
    for (auto& d : rb.diffs) {
      for (auto& m : d.updates) {
        if (m.user == a_user && m.status == "away") {
          return true;
        }
      }
    }
    return false;
  }));

  // a leaves: b sees the leave.
  auto un = a.unsubscribe("room:p");
  ASSERT_TRUE(ready(un));
  ASSERT_TRUE(un.get().ok());
  EXPECT_TRUE(rb.wait(5s, [&] {
    for (auto& d : rb.diffs) {
      for (auto& m : d.leaves) {
        if (m.user == a_user) {
          return true;
        }
      }
    }
    return false;
  }));
}

INSTANTIATE_TEST_SUITE_P(both, client_formats,
                         ::testing::Values(wire_format::json, wire_format::msgpack),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(client, requests_made_before_connect_are_sent_once_open) {
  test_node n;
  recorder r;
  client c(local_options(n.port()), r.handlers());
  auto sub = c.subscribe("room:early");
  auto ack = c.publish("room:early", json("42"));
  c.connect();
  ASSERT_TRUE(ready(sub));
  ASSERT_TRUE(sub.get().ok());
  ASSERT_TRUE(ready(ack));
  auto a = ack.get();
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(r.wait(5s, [&] { return !r.messages.empty(); }));
}

TEST(client, server_errors_fail_the_request_and_keep_the_connection) {
  test_node n;
  recorder r;
  client c(local_options(n.port()), r.handlers());
  c.connect();
  // Publishing into a subscribers-only namespace without a subscription is refused.
  auto ack = c.publish("room:nope", json("1"));
  ASSERT_TRUE(ready(ack));
  auto a = ack.get();
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, "permission_denied");
  auto bad = c.subscribe("bad channel!");
  ASSERT_TRUE(ready(bad));
  auto b = bad.get();
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, "invalid_channel");
  auto pong = c.ping();
  ASSERT_TRUE(ready(pong));
  EXPECT_TRUE(pong.get().ok());
  EXPECT_EQ(c.state(), client_state::open);
}

TEST(client, malformed_data_is_refused_before_sending) {
  test_node n;
  client c(local_options(n.port()));
  c.connect();
  auto ack = c.publish("room:a", json("{not json"));
  ASSERT_TRUE(ready(ack));
  auto a = ack.get();
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, "invalid_data");
}

TEST(client, close_ends_cleanly_and_fails_later_requests) {
  test_node n;
  recorder r;
  client c(local_options(n.port()), r.handlers());
  c.connect();
  ASSERT_TRUE(c.wait_for_state(client_state::open, 5s));
  c.close();
  ASSERT_TRUE(c.wait_for_state(client_state::closed, 5s));
  auto ack = c.publish("room:a", json("1"));
  ASSERT_TRUE(ready(ack));
  EXPECT_EQ(ack.get().error().code, "closed");
  EXPECT_FALSE(r.saw_state(client_state::reconnecting));
  // And it can start again.
  c.connect();
  EXPECT_TRUE(c.wait_for_state(client_state::open, 5s));
}

TEST(client, bad_options_are_refused_at_construction) {
  net::client_options o;
  o.url = "http://127.0.0.1:1/ws";
  EXPECT_THROW(client{o}, std::invalid_argument);
  o.url = "ws://127.0.0.1:1/ws";
  o.reconnect.cap = std::chrono::milliseconds(1);
  EXPECT_THROW(client{o}, std::invalid_argument);
}

TEST(client, nobody_listening_gives_up_after_max_attempts) {
  auto o = local_options(free_port());
  o.reconnect.max_attempts = 3;
  recorder r;
  client c(o, r.handlers());
  auto sub = c.subscribe("room:a");
  c.connect();
  ASSERT_TRUE(
    r.wait(10s, [&] { return !r.states.empty() && r.states.back() == client_state::closed; }));
  std::lock_guard<std::mutex> lock(r.mu);
  EXPECT_EQ(r.disconnects.size(), 4u); // the first attempt and three retries
  for (std::size_t i = 0; i + 1 < r.disconnects.size(); ++i) {
    EXPECT_TRUE(r.disconnects[i].will_retry);
    EXPECT_LT(r.disconnects[i].retry_in_ms, 200u);
  }
  EXPECT_FALSE(r.disconnects.back().will_retry);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(r.errors.back().code, "connect_failed");
  ASSERT_TRUE(ready(sub));
  EXPECT_FALSE(sub.get().ok());
}

} // namespace
} // namespace plexus::test
