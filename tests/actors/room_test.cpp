// The room actor on the testing scheduler: presence diffs, the count-only switch, history
// and recovery, publish rules and the idle handshake with the registry.
#include "actors/room.hpp"

#include <caf/send.hpp>
#include <gtest/gtest.h>

#include "actors/error.hpp"
#include "tests/actors/actor_test_support.hpp"

namespace plexus::actors::test {
namespace {

/// A stand-in for a session: an actor the room monitors, and the outbox it writes to.
struct fake_session {
  caf::actor actor;
  message_log log = std::make_shared<std::vector<caf::message>>();
  vector_outbox_ptr out = std::make_shared<vector_outbox>();
};

class room_test : public actor_test {
protected:
  room_test() {
    registry = recorder(registry_log);
  }

  caf::actor spawn_room(const std::string& channel) {
    room_config rc;
    rc.channel = channel;
    rc.ctx = ctx;
    rc.registry = registry;
    auto r = keep(sys->spawn(room_actor, std::move(rc)));
    run();
    return r;
  }

  fake_session session() {
    fake_session s;
    s.actor = recorder(s.log);
    return s;
  }

  /// Subscribes `s`, with `since`/`epoch` when given; returns the room's reply.
  subscribe_reply subscribe(const caf::actor& room, fake_session& s, const std::string& channel,
                            std::optional<uint64_t> since = std::nullopt,
                            std::optional<std::string> epoch = std::nullopt) {
    s.log->clear();
    caf::send_as(s.actor, room, subscribe_atom::value,
                 subscribe_args{channel, "sess", "user", s.out, since, std::move(epoch), 1});
    run();
    for (auto& m : *s.log) {
      if (m.match_elements<subscribe_reply>()) {
        return m.get_as<subscribe_reply>(0);
      }
    }
    ADD_FAILURE() << "no subscribe reply";
    return {};
  }

  void publish(const caf::actor& room, const std::string& channel, int value) {
    publish_args args;
    args.channel = channel;
    args.data = payload{wire_format::json, std::to_string(value)};
    args.server = true;
    caf::anon_send(room, publish_atom::value, std::move(args));
  }

  void join(const caf::actor& room, const std::string& channel, const member& m) {
    caf::anon_send(room, join_atom::value, member_event{channel, m});
  }
  void leave(const caf::actor& room, const std::string& channel, const member& m) {
    caf::anon_send(room, leave_atom::value, member_event{channel, m});
  }

  /// Offsets of the `message` frames in `frames`, in order.
  static std::vector<int64_t> offsets(const std::vector<std::string>& frames) {
    std::vector<int64_t> out;
    for (auto& f : frames) {
      if (type_of(f) == "message") {
        out.push_back(json_int(f, "offset").value_or(-1));
      }
    }
    return out;
  }

  /// The idle reports the registry got.
  std::vector<uint64_t> idle_reports() const {
    std::vector<uint64_t> out;
    for (auto& m : *registry_log) {
      if (m.match_elements<caf::atom_value, uint64_t>()
          && m.get_as<caf::atom_value>(0) == idle_atom::value) {
        out.push_back(m.get_as<uint64_t>(1));
      }
    }
    return out;
  }

