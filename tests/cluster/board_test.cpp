// board::pick: where /v1/cluster/pick, 503 alternates and a draining node send clients.
#include "cluster/board.hpp"

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

} // namespace
} // namespace plexus::cluster
