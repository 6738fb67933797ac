// The presence tracker on the testing scheduler: what it tells rooms (through the
// registry) and listeners on joins, leaves, status changes, session deaths and staleness.
#include "actors/presence_tracker.hpp"

#include <caf/send.hpp>
#include <gtest/gtest.h>

#include "tests/actors/actor_test_support.hpp"

namespace plexus::actors::test {
namespace {

using namespace std::chrono_literals;

/// One member_event as the registry saw it.
struct room_event {
  std::string what; // "join", "leave", "update"
  std::string channel;
  member who;
};

/// One presence_event as a listener saw it.
struct listener_event {
  presence_event::kind what;
  std::string channel;
  member who;
};

class presence_tracker_test : public actor_test {
protected:
  presence_tracker_test() {
    settings->presence.heartbeat_interval_ms = 500;
    settings->presence.stale_threshold_ms = 1000; // swept every 250 ms
    registry = recorder(registry_log);
    tracker = keep(sys->spawn(presence_tracker_actor, ctx, registry));
    listener = recorder(listener_log);
    caf::anon_send(tracker, listen_atom::value, listener);
    run();
  }

  caf::actor session() {
    return recorder(std::make_shared<std::vector<caf::message>>());
  }

  void join(const caf::actor& s, const std::string& channel, const member& who) {
    caf::send_as(s, tracker, join_atom::value, channel, who);
    run();
  }
  void leave(const caf::actor& s, const std::string& channel) {
    caf::send_as(s, tracker, leave_atom::value, channel);
    run();
  }
  void heartbeat(const caf::actor& s) {
    caf::send_as(s, tracker, heartbeat_atom::value);
    run();
  }
  void status(const caf::actor& s, const std::string& status, std::optional<payload> meta,
              const member& who) {
    caf::send_as(s, tracker, status_atom::value, status_change{status, std::move(meta)}, who);
    run();
  }

  /// What the registry got since the last call.
  std::vector<room_event> room_events() {
    std::vector<room_event> out;
    for (auto& m : *registry_log) {
      if (m.match_elements<caf::atom_value, member_event>()) {
        auto a = m.get_as<caf::atom_value>(0);
        auto& ev = m.get_as<member_event>(1);
        out.push_back({a == join_atom::value    ? "join"
                       : a == leave_atom::value ? "leave"
                                                : "update",
                       ev.channel, ev.who});
      }
    }
    registry_log->clear();
    return out;
  }

  /// What the listener got since the last call.
  std::vector<listener_event> heard() {
    std::vector<listener_event> out;
    for (auto& m : *listener_log) {
      if (m.match_elements<presence_event>()) {
        auto& ev = m.get_as<presence_event>(0);
        out.push_back({ev.what, ev.channel, ev.who});
      }
    }
    listener_log->clear();
    return out;
  }

  int64_t gauge() const {
    return ctx.stats->presence_members.load();
  }

  message_log registry_log = std::make_shared<std::vector<caf::message>>();
  message_log listener_log = std::make_shared<std::vector<caf::message>>();
  caf::actor registry;
  caf::actor tracker;
  caf::actor listener;
};

TEST_F(presence_tracker_test, join_and_leave_reach_the_room_and_listeners) {
  auto s = session();
  auto alice = make_member("alice", "s1");
  join(s, "room:a", alice);
  auto ev = room_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, "join");
  EXPECT_EQ(ev[0].channel, "room:a");
  EXPECT_EQ(ev[0].who, alice);
  auto h = heard();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].what, presence_event::kind::join);
  EXPECT_EQ(gauge(), 1);
  join(s, "room:a", alice);
  EXPECT_TRUE(room_events().empty()) << "a second join of the same room is a no-op";
  leave(s, "room:a");
  ev = room_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, "leave");
  EXPECT_EQ(heard().at(0).what, presence_event::kind::leave);
  EXPECT_EQ(gauge(), 0);
  leave(s, "room:a");
  EXPECT_TRUE(room_events().empty()) << "leaving twice sends one leave";
}

TEST_F(presence_tracker_test, sessions_of_one_user_are_tracked_apart) {
  auto laptop = session();
  auto phone = session();
  join(laptop, "room:a", make_member("alice", "s1"));
  join(phone, "room:a", make_member("alice", "s2"));
  room_events();
  EXPECT_EQ(gauge(), 2);
  caf::anon_send_exit(phone, caf::exit_reason::kill);
  run();
  auto ev = room_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, "leave");
  EXPECT_EQ(ev[0].who.session, "s2");
  EXPECT_EQ(gauge(), 1);
}