  message_log registry_log = std::make_shared<std::vector<caf::message>>();
  caf::actor registry;
};

// -- subscribe and presence --------------------------------------------------------------------

TEST_F(room_test, subscribe_pushes_subscribed_then_the_member_list) {
  auto room = spawn_room("room:a");
  auto s = session();
  auto reply = subscribe(room, s, "room:a");
  EXPECT_EQ(reply.offset, 0u);
  EXPECT_EQ(reply.epoch.size(), 16u);
  auto frames = s.out->frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(type_of(frames[0]), "subscribed");
  EXPECT_EQ(json_int(frames[0], "id"), 1);
  EXPECT_EQ(json_str(frames[0], "epoch"), reply.epoch);
  EXPECT_FALSE(json_bool(frames[0], "recovered").has_value()) << "no since, no recovered";
  EXPECT_EQ(type_of(frames[1]), "presence");
  EXPECT_TRUE(json_members(frames[1], "members").empty());
  EXPECT_EQ(ctx.stats->rooms.load(), 1);
}

TEST_F(room_test, joins_updates_and_leaves_reach_every_member_as_diffs) {
  auto room = spawn_room("room:a");
  auto a = session();
  auto b = session();
  subscribe(room, a, "room:a");
  subscribe(room, b, "room:a");
  a.out->take();
  b.out->take();
  auto alice = make_member("alice", "s1");
  join(room, "room:a", alice);
  run();
  for (auto* s : {&a, &b}) {
    auto diffs = s->out->take();
    ASSERT_EQ(diffs.size(), 1u);
    EXPECT_EQ(type_of(diffs[0]), "presence_diff");
    EXPECT_EQ(json_members(diffs[0], "joins"), member_list{alice});
    EXPECT_TRUE(json_members(diffs[0], "leaves").empty());
  }
  alice.status = "away";
  alice.meta = payload{wire_format::json, R"({"mood":"busy"})"};
  caf::anon_send(room, update_atom::value, member_event{"room:a", alice});
  run();
  auto upd = a.out->take();
  ASSERT_EQ(upd.size(), 1u);
  EXPECT_EQ(json_members(upd[0], "updates"), member_list{alice});
  EXPECT_TRUE(json_members(upd[0], "joins").empty());
  b.out->take();
  leave(room, "room:a", alice);
  run();
  auto gone = b.out->take();
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(json_members(gone[0], "leaves"), member_list{alice});
}

TEST_F(room_test, several_sessions_of_one_user_are_separate_members) {
  auto room = spawn_room("room:a");
  auto w = session();
  subscribe(room, w, "room:a");
  w.out->take();
  auto laptop = make_member("alice", "s1");
  auto phone = make_member("alice", "s2", "away");
  join(room, "room:a", laptop);
  join(room, "room:a", phone);
  run();
  auto diffs = w.out->take();
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(json_members(diffs[0], "joins")[0].session, "s1");
  EXPECT_EQ(json_members(diffs[1], "joins")[0].session, "s2");
  auto q = session();
  caf::send_as(q.actor, room, presence_atom::value, std::string{"room:a"});
  run();
  ASSERT_EQ(q.log->size(), 1u);
  auto members = q.log->at(0).get_as<member_list>(0);
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].user, "alice");
  EXPECT_EQ(members[1].user, "alice");
  EXPECT_NE(members[0].session, members[1].session);
  // The phone leaves: the diff names that session, the laptop stays.
  leave(room, "room:a", phone);
  run();
  auto gone = w.out->take();
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(json_members(gone[0], "leaves"), member_list{phone});
  auto late = session();
  subscribe(room, late, "room:a");
  EXPECT_EQ(json_members(late.out->of_type("presence").at(0), "members"), member_list{laptop});
}

TEST_F(room_test, a_rejoin_of_a_known_session_is_an_update) {
  auto room = spawn_room("room:a");
  auto w = session();
  subscribe(room, w, "room:a");
  w.out->take();
  join(room, "room:a", make_member("alice", "s1"));
  join(room, "room:a", make_member("alice", "s1", "busy"));
  run();
  auto diffs = w.out->take();
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(json_members(diffs[1], "updates").at(0).status, "busy");
  EXPECT_TRUE(json_members(diffs[1], "joins").empty());
}

TEST_F(room_test, join_leave_off_keeps_members_quiet_but_listed) {
  ns("room").join_leave = false;
  auto room = spawn_room("room:quiet");
  auto w = session();
  subscribe(room, w, "room:quiet");
  w.out->take();
  join(room, "room:quiet", make_member("alice", "s1"));
  run();
  EXPECT_TRUE(w.out->take().empty());
  auto late = session();
  subscribe(room, late, "room:quiet");
  EXPECT_EQ(json_members(late.out->of_type("presence").at(0), "members").size(), 1u);
}

