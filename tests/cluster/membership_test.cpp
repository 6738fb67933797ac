#include "cluster/membership.hpp"

#include <gtest/gtest.h>

namespace plexus::cluster {
namespace {

using namespace std::chrono_literals;
using time_point = membership::time_point;
using kind = member_event::kind;

member_info info(const std::string& name, uint64_t incarnation = 100) {
  member_info m;
  m.name = name;
  m.control = "127.0.0.1:" + std::to_string(9000 + name.back());
  m.ws_url = "ws://127.0.0.1/" + name;
  m.incarnation = incarnation;
  return m;
}

membership_timing timing() {
  membership_timing t;
  t.gossip_interval = 100ms;
  t.suspect_timeout = 400ms;
  t.dead_timeout = 1000ms;
  return t;
}

/// Three nodes gossiping their tables to each other by hand, with a shared fake clock.
struct trio : ::testing::Test {
  time_point t0{};
  time_point now = t0 + 1h;
  membership a{info("a"), timing(), {"127.0.0.1:9098"}, now};
  membership b{info("b"), timing(), {}, now};
  membership c{info("c"), timing(), {}, now};

  /// `from` gossips to `to`; returns the events `to` saw.
  std::vector<member_event> gossip(membership& from, membership& to) {
    auto r = to.merge(from.table(), from.self().name, now);
    return r.events;
  }

  /// One round in which everyone ticks and gossips to everyone in `links`.
  void round(std::initializer_list<std::pair<membership*, membership*>> links) {
    now += 100ms;
    for (auto* m : {&a, &b, &c}) {
      m->tick(now);
    }
    for (auto& l : links) {
      l.second->merge(l.first->table(), l.first->self().name, now);
    }
  }

  void full_round() {
    round({{&a, &b}, {&a, &c}, {&b, &a}, {&b, &c}, {&c, &a}, {&c, &b}});
  }

  static member_state state_of(const membership& m, const std::string& name) {
    return m.find(name)->state;
  }
};

TEST_F(trio, join_through_one_seed_spreads_to_everyone) {
  auto ev = gossip(b, a); // b contacts a (its seed)
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, kind::up);
  EXPECT_EQ(ev[0].info.name, "b");
  gossip(c, a);
  ev = gossip(a, b); // a's table now lists c: b learns about c without meeting it
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].info.name, "c");
  EXPECT_EQ(b.table().size(), 3u);
}

TEST_F(trio, gossip_targets_include_unmet_seeds_and_not_ourselves) {
  // d's own address (9100) in its seed list is skipped.
  membership d{info("d"), timing(), {"10.0.0.1:9100", "10.0.0.2:9100", info("d").control}, now};
  auto t = d.gossip_targets(now);
  ASSERT_EQ(t.size(), 2u);
  // Once the seed's owner is known and up, it is a member target, not an extra seed.
  auto me = info("d");
  membership e{me, timing(), {me.control}, now};
  EXPECT_TRUE(e.gossip_targets(now).empty());
}

TEST_F(trio, silent_member_goes_suspect_then_down_and_stays_down) {
  full_round();
  // c stops talking; a and b keep gossiping with each other.
  std::vector<member_event> seen;
  for (int i = 0; i < 12; ++i) {
    now += 100ms;
    for (auto& e : a.tick(now)) {
      seen.push_back(e);
    }
    b.tick(now);
    a.merge(b.table(), "b", now);
    b.merge(a.table(), "a", now);
  }
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[0].what, kind::suspect);
  EXPECT_EQ(seen[0].info.name, "c");
  EXPECT_EQ(seen[1].what, kind::down);
  EXPECT_EQ(state_of(a, "c"), member_state::down);
  EXPECT_EQ(state_of(b, "c"), member_state::down);
  // A stale heartbeat from c (same incarnation/version) cannot revive it...
  auto old = c.table();
  old[0].heartbeat += 1000;
  old[0].state = member_state::up;
  a.merge(old, "c", now);
  EXPECT_EQ(state_of(a, "c"), member_state::down);
}

TEST_F(trio, heartbeat_through_a_third_member_keeps_a_member_up) {
  full_round();
  // a cannot hear c directly, but b can, and b's gossip carries c's heartbeat.
  for (int i = 0; i < 30; ++i) {
    round({{&b, &a}, {&a, &b}, {&c, &b}, {&b, &c}});
  }
  EXPECT_EQ(state_of(a, "c"), member_state::up);
}

TEST_F(trio, member_declared_down_refutes_and_comes_back_with_a_higher_version) {
  full_round();
  for (int i = 0; i < 12; ++i) {
    round({{&a, &b}, {&b, &a}}); // c partitioned away
  }
  ASSERT_EQ(state_of(a, "c"), member_state::down);
  auto version = c.self().version;
  auto r = c.merge(a.table(), "a", now); // the partition heals: c hears it was declared down
  EXPECT_TRUE(r.reset);
  EXPECT_GT(c.self().version, version);
  auto ev = gossip(c, a);
  bool up = false;
  for (const auto& e : ev) {
    up = up || (e.what == kind::up && e.info.name == "c");
  }
  EXPECT_TRUE(up);
  EXPECT_EQ(state_of(a, "c"), member_state::up);
}

TEST_F(trio, after_a_partition_only_the_smaller_side_drops_its_rooms) {
  full_round();
  for (int i = 0; i < 12; ++i) {
    round({{&a, &b}, {&b, &a}}); // c cut off: each side declares the other down
  }
  ASSERT_EQ(state_of(c, "a"), member_state::down);
  auto majority = a.merge(c.table(), "c", now); // c's gossip reaches a first
  EXPECT_TRUE(majority.refuted);
  EXPECT_FALSE(majority.reset);
  auto minority = c.merge(b.table(), "b", now);
  EXPECT_TRUE(minority.refuted);
  EXPECT_TRUE(minority.reset);
}

TEST_F(trio, restarted_member_is_down_then_up) {
  full_round();
  membership c2{info("c", 200), timing(), {}, now}; // new process, later start time
  auto ev = gossip(c2, a);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].what, kind::down);
  EXPECT_TRUE(ev[0].restarted);
  EXPECT_EQ(ev[1].what, kind::up);
  EXPECT_EQ(a.find("c")->incarnation, 200u);
}

TEST_F(trio, leaving_member_is_down_at_once) {
  full_round();
  c.leave();
  auto ev = gossip(c, a);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, kind::down);
}

TEST_F(trio, draining_is_announced_and_leaves_the_owner_set) {
  full_round();
  b.set_draining(true);
  auto ev = gossip(b, a);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, kind::draining);
  auto v = a.view(1, 1);
  EXPECT_EQ(v.alive, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(v.owners, (std::vector<std::string>{"a", "c"}));
}

TEST_F(trio, a_late_tick_is_our_pause_not_everyone_elses_death) {
  full_round();
  now += 5s; // SIGSTOP, swapped out...
  auto ev = a.tick(now);
  EXPECT_TRUE(ev.empty());
  EXPECT_EQ(state_of(a, "b"), member_state::up);
}

TEST_F(trio, counts_by_state) {
  full_round();
  int64_t up = 0;
  int64_t suspect = 0;
  int64_t down = 0;
  a.count(up, suspect, down);
  EXPECT_EQ(up, 3);
  EXPECT_EQ(suspect + down, 0);
}

} // namespace
} // namespace plexus::cluster
