// game_tick: a host actor runs a 60 Hz match, players steer it over WebSockets.
#include <gtest/gtest.h>

#include "examples/game_tick/match.hpp"
#include "tests/support/test_node.hpp"

namespace plexus::test {
namespace {

void game_namespaces(engine::config& cfg) {
  actors::namespace_settings state;
  state.name = "match";
  state.history_size = 0;
  state.publish = actors::publish_rule::server;
  actors::namespace_settings input;
  input.name = "match-input";
  input.presence = false;
  input.join_leave = false;
  input.history_size = 0;
  input.publish = actors::publish_rule::any;
  cfg.namespaces = {state, input};
}

TEST(game_tick, match_publishes_state_and_applies_player_input) {
  test_node n{game_namespaces};
  auto match = n.node().system().spawn(examples::match_actor, "7", n.node().registry());
  auto player = n.connect();
  auto user = json_string(n.last_welcome, "user");
  player->send_text(R"({"type":"subscribe","channel":"match:7","id":1})");
  ASSERT_TRUE(player->read_type("subscribed"));
  // Ticks keep coming at the match rate.
  auto first = player->read_type("message");
  ASSERT_TRUE(first);
  auto tick0 = json_int(json_raw(*first, "data"), "tick").value_or(0);
  // Steer right: x grows on later ticks.
  player->send_text(R"({"type":"publish","channel":"match-input:7","data":{"dx":1},"id":2})");
  ASSERT_TRUE(player->read_type("ack"));
  auto moved = player->read_until([&](const std::string& m) {
    auto data = json_raw(m, "data");
    auto players = json_raw(data, "players");
    return json_int(json_raw(players, user), "x").value_or(0) >= 3;
  });
  ASSERT_TRUE(moved) << "the player's input never moved it";
  EXPECT_GT(json_int(json_raw(*moved, "data"), "tick").value_or(0), tick0);
  // Players cannot publish state: the namespace is server-only.
  player->send_text(R"({"type":"publish","channel":"match:7","data":{},"id":3})");
  auto err = player->read_type("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(json_string(*err, "code"), "permission_denied");
  caf::anon_send_exit(match, caf::exit_reason::user_shutdown);
}

TEST(game_tick, hooks_see_joins_messages_and_disconnects) {
  std::mutex mu;
  std::vector<std::string> seen;
  auto record = [&](std::string s) {
    std::lock_guard<std::mutex> guard{mu};
    seen.push_back(std::move(s));
  };
  test_node n{[&](engine::config& cfg) { game_namespaces(cfg); }};
  // Hooks must be set before start: use a second node configured the same way.
  engine::hooks h;
  h.on_connect = [&](const engine::connection_event& e) { record("connect " + e.user); };
  h.on_join = [&](const engine::join_event& e) { record("join " + e.channel); };
  h.on_message = [&](const engine::message_event& e) { record("message " + e.data); };
  h.on_disconnect = [&](const engine::connection_event& e) { record("disconnect " + e.user); };
  auto cfg = test_config();
  game_namespaces(cfg);
  engine::node hooked{cfg};
  hooked.set_hooks(h);
  auto port = hooked.start();
  {
    auto c = ws_client::connect(port);
    ASSERT_TRUE(c->open());
    auto welcome = c->read_message();
    c->send_text(R"({"type":"subscribe","channel":"match-input:1","id":1})");
    ASSERT_TRUE(c->read_type("subscribed"));
    c->send_text(R"({"type":"publish","channel":"match-input:1","data":{"dx":-1},"id":2})");
    ASSERT_TRUE(c->read_type("ack"));
  }
  auto has = [&](const std::string& prefix) {
    std::lock_guard<std::mutex> guard{mu};
    for (const auto& s : seen) {
      if (s.rfind(prefix, 0) == 0) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(wait_until(5s, [&] { return has("disconnect "); }));
  EXPECT_TRUE(has("connect "));
  EXPECT_TRUE(has("join match-input:1"));
  EXPECT_TRUE(has(R"(message {"dx":-1})"));
  hooked.stop();
}

} // namespace
} // namespace plexus::test
