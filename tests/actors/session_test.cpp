// Sessions with the real registry, rooms and presence tracker on the testing scheduler:
// client frames in, frames in vector outboxes out.
#include "actors/session.hpp"

#include <caf/send.hpp>
#include <gtest/gtest.h>

#include "actors/presence_tracker.hpp"
#include "actors/registry.hpp"
#include "tests/actors/actor_test_support.hpp"

namespace plexus::actors::test {
namespace {

using namespace std::chrono_literals;

/// A connected client: its session actor and what it was sent.
struct client {
  caf::actor session;
  vector_outbox_ptr out;
  std::string id;
};

class session_test : public actor_test {
protected:
  session_test() {
    settings->presence.heartbeat_interval_ms = 500;
    settings->presence.stale_threshold_ms = 1000;
    registry = keep(sys->spawn(registry_actor, ctx));
    tracker = keep(sys->spawn(presence_tracker_actor, ctx, registry));
    listener = recorder(listener_log);
    caf::anon_send(tracker, listen_atom::value, listener);
    run();
  }

  client connect(const std::string& user) {
    client c;
    c.out = std::make_shared<vector_outbox>();
    c.id = "s" + std::to_string(++sessions_);
    session_config sc;
    sc.id = c.id;
    sc.who.user = user;
    sc.who.anonymous = true; // no personal channel: keeps the frames to what a test does
    sc.out = c.out;
    sc.ctx = ctx;
    sc.registry = registry;
    sc.tracker = tracker;
    c.session = keep(sys->spawn(session_actor, std::move(sc)));
    run();
    // The connection, not the session, sends `welcome`: nothing is queued yet.
    EXPECT_TRUE(c.out->take().empty());
    return c;
  }

  void send(const client& c, std::optional<int64_t> id, client_body body) {
    caf::anon_send(c.session, client_message{id, std::move(body)});
    run();
  }
  void subscribe(const client& c, const std::string& channel) {
    send(c, std::nullopt, subscribe_request{channel, std::nullopt, std::nullopt});
  }
  void ping(const client& c) {
    send(c, std::nullopt, ping_request{});
  }
  void close(client& c) {
    caf::anon_send(c.session, closed_atom::value);
    run();
  }

  /// The presence_diff frames of `c` for `channel`, taking all of c's frames.
  static std::vector<std::string> diffs(client& c, const std::string& channel) {
    std::vector<std::string> out;
    for (auto& f : c.out->take()) {
      if (type_of(f) == "presence_diff" && json_str(f, "channel") == channel) {
        out.push_back(f);
      }
    }
    return out;
  }

  message_log listener_log = std::make_shared<std::vector<caf::message>>();
  caf::actor registry;
  caf::actor tracker;
  caf::actor listener;
  int sessions_ = 0;
};

TEST_F(session_test, two_users_see_each_other_join_and_leave) {
  auto alice = connect("alice");
  auto bob = connect("bob");
  subscribe(alice, "room:a");
  auto first = alice.out->take();
  ASSERT_EQ(type_of(first.at(0)), "subscribed");
  ASSERT_EQ(type_of(first.at(1)), "presence");
  EXPECT_TRUE(json_members(first[1], "members").empty());
  ASSERT_EQ(type_of(first.at(2)), "presence_diff") << "a member sees its own join";
  subscribe(bob, "room:a");
  auto b = bob.out->take();
  ASSERT_EQ(type_of(b.at(1)), "presence");
  auto listed = json_members(b[1], "members");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].user, "alice");
  EXPECT_EQ(listed[0].session, alice.id);
  EXPECT_EQ(listed[0].node, "n1");
  EXPECT_EQ(listed[0].status, "online");
  auto d = diffs(alice, "room:a");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(json_members(d[0], "joins").at(0).user, "bob");
  // Clean unsubscribe: a leave, and an ack.
  send(bob, 4, unsubscribe_request{"room:a"});
  EXPECT_EQ(json_int(bob.out->of_type("ack").at(0), "id"), 4);
  d = diffs(alice, "room:a");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(json_members(d[0], "leaves").at(0).session, bob.id);
  // Connection gone (close, reset or heartbeat timeout all end the session this way).
  subscribe(bob, "room:a");
  alice.out->take();
  close(bob);
  d = diffs(alice, "room:a");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(json_members(d[0], "leaves").at(0).session, bob.id);
  EXPECT_EQ(ctx.stats->presence_members.load(), 1);
}

TEST_F(session_test, sessions_of_one_user_are_listed_per_session) {
  auto watcher = connect("carol");
  subscribe(watcher, "room:a");
  auto laptop = connect("alice");
  auto phone = connect("alice");
  watcher.out->take();
  subscribe(laptop, "room:a");
  subscribe(phone, "room:a");
  auto d = diffs(watcher, "room:a");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(json_members(d[0], "joins").at(0).user, "alice");
  EXPECT_EQ(json_members(d[1], "joins").at(0).user, "alice");
  EXPECT_EQ(json_members(d[0], "joins").at(0).session, laptop.id);
  EXPECT_EQ(json_members(d[1], "joins").at(0).session, phone.id);
  send(watcher, 8, presence_request{"room:a"});
  auto p = watcher.out->of_type("presence");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(json_int(p[0], "id"), 8);
  EXPECT_EQ(json_members(p[0], "members").size(), 3u);
  watcher.out->take();
  close(phone);
  d = diffs(watcher, "room:a");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(json_members(d[0], "leaves").at(0).session, phone.id) << "the diff names the session";
}

