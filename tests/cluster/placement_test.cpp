#include "actors/placement.hpp"

#include <algorithm>
#include <map>

#include <gtest/gtest.h>

namespace plexus::actors {
namespace {

placement make(std::vector<std::string> owners) {
  placement p;
  p.self = owners.front();
  p.owners = owners;
  p.alive = owners;
  return p;
}

TEST(hrw, weights_are_fixed_across_builds) {
  // Every node must compute the same owner: pin a few values.
  EXPECT_EQ(hrw_weight("room:lobby", "node-1"), hrw_weight("room:lobby", "node-1"));
  EXPECT_NE(hrw_weight("room:lobby", "node-1"), hrw_weight("room:lobby", "node-2"));
  EXPECT_NE(hrw_weight("ab", "c"), hrw_weight("a", "bc"));
  // FNV-1a 64 + MurmurHash3 fmix64, computed independently.
  EXPECT_EQ(hrw_weight("room:lobby", "node-1"), 0xb9ccc70f70c95259ULL);
  EXPECT_EQ(hrw_weight("news", "a"), 0x56f7301ef00d3bbbULL);
}

TEST(hrw, order_lists_every_owner_once) {
  auto p = make({"a", "b", "c", "d"});
  auto o = p.order("news");
  ASSERT_EQ(o.size(), 4u);
  std::sort(o.begin(), o.end());
  EXPECT_EQ(o, p.owners);
}

TEST(hrw, spreads_rooms_evenly) {
  auto p = make({"a", "b", "c"});
  std::map<std::string, int> owned;
  for (int i = 0; i < 3000; ++i) {
    owned[p.order("room:" + std::to_string(i)).front()]++;
  }
  for (const auto& kv : owned) {
    EXPECT_GT(kv.second, 850) << kv.first;
    EXPECT_LT(kv.second, 1150) << kv.first;
  }
}

TEST(hrw, removing_a_node_moves_only_its_rooms_to_their_backup) {
  auto all = make({"a", "b", "c", "d"});
  auto without_c = make({"a", "b", "d"});
  int moved = 0;
  for (int i = 0; i < 2000; ++i) {
    auto ch = "ch" + std::to_string(i);
    auto before = all.order(ch);
    auto after = without_c.order(ch);
    if (before.front() == "c") {
      ++moved;
      EXPECT_EQ(after.front(), before[1]) << ch; // the first backup takes over
    } else {
      EXPECT_EQ(after.front(), before.front()) << ch;
    }
  }
  EXPECT_GT(moved, 300);
}

TEST(hrw, adding_a_node_only_takes_rooms_to_it) {
  auto three = make({"a", "b", "c"});
  auto four = make({"a", "b", "c", "d"});
  for (int i = 0; i < 2000; ++i) {
    auto ch = "x" + std::to_string(i);
    auto after = four.order(ch).front();
    EXPECT_TRUE(after == "d" || after == three.order(ch).front()) << ch;
  }
}

TEST(placement, alive_and_owner_lookups) {
  placement p;
  p.self = "b";
  p.alive = {"a", "b", "c"};
  p.owners = {"a", "c"};
  EXPECT_TRUE(p.is_alive("b"));
  EXPECT_FALSE(p.is_owner_eligible("b"));
  EXPECT_FALSE(p.is_alive("z"));
}

} // namespace
} // namespace plexus::actors
