// Gaps in the live stream (issue 16): a skipped offset makes the client re-subscribe with
// `since`; what arrives meanwhile and duplicates are dropped, so the application sees every
// offset once, in order. A scripted node plays the room.
#include <gtest/gtest.h>

#include "net/client.hpp"
#include "tests/client/client_test_support.hpp"

namespace plexus::test {
namespace {

TEST(client_gap, a_skipped_offset_resubscribes_and_each_offset_is_delivered_once) {
  fake_node fake([](const fake_node::sender& send) {
    send(R"({"type":"welcome","session":"g1","node":"fake","user":"u","heartbeat_ms":60000,)"
         R"("resume":""})");
    auto msg = [&](int offset) {
      send(R"({"type":"message","channel":"room:gap","data":)" + std::to_string(offset)
           + R"(,"offset":)" + std::to_string(offset) + "}");
    };
    send(R"({"type":"subscribed","channel":"room:gap","offset":4,"epoch":"e1"})");
    msg(5);
    msg(7); // 6 lost on the way
    msg(8); // before the room answers the re-subscribe: dropped, the replay brings it
    send(R"({"type":"subscribed","channel":"room:gap","offset":8,"epoch":"e1","recovered":true})");
    msg(6);
    msg(7);
    msg(8);
    msg(8); // a duplicate
    msg(9);
  });
  recorder r;
  auto h = r.handlers();
  std::mutex mu;
  std::vector<net::gap_event> gaps;
  h.on_gap = [&](const net::gap_event& g) {
    std::lock_guard<std::mutex> lock(mu);
    gaps.push_back(g);
  };
  net::client c(local_options(fake.port()), h);
  auto sub = c.subscribe("room:gap");
  c.connect();
  ASSERT_TRUE(r.wait(5s, [&] { return !r.messages.empty() && r.messages.back().offset == 9; }));
  std::vector<uint64_t> got;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    for (const auto& m : r.messages) {
      got.push_back(m.offset);
    }
    ASSERT_EQ(r.subscribed.size(), 2u);
    EXPECT_TRUE(r.subscribed[1].resubscribed);
    EXPECT_EQ(r.subscribed[1].recovered, std::optional<bool>(true));
  }
  EXPECT_EQ(got, (std::vector<uint64_t>{5, 6, 7, 8, 9}));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].channel, "room:gap");
  EXPECT_EQ(gaps[0].expected, 6u);
  EXPECT_EQ(gaps[0].got, 7u);
  auto pos = c.positions();
  ASSERT_EQ(pos.size(), 1u);
  EXPECT_EQ(pos[0].offset, std::optional<uint64_t>(9));
}

} // namespace
} // namespace plexus::test