TEST_F(session_test, status_updates_every_presence_room_acks_and_reaches_embedders) {
  auto alice = connect("alice");
  auto bob = connect("bob");
  for (auto* c : {&alice, &bob}) {
    subscribe(*c, "room:a");
    subscribe(*c, "room:b");
  }
  subscribe(alice, "news"); // no presence there: nothing to update
  alice.out->take();
  bob.out->take();
  listener_log->clear();
  send(alice, 5, status_request{"away", payload{wire_format::json, R"({"note":"lunch"})"}});
  auto acks = alice.out->of_type("ack");
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(json_int(acks[0], "id"), 5);
  auto check = [&](const std::string& status) {
    std::vector<std::string> rooms;
    for (auto& f : bob.out->take()) {
      ASSERT_EQ(type_of(f), "presence_diff");
      auto upd = json_members(f, "updates");
      ASSERT_EQ(upd.size(), 1u);
      EXPECT_EQ(upd[0].session, alice.id);
      EXPECT_EQ(upd[0].status, status);
      ASSERT_TRUE(upd[0].meta.has_value());
      EXPECT_EQ(upd[0].meta->bytes, R"({"note":"lunch"})");
      rooms.push_back(json_str(f, "channel"));
    }
    EXPECT_EQ(rooms, (std::vector<std::string>{"room:a", "room:b"}));
  };
  check("away");
  // A status without meta keeps the meta.
  send(alice, 6, status_request{"busy", std::nullopt});
  check("busy");
  // Embedders heard both changes.
  std::vector<std::string> statuses;
  for (auto& m : *listener_log) {
    if (m.match_elements<presence_event>()
        && m.get_as<presence_event>(0).what == presence_event::kind::status) {
      statuses.push_back(m.get_as<presence_event>(0).who.status);
    }
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"away", "busy"}));
}

TEST_F(session_test, status_before_joining_shows_in_the_join) {
  auto alice = connect("alice");
  auto bob = connect("bob");
  subscribe(bob, "room:a");
  bob.out->take();
  send(alice, std::nullopt, status_request{"away", std::nullopt});
  subscribe(alice, "room:a");
  auto d = diffs(bob, "room:a");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(json_members(d[0], "joins").at(0).status, "away");
}

TEST_F(session_test, presence_query_of_a_room_without_presence_is_permission_denied) {
  auto c = connect("alice");
  subscribe(c, "news");
  c.out->take();
  auto before = ctx.stats->rejected_count(rejection::permission_denied);
  send(c, 3, presence_request{"news"});
  auto err = c.out->of_type("error");
  ASSERT_EQ(err.size(), 1u);
  EXPECT_EQ(json_int(err[0], "id"), 3);
  EXPECT_EQ(json_str(err[0], "code"), "permission_denied");
  EXPECT_EQ(ctx.stats->rejected_count(rejection::permission_denied), before + 1);
}

TEST_F(session_test, presence_query_of_a_room_over_the_limit_is_a_count_with_the_id) {
  ns("room").presence_max_members = 2;
  std::vector<client> members;
  for (int i = 0; i < 3; ++i) {
    members.push_back(connect("u" + std::to_string(i)));
    subscribe(members.back(), "room:big");
  }
  auto q = connect("q");
  send(q, 9, presence_request{"room:big"});
  auto f = q.out->take();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(type_of(f[0]), "presence_count");
  EXPECT_EQ(json_int(f[0], "id"), 9);
  EXPECT_EQ(json_int(f[0], "count"), 3);
}

TEST_F(session_test, a_silent_session_goes_stale_and_returns_with_its_next_frame) {
  auto alice = connect("alice");
  auto bob = connect("bob");
  subscribe(alice, "room:a");
  subscribe(bob, "room:a");
  bob.out->take();
  // bob keeps talking, alice's socket stays open but she sends nothing.
  for (int i = 0; i < 4; ++i) {
    advance(400ms);
    ping(bob);
  }
  auto d = diffs(bob, "room:a");
  ASSERT_EQ(d.size(), 1u);
  auto gone = json_members(d[0], "leaves");
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].session, alice.id);
  EXPECT_EQ(ctx.stats->presence_members.load(), 1);
  ping(alice); // any frame is a heartbeat
  d = diffs(bob, "room:a");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(json_members(d[0], "joins").at(0).session, alice.id);
  EXPECT_EQ(ctx.stats->presence_members.load(), 2);
}

TEST_F(session_test, subscribe_with_since_and_epoch_recovers_through_the_session) {
  auto pub = connect("alice");
  subscribe(pub, "room:h");
  auto sub = pub.out->of_type("subscribed").at(0);
  auto epoch = json_str(sub, "epoch");
  for (int i = 1; i <= 3; ++i) {
    send(pub, std::nullopt, publish_request{"room:h", payload{wire_format::json, "1"}});
  }
  auto back = connect("bob");
  send(back, 2, subscribe_request{"room:h", 1, epoch});
  auto f = back.out->take();
  ASSERT_GE(f.size(), 3u);
  EXPECT_EQ(type_of(f[0]), "subscribed");
  EXPECT_EQ(json_int(f[0], "id"), 2);
  EXPECT_EQ(json_bool(f[0], "recovered"), true);
  EXPECT_EQ(json_int(f[1], "offset"), 2);
  EXPECT_EQ(json_int(f[2], "offset"), 3);
  auto wrong = connect("carol");
  send(wrong, 3, subscribe_request{"room:h", 1, std::string{"ffffffffffffffff"}});
  auto w = wrong.out->take();
  EXPECT_EQ(json_bool(w.at(0), "recovered"), false);
  EXPECT_EQ(type_of(w.at(1)), "presence") << "no replay after a miss";
  EXPECT_EQ(ctx.stats->recovery_hits_total.load(), 1u);
  EXPECT_EQ(ctx.stats->recovery_misses_total.load(), 1u);
}

} // namespace
} // namespace plexus::actors::test