TEST_F(room_test, count_only_above_presence_max_members_and_back) {
  // presence_max_members = 3 in the fixture.
  auto room = spawn_room("room:big");
  auto w = session();
  subscribe(room, w, "room:big");
  w.out->take();
  for (int i = 1; i <= 3; ++i) {
    join(room, "room:big", make_member("u" + std::to_string(i), "s" + std::to_string(i)));
  }
  run();
  EXPECT_EQ(w.out->take().size(), 3u) << "three diffs while at the limit";
  // Past the limit: no diffs, one coalesced count per second however many changes.
  for (int i = 4; i <= 6; ++i) {
    join(room, "room:big", make_member("u" + std::to_string(i), "s" + std::to_string(i)));
  }
  run();
  EXPECT_TRUE(w.out->take().empty());
  advance(std::chrono::milliseconds(999));
  EXPECT_TRUE(w.out->take().empty());
  advance(std::chrono::milliseconds(1));
  auto counts = w.out->take();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(type_of(counts[0]), "presence_count");
  EXPECT_EQ(json_int(counts[0], "count"), 6);
  // A newcomer gets the count, not 6 members.
  auto late = session();
  subscribe(room, late, "room:big");
  EXPECT_TRUE(late.out->of_type("presence").empty());
  ASSERT_EQ(late.out->of_type("presence_count").size(), 1u);
  EXPECT_EQ(json_int(late.out->of_type("presence_count")[0], "count"), 6);
  late.out->take();
  // Back to the limit: everyone gets the full list once, then diffs again.
  for (int i = 4; i <= 6; ++i) {
    leave(room, "room:big", make_member("u" + std::to_string(i), "s" + std::to_string(i)));
  }
  run();
  auto back = w.out->take();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(type_of(back[0]), "presence");
  EXPECT_EQ(json_members(back[0], "members").size(), 3u);
  EXPECT_EQ(late.out->of_type("presence").size(), 1u);
  advance(std::chrono::seconds(2));
  EXPECT_TRUE(w.out->take().empty()) << "no stale count after the switch back";
  leave(room, "room:big", make_member("u3", "s3"));
  run();
  auto diff = w.out->take();
  ASSERT_EQ(diff.size(), 1u);
  EXPECT_EQ(type_of(diff[0]), "presence_diff");
}

TEST_F(room_test, presence_query_without_presence_is_permission_denied) {
  auto room = spawn_room("plain"); // the default namespace: no presence
  auto answer = ask<member_list>(room, presence_atom::value, std::string{"plain"});
  run();
  ASSERT_TRUE(std::holds_alternative<caf::error>(*answer));
  EXPECT_EQ(code_of(std::get<caf::error>(*answer)), errc::permission_denied);
  // And its subscribers get no member list.
  auto s = session();
  subscribe(room, s, "plain");
  EXPECT_TRUE(s.out->of_type("presence").empty());
  join(room, "plain", make_member("alice", "s1"));
  run();
  EXPECT_EQ(s.out->frames().size(), 1u) << "joins are ignored without presence";
}

// -- publish -----------------------------------------------------------------------------------

TEST_F(room_test, subscribers_rule_refuses_outsiders_and_allows_the_server) {
  auto room = spawn_room("room:a"); // publish = "subscribers"
  auto outsider = session();
  publish_args args;
  args.channel = "room:a";
  args.data = payload{wire_format::json, "1"};
  args.publisher = outsider.actor.address();
  auto answer = ask<uint64_t>(room, publish_atom::value, args);
  run();
  ASSERT_TRUE(std::holds_alternative<caf::error>(*answer));
  EXPECT_EQ(code_of(std::get<caf::error>(*answer)), errc::permission_denied);
  auto s = session();
  subscribe(room, s, "room:a");
  publish(room, "room:a", 5);
  run();
  EXPECT_EQ(offsets(s.out->frames()), std::vector<int64_t>{1});
}

TEST_F(room_test, server_rule_refuses_even_subscribers) {
  ns("room").publish = publish_rule::server;
  auto room = spawn_room("room:ticks");
  auto s = session();
  subscribe(room, s, "room:ticks");
  publish_args args;
  args.channel = "room:ticks";
  args.data = payload{wire_format::json, "1"};
  args.publisher = s.actor.address();
  auto answer = ask<uint64_t>(room, publish_atom::value, args);
  run();
  ASSERT_TRUE(std::holds_alternative<caf::error>(*answer));
  EXPECT_EQ(code_of(std::get<caf::error>(*answer)), errc::permission_denied);
  publish(room, "room:ticks", 2); // the HTTP API or an embedded actor
  run();
  EXPECT_EQ(offsets(s.out->frames()), std::vector<int64_t>{1});
}

// -- history and recovery ----------------------------------------------------------------------