TEST_F(presence_tracker_test, session_down_leaves_every_room) {
  auto s = session();
  join(s, "room:a", make_member("alice", "s1"));
  join(s, "room:b", make_member("alice", "s1"));
  room_events();
  heard();
  caf::anon_send_exit(s, caf::exit_reason::kill); // a reset socket or heartbeat timeout
  run();
  auto ev = room_events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].what, "leave");
  EXPECT_EQ(ev[1].what, "leave");
  EXPECT_NE(ev[0].channel, ev[1].channel);
  EXPECT_EQ(heard().size(), 2u);
  EXPECT_EQ(gauge(), 0);
}

TEST_F(presence_tracker_test, status_updates_every_room_and_tells_listeners) {
  auto s = session();
  auto alice = make_member("alice", "s1");
  join(s, "room:a", alice);
  join(s, "room:b", alice);
  room_events();
  heard();
  auto meta = payload{wire_format::json, R"({"game":"chess"})"};
  status(s, "busy", meta, alice);
  auto ev = room_events();
  ASSERT_EQ(ev.size(), 2u);
  for (auto& e : ev) {
    EXPECT_EQ(e.what, "update");
    EXPECT_EQ(e.who.status, "busy");
    EXPECT_EQ(e.who.meta, meta);
  }
  auto h = heard();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].what, presence_event::kind::status);
  EXPECT_EQ(h[0].who.status, "busy");
  EXPECT_EQ(h[0].who.session, "s1");
  // A rejoin carries the new status.
  leave(s, "room:a");
  join(s, "room:a", alice);
  EXPECT_EQ(room_events().back().who.status, "busy");
}

TEST_F(presence_tracker_test, status_of_a_session_in_no_presence_room_still_reaches_listeners) {
  auto s = session();
  status(s, "away", std::nullopt, make_member("bob", "s9"));
  EXPECT_TRUE(room_events().empty());
  auto h = heard();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].what, presence_event::kind::status);
  EXPECT_EQ(h[0].who.user, "bob");
  EXPECT_EQ(h[0].who.status, "away");
}

TEST_F(presence_tracker_test, heartbeats_keep_a_member_present) {
  auto s = session();
  join(s, "room:a", make_member("alice", "s1"));
  room_events();
  for (int i = 0; i < 20; ++i) {
    advance(400ms);
    heartbeat(s);
  }
  EXPECT_TRUE(room_events().empty()) << "8 s of heartbeats every 400 ms: never stale";
}

TEST_F(presence_tracker_test, a_silent_member_goes_stale_and_comes_back_on_heartbeat) {
  auto s = session();
  auto alice = make_member("alice", "s1");
  join(s, "room:a", alice);
  join(s, "room:b", alice);
  room_events();
  heard();
  advance(750ms);
  EXPECT_TRUE(room_events().empty());
  advance(500ms); // past the threshold and a sweep
  auto ev = room_events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].what, "leave");
  EXPECT_EQ(ev[1].what, "leave");
  auto h = heard();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].what, presence_event::kind::leave);
  EXPECT_EQ(gauge(), 0) << "stale members are not counted";
  advance(5s);
  EXPECT_TRUE(room_events().empty()) << "one leave per staleness, not one per sweep";
  heartbeat(s);
  ev = room_events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].what, "join");
  EXPECT_EQ(ev[0].who, alice);
  EXPECT_EQ(heard().size(), 2u);
  EXPECT_EQ(gauge(), 2);
}

TEST_F(presence_tracker_test, stale_members_leave_and_die_without_a_second_leave) {
  auto s = session();
  join(s, "room:a", make_member("alice", "s1"));
  advance(1500ms);
  EXPECT_EQ(room_events().size(), 2u); // join, stale leave
  heard();
  leave(s, "room:a");
  EXPECT_TRUE(room_events().empty());
  EXPECT_TRUE(heard().empty());
  join(s, "room:b", make_member("alice", "s1"));
  EXPECT_TRUE(room_events().empty()) << "a stale session's new room waits for a heartbeat";
  caf::anon_send_exit(s, caf::exit_reason::kill);
  run();
  EXPECT_TRUE(room_events().empty());
  EXPECT_TRUE(heard().empty());
  EXPECT_EQ(gauge(), 0);
}

TEST_F(presence_tracker_test, status_while_stale_shows_on_return) {
  auto s = session();
  auto alice = make_member("alice", "s1");
  join(s, "room:a", alice);
  advance(1500ms);
  room_events();
  status(s, "away", std::nullopt, alice);
  EXPECT_TRUE(room_events().empty()) << "a stale member is not in the room to update";
  heartbeat(s);
  auto ev = room_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, "join");
  EXPECT_EQ(ev[0].who.status, "away");
}

TEST_F(presence_tracker_test, a_listener_that_goes_down_is_dropped) {
  caf::anon_send_exit(listener, caf::exit_reason::kill);
  run();
  auto s = session();
  join(s, "room:a", make_member("alice", "s1"));
  EXPECT_EQ(room_events().size(), 1u);
  EXPECT_TRUE(heard().empty());
}

} // namespace
} // namespace plexus::actors::test
