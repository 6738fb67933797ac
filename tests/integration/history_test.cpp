// History and recovery end to end: a client that reconnects with `since` and `epoch` gets
// exactly what it missed, in order, then live messages, with no duplicate and no gap, also
// while publishes race its subscribe; a wrong epoch or a trimmed history says
// `recovered: false`.
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/test_node.hpp"

namespace plexus::test {
namespace {

/// Subscribes and returns the `subscribed` frame.
std::optional<std::string> subscribe(ws_client& c, const std::string& frame) {
  c.send_text(frame);
  return c.read_type("subscribed");
}

/// Publishes `value` to `channel` and waits for its ack; returns the offset.
int64_t publish(ws_client& c, const std::string& channel, int value) {
  c.send_text(R"({"type":"publish","channel":")" + channel + R"(","data":{"n":)"
              + std::to_string(value) + R"(},"id":)" + std::to_string(value) + "}");
  auto ack = c.read_until([&](const std::string& f) {
    return json_string(f, "type") == "ack" && json_int(f, "id") == value;
  });
  return ack ? json_int(*ack, "offset").value_or(-1) : -1;
}

/// Offsets of the next `count` message frames (fewer on timeout), other frames skipped.
std::vector<int64_t> read_offsets(ws_client& c, std::size_t count) {
  std::vector<int64_t> out;
  while (out.size() < count) {
    auto m = c.read_type("message");
    if (!m) {
      break;
    }
    out.push_back(json_int(*m, "offset").value_or(-1));
  }
  return out;
}

std::string resubscribe(const std::string& channel, int64_t since, const std::string& epoch) {
  return R"({"type":"subscribe","channel":")" + channel + R"(","since":)" + std::to_string(since)
         + R"(,"epoch":")" + epoch + R"(","id":2})";
}

TEST(history, reconnect_with_since_gets_exactly_the_missed_messages_then_live_ones) {
  test_node n;
  auto pub = n.connect();
  ASSERT_TRUE(subscribe(*pub, R"({"type":"subscribe","channel":"room:h","id":1})"));
  auto c = n.connect();
  auto sub = subscribe(*c, R"({"type":"subscribe","channel":"room:h","id":1})");
  ASSERT_TRUE(sub);
  auto epoch = json_string(*sub, "epoch");
  ASSERT_EQ(epoch.size(), 16u);
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(publish(*pub, "room:h", i), i);
  }
  ASSERT_EQ(read_offsets(*c, 3), (std::vector<int64_t>{1, 2, 3}));
  c->reset(); // the client's network drops
  for (int i = 4; i <= 6; ++i) {
    ASSERT_EQ(publish(*pub, "room:h", i), i);
  }
  auto back = n.connect();
  back->send_text(resubscribe("room:h", 3, epoch));
  // Frame by frame: subscribed, the three missed messages in order, then the member list.
  auto first = back->read_message();
  ASSERT_TRUE(first);
  EXPECT_EQ(json_string(*first, "type"), "subscribed");
  EXPECT_EQ(json_int(*first, "id"), 2);
  EXPECT_EQ(json_int(*first, "offset"), 6);
  EXPECT_EQ(json_string(*first, "epoch"), epoch);
  EXPECT_EQ(json_bool(*first, "recovered"), true);
  for (int i = 4; i <= 6; ++i) {
    auto m = back->read_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(json_string(*m, "type"), "message") << *m;
    EXPECT_EQ(json_int(*m, "offset"), i);
    EXPECT_EQ(json_raw(*m, "data"), R"({"n":)" + std::to_string(i) + "}");
  }
  EXPECT_EQ(json_string(back->read_message().value_or(""), "type"), "presence");
  ASSERT_EQ(publish(*pub, "room:h", 7), 7);
  EXPECT_EQ(read_offsets(*back, 1), std::vector<int64_t>{7}) << "live after replay, no dup";
  EXPECT_EQ(n.stats().recovery_hits_total.load(), 1u);
}

TEST(history, publishes_racing_the_recovering_subscribe_leave_no_gap_and_no_dup) {
  test_node n;
  auto pub = n.connect();
  ASSERT_TRUE(subscribe(*pub, R"({"type":"subscribe","channel":"room:race","id":1})"));
  auto first = n.connect();
  auto sub = subscribe(*first, R"({"type":"subscribe","channel":"room:race","id":1})");
  ASSERT_TRUE(sub);
  auto epoch = json_string(*sub, "epoch");
  ASSERT_EQ(publish(*pub, "room:race", 1), 1);
  ASSERT_EQ(read_offsets(*first, 1), std::vector<int64_t>{1});
  first->reset();
  // A burst of publishes without waiting for acks, and the resubscribe in the middle of it
  // from another connection (the publisher is another session: real concurrency).
  constexpr int burst = 60; // history_size is 100: all of it is recoverable
  auto back = n.connect();
  std::thread publisher([&] {
    for (int i = 2; i <= burst; ++i) {
      pub->send_text(R"({"type":"publish","channel":"room:race","data":)" + std::to_string(i)
                     + "}");
    }
  });
  back->send_text(resubscribe("room:race", 1, epoch));
  publisher.join();
  auto s = back->read_type("subscribed");
  ASSERT_TRUE(s);
  EXPECT_EQ(json_bool(*s, "recovered"), true);
  auto got = read_offsets(*back, burst - 1);
  std::vector<int64_t> want;
  for (int i = 2; i <= burst; ++i) {
    want.push_back(i);
  }
  EXPECT_EQ(got, want) << "replayed then live: every offset once, in order";
}

TEST(history, wrong_epoch_is_not_recovered) {
  test_node n;
  auto pub = n.connect();
  ASSERT_TRUE(subscribe(*pub, R"({"type":"subscribe","channel":"room:h","id":1})"));
  ASSERT_EQ(publish(*pub, "room:h", 1), 1);
  auto c = n.connect();
  c->send_text(resubscribe("room:h", 0, "0000000000000000"));
  auto first = c->read_message();
  ASSERT_TRUE(first);
  EXPECT_EQ(json_string(*first, "type"), "subscribed");
  EXPECT_EQ(json_bool(*first, "recovered"), false);
  EXPECT_EQ(json_int(*first, "offset"), 1) << "the client resyncs from here";
  EXPECT_EQ(json_string(c->read_message().value_or(""), "type"), "presence") << "no replay";
  ASSERT_EQ(publish(*pub, "room:h", 2), 2);
  EXPECT_EQ(read_offsets(*c, 1), std::vector<int64_t>{2}) << "live messages still flow";
  EXPECT_EQ(n.stats().recovery_misses_total.load(), 1u);
  auto m = http_request(n.port(), "GET", "/metrics");
  EXPECT_NE(m.body.find("plexus_recovery_total{result=\"miss\"} 1\n"), std::string::npos) << m.body;
}

TEST(history, messages_trimmed_from_the_ring_are_not_recovered) {
  test_node n{[](engine::config& cfg) {
    for (auto& ns : cfg.namespaces) {
      if (ns.name == "room") {
        ns.history_size = 3;
      }
    }
  }};
  auto pub = n.connect();
  auto sub = subscribe(*pub, R"({"type":"subscribe","channel":"room:h","id":1})");
  ASSERT_TRUE(sub);
  auto epoch = json_string(*sub, "epoch");
  for (int i = 1; i <= 6; ++i) {
    ASSERT_EQ(publish(*pub, "room:h", i), i);
  }
  auto miss = n.connect();
  auto m = subscribe(*miss, resubscribe("room:h", 2, epoch));
  ASSERT_TRUE(m);
  EXPECT_EQ(json_bool(*m, "recovered"), false) << "offset 3 fell off a ring of 3";
  auto hit = n.connect();
  auto h = subscribe(*hit, resubscribe("room:h", 3, epoch));
  ASSERT_TRUE(h);
  EXPECT_EQ(json_bool(*h, "recovered"), true);
  EXPECT_EQ(read_offsets(*hit, 3), (std::vector<int64_t>{4, 5, 6}));
}

TEST(history, a_channel_without_history_recovers_only_when_nothing_was_missed) {
  test_node n;
  auto pub = n.connect();
  auto sub = subscribe(*pub, R"({"type":"subscribe","channel":"news","id":1})");
  ASSERT_TRUE(sub);
  auto epoch = json_string(*sub, "epoch");
  ASSERT_EQ(publish(*pub, "news", 1), 1);
  auto c = n.connect();
  EXPECT_EQ(json_bool(subscribe(*c, resubscribe("news", 0, epoch)).value_or(""), "recovered"),
            false);
  auto d = n.connect();
  EXPECT_EQ(json_bool(subscribe(*d, resubscribe("news", 1, epoch)).value_or(""), "recovered"),
            true);
}

} // namespace
} // namespace plexus::test