TEST_F(room_test, history_ring_wraps_and_recovery_replays_what_it_still_has) {
  auto room = spawn_room("room:h"); // history_size = 4
  auto first = session();
  auto epoch = subscribe(room, first, "room:h").epoch;
  for (int i = 1; i <= 6; ++i) {
    publish(room, "room:h", i);
  }
  run();
  EXPECT_EQ(offsets(first.out->frames()), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  // Offsets 3..6 are kept: since 2 needs exactly those.
  auto hit = session();
  auto r = subscribe(room, hit, "room:h", 2, epoch);
  EXPECT_TRUE(r.recovered);
  EXPECT_EQ(r.offset, 6u);
  auto frames = hit.out->frames();
  ASSERT_GE(frames.size(), 5u);
  EXPECT_EQ(type_of(frames[0]), "subscribed");
  EXPECT_EQ(json_bool(frames[0], "recovered"), true);
  EXPECT_EQ(offsets(frames), (std::vector<int64_t>{3, 4, 5, 6}));
  EXPECT_EQ(frames[1], R"({"type":"message","channel":"room:h","data":3,"offset":3})");
  // Offset 2 fell off the ring: since 1 cannot be recovered without a gap.
  auto miss = session();
  auto m = subscribe(room, miss, "room:h", 1, epoch);
  EXPECT_FALSE(m.recovered);
  EXPECT_EQ(json_bool(miss.out->frames()[0], "recovered"), false);
  EXPECT_TRUE(offsets(miss.out->frames()).empty());
  // Up to date: recovered, nothing to replay.
  auto current = session();
  EXPECT_TRUE(subscribe(room, current, "room:h", 6, epoch).recovered);
  EXPECT_TRUE(offsets(current.out->frames()).empty());
  EXPECT_EQ(ctx.stats->recovery_hits_total.load(), 2u);
  EXPECT_EQ(ctx.stats->recovery_misses_total.load(), 1u);
}

TEST_F(room_test, history_ttl_expires_old_messages) {
  auto room = spawn_room("room:h"); // history_ttl_s = 60
  auto keep = session();
  auto epoch = subscribe(room, keep, "room:h").epoch;
  publish(room, "room:h", 1);
  publish(room, "room:h", 2);
  run();
  advance(std::chrono::seconds(30));
  publish(room, "room:h", 3);
  run();
  advance(std::chrono::seconds(30)); // 1 and 2 are 60 s old now
  auto a = session();
  EXPECT_FALSE(subscribe(room, a, "room:h", 0, epoch).recovered);
  auto b = session();
  EXPECT_TRUE(subscribe(room, b, "room:h", 2, epoch).recovered);
  EXPECT_EQ(offsets(b.out->frames()), std::vector<int64_t>{3});
  advance(std::chrono::seconds(30)); // 3 is gone too
  auto c = session();
  EXPECT_FALSE(subscribe(room, c, "room:h", 2, epoch).recovered);
  auto d = session();
  EXPECT_TRUE(subscribe(room, d, "room:h", 3, epoch).recovered) << "nothing was missed";
}

TEST_F(room_test, wrong_epoch_is_not_recovered_but_subscribed) {
  auto room = spawn_room("room:h");
  auto s = session();
  subscribe(room, s, "room:h");
  publish(room, "room:h", 1);
  run();
  auto late = session();
  auto r = subscribe(room, late, "room:h", 0, std::string{"0123456789abcdef"});
  EXPECT_FALSE(r.recovered);
  EXPECT_TRUE(offsets(late.out->frames()).empty());
  publish(room, "room:h", 2);
  run();
  EXPECT_EQ(offsets(late.out->frames()), std::vector<int64_t>{2}) << "live messages flow";
  EXPECT_EQ(ctx.stats->recovery_misses_total.load(), 1u);
}

TEST_F(room_test, publishes_racing_a_recovering_subscribe_are_neither_lost_nor_doubled) {
  auto room = spawn_room("room:h");
  auto s = session();
  auto epoch = subscribe(room, s, "room:h").epoch;
  publish(room, "room:h", 1);
  run();
  // The client saw 1, then lost its connection; 2 is published before its subscribe is
  // handled and 3 right after, all in one batch of mail.
  auto back = session();
  publish(room, "room:h", 2);
  caf::send_as(back.actor, room, subscribe_atom::value,
               subscribe_args{"room:h", "sess", "user", back.out, 1, epoch, 1});
  publish(room, "room:h", 3);
  run();
  auto frames = back.out->frames();
  EXPECT_EQ(type_of(frames.at(0)), "subscribed");
  EXPECT_EQ(json_int(frames[0], "offset"), 2);
  EXPECT_EQ(json_bool(frames[0], "recovered"), true);
  EXPECT_EQ(offsets(frames), (std::vector<int64_t>{2, 3}));
  // The member list comes after the replay and before live traffic.
  EXPECT_EQ(type_of(frames[2]), "presence");
}

TEST_F(room_test, replay_converts_to_the_recovering_clients_format) {
  auto room = spawn_room("room:h");
  auto s = session(); // json only: history frames carry json
  auto epoch = subscribe(room, s, "room:h").epoch;
  publish(room, "room:h", 7);
  run();
  fake_session mp;
  mp.actor = recorder(mp.log);
  mp.out = std::make_shared<vector_outbox>(wire_format::msgpack);
  caf::send_as(mp.actor, room, subscribe_atom::value,
               subscribe_args{"room:h", "sess", "user", mp.out, 0, epoch, 1});
  run();
  auto frames = mp.out->frames();
  ASSERT_GE(frames.size(), 2u);
  EXPECT_FALSE(frames[1].empty()) << "the replayed message was encoded as msgpack";
  EXPECT_EQ(to_json(payload{wire_format::msgpack, frames[1]}),
            R"({"type":"message","channel":"room:h","data":7,"offset":1})");
}

// -- lifecycle ---------------------------------------------------------------------------------

TEST_F(room_test, subscriber_down_is_removed) {
  auto room = spawn_room("news");
  auto s = session();
  subscribe(room, s, "news");
  caf::anon_send_exit(s.actor, caf::exit_reason::kill);
  run();
  auto q = session();
  caf::send_as(q.actor, room, channels_atom::value);
  run();
  ASSERT_EQ(q.log->size(), 1u);
  EXPECT_EQ(q.log->at(0).get_as<channel_info>(0).subscribers, 0u);
}

TEST_F(room_test, idle_room_reports_and_stops_on_the_registrys_word) {
  auto room = spawn_room("news"); // no presence, no history
  auto s = session();
  subscribe(room, s, "news");
  caf::send_as(s.actor, room, unsubscribe_atom::value, std::string{"news"});
  run();
  EXPECT_TRUE(idle_reports().empty()) << "lingers before reporting";
  advance(std::chrono::milliseconds(1001));
  ASSERT_EQ(idle_reports(), std::vector<uint64_t>{2}) << "subscribe + unsubscribe routed";
  caf::anon_send(room, stop_atom::value);
  run();
  EXPECT_EQ(ctx.stats->rooms.load(), 0);
}

TEST_F(room_test, idle_room_with_history_waits_for_the_ttl) {
  auto room = spawn_room("room:h"); // history_ttl_s = 60
  publish(room, "room:h", 1);
  run();
  advance(std::chrono::seconds(2));
  EXPECT_TRUE(idle_reports().empty()) << "a client may still come back and recover";
  advance(std::chrono::seconds(59));
  EXPECT_EQ(idle_reports().size(), 1u);
}

TEST_F(room_test, idle_room_with_members_does_not_report) {
  auto room = spawn_room("room:a");
  join(room, "room:a", make_member("alice", "s1"));
  run();
  advance(std::chrono::seconds(5));
  EXPECT_TRUE(idle_reports().empty());
  leave(room, "room:a", make_member("alice", "s1"));
  run();
  advance(std::chrono::seconds(2));
  EXPECT_EQ(idle_reports().size(), 1u);
}

TEST_F(room_test, a_report_overtaken_by_traffic_is_followed_by_a_fresh_one) {
  auto room = spawn_room("news");
  publish(room, "news", 1);
  run();
  advance(std::chrono::milliseconds(1001));
  ASSERT_EQ(idle_reports(), std::vector<uint64_t>{1});
  // The registry routed another publish meanwhile, so it ignores the report; the room
  // reports again with the new count once idle again.
  publish(room, "news", 2);
  run();
  advance(std::chrono::milliseconds(1001));
  EXPECT_EQ(idle_reports(), (std::vector<uint64_t>{1, 2}));
}

} // namespace
} // namespace plexus::actors::test
