// board::pick: where /v1/cluster/pick, 503 alternates and a draining node send clients.
#include "cluster/board.hpp"

#include <map>

#include <gtest/gtest.h>

namespace plexus::cluster {
namespace {

member_info node(const std::string& name, member_state state, int64_t connections) {
  member_info m;
  m.name = name;
  m.ws_url = "ws://127.0.0.1/" + name;
  m.state = state;
  m.connections = connections;
  return m;
}

TEST(board, picks_the_least_loaded_up_member_ties_to_the_lower_name) {
  board b;
  b.publish("n1", {node("n1", member_state::up, 0), node("n2", member_state::up, 5),
                   node("n3", member_state::up, 5), node("n4", member_state::up, 9)});
  EXPECT_EQ(b.pick(false), "ws://127.0.0.1/n1");
  EXPECT_EQ(b.pick(true), "ws://127.0.0.1/n2");
}

TEST(board, skips_draining_full_down_and_urlless_members) {
  board b;
  auto draining = node("n2", member_state::up, 0);
  draining.draining = true;
  auto full = node("n3", member_state::up, 0);
  full.full = true;
  auto no_url = node("n4", member_state::up, 0);
  no_url.ws_url.clear();
  b.publish("n1", {node("n1", member_state::up, 7), draining, full, no_url,
                   node("n5", member_state::down, 0)});
  EXPECT_EQ(b.pick(false), "ws://127.0.0.1/n1");
  EXPECT_EQ(b.pick(true), std::nullopt);
}

TEST(board, a_suspect_member_is_a_fallback_only_when_asked_and_no_up_one_qualifies) {
  board b;
  b.publish("n1", {node("n1", member_state::up, 0), node("n2", member_state::suspect, 0)});
  EXPECT_EQ(b.pick(true), std::nullopt);
  EXPECT_EQ(b.pick(true, true), "ws://127.0.0.1/n2");
  // An up member wins over a less loaded suspect one.
  b.publish("n1", {node("n1", member_state::up, 0), node("n2", member_state::suspect, 0),
                   node("n3", member_state::up, 50)});
  EXPECT_EQ(b.pick(true, true), "ws://127.0.0.1/n3");
}

member_info counted(const std::string& name, uint64_t connections, uint64_t heartbeat,
                    uint64_t max_connections = 0) {
  auto m = node(name, member_state::up, static_cast<int64_t>(connections));
  m.heartbeat = heartbeat;
  m.max_connections = max_connections;
  return m;
}

TEST(board, a_burst_of_placements_inside_one_round_spreads_over_the_nodes) {
  board b;
  b.publish("n1", {counted("n1", 0, 10), counted("n2", 0, 20), counted("n3", 0, 30)});
  std::map<std::string, int> got;
  for (int i = 0; i < 999; ++i) {
    ++got[b.place(false).value_or("none")];
  }
  EXPECT_EQ(got["ws://127.0.0.1/n1"], 333);
  EXPECT_EQ(got["ws://127.0.0.1/n2"], 333);
  EXPECT_EQ(got["ws://127.0.0.1/n3"], 333);
  // pick() reads without counting.
  EXPECT_EQ(b.pick(false), "ws://127.0.0.1/n1");
  EXPECT_EQ(b.pick(false), "ws://127.0.0.1/n1");
}

TEST(board, placements_count_until_the_node_has_gossiped_twice) {
  board b;
  b.publish("n1", {counted("n1", 0, 10), counted("n2", 8, 20)});
  for (int i = 0; i < 9; ++i) { // 0..8 placed: below or tied with n2's 8, ties to n1
    EXPECT_EQ(b.place(false), "ws://127.0.0.1/n1") << i;
  }
  EXPECT_EQ(b.pick(false), "ws://127.0.0.1/n2"); // n1: 0 + 9 placed
  // One round later n1's count may not include them yet: still counted.
  b.publish("n1", {counted("n1", 0, 11), counted("n2", 8, 21)});
  EXPECT_EQ(b.pick(false), "ws://127.0.0.1/n2");
  // Two rounds later its count does, and the placements are forgotten.
  b.publish("n1", {counted("n1", 9, 12), counted("n2", 8, 22)});
  EXPECT_EQ(b.pick(false), "ws://127.0.0.1/n2");
  b.publish("n1", {counted("n1", 4, 13), counted("n2", 8, 23)});
  EXPECT_EQ(b.pick(false), "ws://127.0.0.1/n1");
}

TEST(board, a_sticky_placement_counts_and_needs_an_accepting_node) {
  board b;
  auto draining = counted("n3", 0, 5);
  draining.draining = true;
  b.publish("n1", {counted("n1", 3, 10), counted("n2", 3, 20), draining});
  EXPECT_EQ(b.place_on("n2"), "ws://127.0.0.1/n2");
  EXPECT_EQ(b.place_on("n3"), std::nullopt);
  EXPECT_EQ(b.place_on("n9"), std::nullopt);
  EXPECT_EQ(b.pick(false), "ws://127.0.0.1/n1"); // n2: 3 + 1
}

TEST(board, peers_by_capacity_is_spare_room_of_the_other_accepting_members) {
  board b;
  auto full = counted("n4", 10, 1, 10);
  full.full = true;
  b.publish("n1", {counted("n1", 0, 1, 100), counted("n2", 40, 1, 100),
                   counted("n3", 150, 1, 100), full, counted("n5", 10, 1)});
  auto peers = b.peers_by_capacity(false);
  ASSERT_EQ(peers.size(), 3u);
  EXPECT_EQ(peers[0].name, "n2");
  EXPECT_EQ(peers[0].spare, 60u);
  EXPECT_EQ(peers[1].spare, 0u);  // n3 over its limit
  EXPECT_EQ(peers[2].spare, 90u); // n5 announced none: as the largest announced
}

TEST(board, peers_by_capacity_falls_back_to_suspect_members_and_to_an_even_spread) {
  board b;
  auto suspect = counted("n2", 0, 1);
  suspect.state = member_state::suspect;
  b.publish("n1", {counted("n1", 0, 1), suspect, counted("n3", 9, 1)});
  auto up = b.peers_by_capacity(true);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].name, "n3");
  EXPECT_EQ(up[0].spare, 1u); // nobody announced a capacity: equal weights
  b.publish("n1", {counted("n1", 0, 1), suspect});
  EXPECT_TRUE(b.peers_by_capacity(false).empty());
  ASSERT_EQ(b.peers_by_capacity(true).size(), 1u);
}

TEST(weighted_spread, hands_out_urls_in_proportion_and_interleaved) {
  weighted_spread s{{{"a", "A", 1000}, {"b", "B", 3000}, {"c", "C", 0}}};
  std::map<std::string, int> got;
  std::string run;
  for (int i = 0; i < 400; ++i) {
    auto u = s.next();
    ++got[u];
    if (i < 8) {
      run += u;
    }
  }
  EXPECT_EQ(got["A"], 100);
  EXPECT_EQ(got["B"], 300);
  EXPECT_EQ(got.count("C"), 0u);
  EXPECT_EQ(run, "BABBBABB"); // never a run longer than the weights ask for
  weighted_spread none{{{"a", "A", 0}}};
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.next(), "");
}

} // namespace
} // namespace plexus::cluster
