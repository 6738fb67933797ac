// Failure detection with real processes: SIGKILL, SIGSTOP/SIGCONT, restart.
#include <csignal>
#include <iostream>

#include <gtest/gtest.h>

#include "tests/cluster/cluster_harness.hpp"

namespace plexus::test {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

/// Waits until `c` has had a presence list (request/answer) of exactly `n` members.
bool presence_is(cluster_client& c, const std::string& ch, std::size_t n,
                 std::chrono::milliseconds timeout = 5s) {
  return wait_until(timeout, [&] {
    c.ws->send_text(R"({"type":"presence","id":55,"channel":")" + ch + "\"}");
    auto r = c.ws->read_until(
      [](const std::string& m) {
        return json_string(m, "type") == "presence" && json_int(m, "id") == 55;
      },
      2s);
    return r && json_array_size(*r, "members") == n;
  });
}

/// Reads until a presence_diff leaving `session` arrives; the time it took.
std::optional<std::chrono::milliseconds> wait_leave(cluster_client& c, const std::string& session,
                                                    std::chrono::milliseconds timeout) {
  auto start = clock::now();
  auto r = c.ws->read_until(
    [&](const std::string& m) {
      if (json_string(m, "type") != "presence_diff") {
        return false;
      }
      auto leaves = json_raw(m, "leaves");
      return leaves.find(session) != std::string::npos;
    },
    timeout);
  if (!r) {
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
}

TEST(cluster_failure, sigkill_is_detected_leaves_are_sent_and_survivors_go_on) {
  test_cluster c{3, {}};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  const std::string ch = "room:kill";
  std::vector<cluster_client> cl;
  for (int i = 0; i < 3; ++i) {
    cl.push_back(connect_client(c[i].http_port));
    ASSERT_TRUE(subscribe(cl.back(), ch));
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(presence_is(cl[i], ch, 3)) << c.logs();
  }
  auto dead = std::chrono::milliseconds(c.options().dead_timeout_ms);
  auto killed_at = clock::now();
  c[2].proc->signal(SIGKILL);
  // Both survivors mark it down within dead_timeout (plus a gossip round and slack for a
  // loaded machine).
  ASSERT_TRUE(c.wait_state(0, "n3", "down", dead + 2s)) << c.logs();
  ASSERT_TRUE(c.wait_state(1, "n3", "down", 1s)) << c.logs();
  auto detected = clock::now() - killed_at;
  EXPECT_LT(detected, dead + 1500ms);
  std::cout << "[ measured ] SIGKILL -> down on both survivors in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(detected).count()
            << " ms (dead_timeout " << dead.count() << " ms)\n";
  // Presence: n3's session leaves everywhere within dead_timeout + 1 s.
  for (int i = 0; i < 2; ++i) {
    auto left = wait_leave(cl[i], cl[2].session, dead + 3s);
    ASSERT_TRUE(left) << "client on n" << i + 1 << "\n" << c.logs();
    auto after = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - killed_at);
    EXPECT_LT(after, dead + 1s + 1500ms); // the bound, plus scheduling slack on a shared machine
    std::cout << "[ measured ] SIGKILL -> presence leave on n" << i + 1 << " after "
              << after.count() << " ms\n";
  }
  // Publishing between the survivors goes on, whoever owned the room.
  auto pub = connect_client(c[0].http_port);
  auto off = publish(pub, ch, 1, R"({"after":"kill"})", 5s);
  ASSERT_TRUE(off) << c.logs();
  auto got = read_offsets(cl[1], ch, 1, 5s);
  ASSERT_EQ(got.size(), 1u) << c.logs();
  EXPECT_EQ(got[0], *off);
  EXPECT_GE(c.metric(0, "plexus_cluster_members{state=\"down\"}"), 1);
}

TEST(cluster_failure, stopped_node_comes_back_refuted_and_its_state_is_rebuilt) {
  test_cluster c{3, {}};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  const std::string ch = "room:pause";
  auto a = connect_client(c[0].http_port);
  auto z = connect_client(c[2].http_port);
  ASSERT_TRUE(subscribe(a, ch));
  ASSERT_TRUE(subscribe(z, ch));
  ASSERT_TRUE(presence_is(a, ch, 2)) << c.logs();
  auto before = c.members(0)["n3"];
  c[2].proc->signal(SIGSTOP);
  ASSERT_TRUE(
    c.wait_state(0, "n3", "down", std::chrono::milliseconds(c.options().dead_timeout_ms) + 2s))
    << c.logs();
  ASSERT_TRUE(wait_leave(a, z.session, 5s)) << c.logs();
  c[2].proc->signal(SIGCONT);
  // It hears it was declared down, refutes with a higher version and is up again.
  ASSERT_TRUE(wait_until(10s,
                         [&] {
                           auto m = c.members(0)["n3"];
                           return m.state == "up" && m.version > before.version;
                         }))
    << c.logs();
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  // Its session is back in the room, and traffic flows both ways again.
  EXPECT_TRUE(presence_is(a, ch, 2, 10s)) << c.logs();
  auto pa = connect_client(c[0].http_port);
  auto off = publish(pa, ch, 1, R"({"from":"n1"})", 5s);
  ASSERT_TRUE(off) << c.logs();
  auto got = read_offsets(z, ch, 1, 5s);
  ASSERT_EQ(got.size(), 1u) << c.logs();
  EXPECT_EQ(got[0], *off);
  auto pz = connect_client(c[2].http_port);
  auto off2 = publish(pz, ch, 2, R"({"from":"n3"})", 5s);
  ASSERT_TRUE(off2) << c.logs();
  auto got2 = read_offsets(a, ch, 2, 5s);
  ASSERT_FALSE(got2.empty()) << c.logs();
  EXPECT_EQ(got2.back(), *off2);
}

TEST(cluster_failure, restarted_node_rejoins_with_a_higher_incarnation) {
  test_cluster c{3, {}};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  auto before = c.members(0)["n3"].incarnation;
  c[2].proc->signal(SIGKILL);
  ASSERT_TRUE(c.wait_state(0, "n3", "down", 5s)) << c.logs();
  c.start(2);
  ASSERT_TRUE(wait_until(10s,
                         [&] {
                           auto m = c.members(0)["n3"];
                           return m.state == "up" && m.incarnation > before;
                         }))
    << c.logs();
  EXPECT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  // And it works as a member: a publish on it reaches n1.
  const std::string ch = "room:rejoin";
  auto a = connect_client(c[0].http_port);
  ASSERT_TRUE(subscribe(a, ch));
  auto z = connect_client(c[2].http_port);
  ASSERT_TRUE(publish(z, ch, 1, "1", 5s)) << c.logs();
  EXPECT_EQ(read_offsets(a, ch, 1, 5s).size(), 1u);
}

TEST(cluster_failure, graceful_stop_is_seen_at_once) {
  test_cluster c{3, {}};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  auto t0 = clock::now();
  c[2].proc->signal(SIGINT); // stop without drain: it still announces that it leaves
  ASSERT_TRUE(c.wait_state(0, "n3", "down", 5s)) << c.logs();
  EXPECT_LT(clock::now() - t0, std::chrono::milliseconds(c.options().dead_timeout_ms));
  EXPECT_EQ(c[2].proc->wait_exit(5s), 0);
}

} // namespace
} // namespace plexus::test
