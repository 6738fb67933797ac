// The history ring: capacity wrap-around, TTL expiry, and what "covers" means for recovery.
#include "actors/history.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace plexus::actors {
namespace {

using namespace std::chrono_literals;
using time_point = history::time_point;

const time_point t0 = time_point{} + 1h;

history_entry entry(uint64_t offset, time_point at) {
  history_entry e;
  e.offset = offset;
  e.at = at;
  e.data = payload{wire_format::json, std::to_string(offset)};
  return e;
}

std::vector<uint64_t> after(const history& h, uint64_t since) {
  std::vector<uint64_t> out;
  h.for_each_after(since, [&](const history_entry& e) { out.push_back(e.offset); });
  return out;
}

TEST(history, keeps_the_last_capacity_entries) {
  history h{3, 60s};
  for (uint64_t i = 1; i <= 5; ++i) {
    h.append(entry(i, t0));
  }
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(after(h, 0), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(after(h, 3), (std::vector<uint64_t>{4, 5}));
  EXPECT_TRUE(after(h, 5).empty());
}

TEST(history, covers_only_gap_free_ranges) {
  history h{3, 60s};
  for (uint64_t i = 1; i <= 5; ++i) {
    h.append(entry(i, t0));
  }
  EXPECT_TRUE(h.covers(2, 5)) << "3, 4, 5 are all there";
  EXPECT_TRUE(h.covers(4, 5));
  EXPECT_FALSE(h.covers(1, 5)) << "2 fell off the ring";
  EXPECT_FALSE(h.covers(0, 5));
  EXPECT_TRUE(h.covers(5, 5)) << "nothing missed";
  EXPECT_FALSE(h.covers(6, 5)) << "an offset from the future is not this room's";
}

TEST(history, wraps_many_times_without_growing) {
  history h{4, 60s};
  for (uint64_t i = 1; i <= 1000; ++i) {
    h.append(entry(i, t0));
    ASSERT_LE(h.size(), 4u);
  }
  EXPECT_EQ(after(h, 0), (std::vector<uint64_t>{997, 998, 999, 1000}));
  EXPECT_TRUE(h.covers(996, 1000));
  EXPECT_FALSE(h.covers(995, 1000));
}

TEST(history, zero_capacity_keeps_nothing) {
  history h{0, 60s};
  h.append(entry(1, t0));
  EXPECT_TRUE(h.empty());
  EXPECT_FALSE(h.covers(0, 1));
  EXPECT_TRUE(h.covers(1, 1));
}

TEST(history, expires_entries_at_their_ttl) {
  history h{10, 10s};
  h.append(entry(1, t0));
  h.append(entry(2, t0 + 5s));
  h.expire(t0 + 9999ms);
  EXPECT_EQ(h.size(), 2u);
  h.expire(t0 + 10s);
  EXPECT_EQ(after(h, 0), std::vector<uint64_t>{2});
  EXPECT_TRUE(h.covers(1, 2));
  EXPECT_FALSE(h.covers(0, 2));
  EXPECT_EQ(h.newest_expiry(), t0 + 15s);
  h.expire(t0 + 15s);
  EXPECT_TRUE(h.empty());
  EXPECT_FALSE(h.covers(1, 2)) << "message 2 expired";
  EXPECT_TRUE(h.covers(2, 2));
}

} // namespace
} // namespace plexus::actors
