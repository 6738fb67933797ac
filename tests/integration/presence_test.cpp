// Presence end to end over real sockets: joins, status changes and leaves (clean, reset,
// heartbeat timeout, stale), the presence query over WebSocket and HTTP, the count-only
// switch, and every bad input of issue 3.
#include <gtest/gtest.h>

#include "tests/support/test_node.hpp"

namespace plexus::test {
namespace {

using actors::rejection;

/// A connected client with its welcome's session and user.
struct member_client {
  std::unique_ptr<ws_client> ws;
  std::string session;
  std::string user;
};

/// True when `frame` is a presence_diff whose `list` names `session`.
bool diff_names(const std::string& frame, const char* list, const std::string& session) {
  return json_string(frame, "type") == "presence_diff"
         && json_raw(frame, list).find("\"session\":\"" + session + "\"") != std::string::npos;
}

/// Reads until a presence_diff listing `session` under `list` arrives.
std::optional<std::string> wait_diff(ws_client& c, const char* list, const std::string& session,
                                     std::chrono::milliseconds timeout = 5s) {
  return c.read_until([&](const std::string& f) { return diff_names(f, list, session); }, timeout);
}

/// Connects and subscribes to `channel`. Presence is eventual (docs/protocol.md): the
/// member's own join reaches the room just after its `subscribed`, so by default this waits
/// for that join's diff, after which the member is in every list and query.
member_client join_room(test_node& n, const std::string& channel, bool await_own_join = true) {
  member_client m;
  m.ws = n.connect();
  EXPECT_TRUE(m.ws->open());
  m.session = json_string(n.last_welcome, "session");
  m.user = json_string(n.last_welcome, "user");
  m.ws->send_text(R"({"type":"subscribe","channel":")" + channel + R"(","id":1})");
  EXPECT_TRUE(m.ws->read_type("subscribed"));
  if (await_own_join) {
    EXPECT_TRUE(wait_diff(*m.ws, "joins", m.session)) << "a member sees its own join";
  }
  return m;
}

const std::vector<std::pair<std::string, std::string>> api_key_header
  = {{"Authorization", std::string{"apikey "} + test_node::api_key}};

TEST(presence, two_users_see_each_other_join_change_status_and_leave) {
  test_node n;
  auto a = join_room(n, "room:chat"); // and sees its own join
  auto b = n.connect();
  auto b_session = json_string(n.last_welcome, "session");
  auto b_user = json_string(n.last_welcome, "user");
  b->send_text(R"({"type":"subscribe","channel":"room:chat","id":1})");
  ASSERT_TRUE(b->read_type("subscribed"));
  auto list = b->read_type("presence");
  ASSERT_TRUE(list);
  EXPECT_EQ(json_array_size(*list, "members"), 1u);
  EXPECT_NE(json_raw(*list, "members").find("\"user\":\"" + a.user + "\""), std::string::npos);
  auto joined = wait_diff(*a.ws, "joins", b_session);
  ASSERT_TRUE(joined);
  EXPECT_NE(json_raw(*joined, "joins").find("\"user\":\"" + b_user + "\""), std::string::npos);
  // Status and meta: acked, and an update for every member.
  b->send_text(R"({"type":"status","status":"away","meta":{"note":"lunch"},"id":5})");
  auto ack = b->read_type("ack");
  ASSERT_TRUE(ack);
  EXPECT_EQ(json_int(*ack, "id"), 5);
  auto upd = wait_diff(*a.ws, "updates", b_session);
  ASSERT_TRUE(upd);
  auto updates = json_raw(*upd, "updates");
  EXPECT_NE(updates.find(R"("status":"away")"), std::string::npos) << updates;
  EXPECT_NE(updates.find(R"("meta":{"note":"lunch"})"), std::string::npos) << updates;
  // Clean unsubscribe, then clean close.
  b->send_text(R"({"type":"unsubscribe","channel":"room:chat","id":6})");
  ASSERT_TRUE(b->read_type("ack"));
  ASSERT_TRUE(wait_diff(*a.ws, "leaves", b_session));
  b->send_text(R"({"type":"subscribe","channel":"room:chat","id":7})");
  ASSERT_TRUE(b->read_type("subscribed"));
  ASSERT_TRUE(wait_diff(*a.ws, "joins", b_session));
  b->send_close(1000);
  EXPECT_TRUE(wait_diff(*a.ws, "leaves", b_session));
  EXPECT_TRUE(wait_until(2s, [&] { return n.stats().presence_members.load() == 1; }));
}

TEST(presence, a_reset_socket_is_a_leave) {
  test_node n;
  auto a = join_room(n, "room:chat");
  auto b = join_room(n, "room:chat");
  ASSERT_TRUE(wait_diff(*a.ws, "joins", b.session));
  b.ws->reset(); // RST, no close frame: a crashed client
  EXPECT_TRUE(wait_diff(*a.ws, "leaves", b.session));
  EXPECT_TRUE(wait_until(2s, [&] { return n.stats().presence_members.load() == 1; }));
}

TEST(presence, a_heartbeat_timeout_is_a_leave) {
  test_node n{[](engine::config& cfg) {
    cfg.websocket.heartbeat_interval_ms = 100;
    cfg.websocket.heartbeat_timeout_ms = 200;
  }};
  auto a = join_room(n, "room:chat");
  auto b = join_room(n, "room:chat");
  ASSERT_TRUE(wait_diff(*a.ws, "joins", b.session));
  b.ws->auto_pong = false; // the server's pings go unanswered: it closes the connection
  EXPECT_TRUE(wait_diff(*a.ws, "leaves", b.session)); // a answers pings while it reads
}

TEST(presence, a_silent_member_goes_stale_and_returns_when_it_speaks) {
  test_node n{[](engine::config& cfg) {
    cfg.presence.heartbeat_interval_ms = 100;
    cfg.presence.stale_threshold_ms = 400;
  }};
  auto a = join_room(n, "room:chat");
  auto b = join_room(n, "room:chat");
  EXPECT_EQ(json_int(n.last_welcome, "heartbeat_ms"), 100) << "presence.heartbeat_interval_ms";
  ASSERT_TRUE(wait_diff(*a.ws, "joins", b.session));
  // a keeps heartbeating with app pings; b's socket stays open (it answers WebSocket
  // pings, which are not presence heartbeats) but it sends nothing.
  std::optional<std::string> gone;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    a.ws->send_text(R"({"type":"ping"})");
    gone = wait_diff(*a.ws, "leaves", b.session, 100ms);
  }
  ASSERT_TRUE(gone) << "b never went stale";
  EXPECT_EQ(json_raw(*gone, "leaves").find(a.session), std::string::npos) << "a stayed";
  b.ws->send_text(R"({"type":"ping"})");
  EXPECT_TRUE(wait_diff(*a.ws, "joins", b.session)) << "b is back with its next frame";
}

TEST(presence, query_by_frame_and_http) {
  test_node n;
  auto a = join_room(n, "room:chat");
  auto b = join_room(n, "room:chat");
  ASSERT_TRUE(wait_diff(*a.ws, "joins", b.session));
  a.ws->send_text(R"({"type":"presence","channel":"room:chat","id":3})");
  auto p = a.ws->read_until(
    [](const std::string& f) { return json_string(f, "type") == "presence" && json_int(f, "id"); });
  ASSERT_TRUE(p);
  EXPECT_EQ(json_int(*p, "id"), 3);
  EXPECT_EQ(json_array_size(*p, "members"), 2u);
  auto r = http_request(n.port(), "GET", "/v1/presence?channel=room:chat", {}, api_key_header);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json_string(r.body, "channel"), "room:chat");
  EXPECT_EQ(json_array_size(r.body, "members"), 2u);
  EXPECT_NE(r.body.find("\"session\":\"" + a.session + "\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"session\":\"" + b.session + "\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("node":"test")"), std::string::npos) << r.body;
  // A presence room nobody is in yet: an empty list.
  auto empty = http_request(n.port(), "GET", "/v1/presence?channel=room:none", {}, api_key_header);
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(json_array_size(empty.body, "members"), 0u);
  EXPECT_EQ(http_request(n.port(), "GET", "/v1/presence?channel=room:chat").status, 401);
}

TEST(presence, count_only_above_presence_max_members_and_back) {
  test_node n{[](engine::config& cfg) {
    for (auto& ns : cfg.namespaces) {
      if (ns.name == "room") {
        ns.presence_max_members = 2;
      }
    }
  }};
  auto a = join_room(n, "room:big");
  auto b = join_room(n, "room:big");
  ASSERT_TRUE(wait_diff(*a.ws, "joins", b.session));
  // The third member takes the room past the limit: everyone gets a coalesced count
  // instead of diffs.
  auto c = join_room(n, "room:big", false); // past the limit: counts, no diffs
  auto count = a.ws->read_type("presence_count", 3s);
  ASSERT_TRUE(count);
  EXPECT_EQ(json_int(*count, "count"), 3);
  // A newcomer gets the count, not the list.
  auto d = n.connect();
  d->send_text(R"({"type":"subscribe","channel":"room:big","id":1})");
  auto first = d->read_until([](const std::string& f) {
    auto t = json_string(f, "type");
    return t == "presence" || t == "presence_count";
  });
  ASSERT_TRUE(first);
  EXPECT_EQ(json_string(*first, "type"), "presence_count");
  EXPECT_EQ(json_int(*first, "count"), 3) << "counted before d's own join";
  ASSERT_TRUE(wait_until(2s, [&] { return n.stats().presence_members.load() == 4; }));
  d->send_close(1000);
  // The tracker sends the leave on before it drops the gauge: once it shows 3, the room has
  // d's leave queued ahead of anything sent from here on.
  ASSERT_TRUE(wait_until(2s, [&] { return n.stats().presence_members.load() == 3; }));
  c.ws->send_text(R"({"type":"presence","channel":"room:big","id":4})");
  auto answer = c.ws->read_until([](const std::string& f) { return json_int(f, "id") == 4; });
  ASSERT_TRUE(answer);
  EXPECT_EQ(json_string(*answer, "type"), "presence_count");
  EXPECT_EQ(json_int(*answer, "count"), 3);
  // Back to the limit: the full list again.
  c.ws->send_close(1000);
  auto list = a.ws->read_type("presence");
  ASSERT_TRUE(list);
  EXPECT_EQ(json_array_size(*list, "members"), 2u);
}

/// Sends `frame`, expects `code` and one more rejection of `counted`, and a usable connection.
void expect_refused(test_node& n, ws_client& c, const std::string& frame, const std::string& code,
                    rejection counted) {
  auto before = n.stats().rejected_count(counted);
  c.send_text(frame);
  auto err = c.read_type("error");
  ASSERT_TRUE(err) << "no error for " << frame;
  EXPECT_EQ(json_string(*err, "code"), code) << frame << " -> " << *err;
  EXPECT_EQ(json_int(*err, "id"), 9) << *err;
  EXPECT_TRUE(wait_until(2s, [&] { return n.stats().rejected_count(counted) == before + 1; }))
    << frame;
  c.send_text(R"({"type":"ping","id":99})");
  EXPECT_TRUE(c.read_type("pong")) << "connection unusable after " << frame;
}

TEST(presence_bad_input, status_and_presence_frames) {
  test_node n;
  auto c = n.connect();
  auto bad = [&](const std::string& frame) {
    expect_refused(n, *c, frame, "bad_request", rejection::bad_request);
  };
  bad(R"({"type":"status","status":42,"id":9})");
  bad(R"({"type":"status","status":null,"id":9})");
  bad(R"({"type":"status","status":["away"],"id":9})");
  bad(R"({"type":"status","id":9})");
  bad(R"({"type":"status","status":"","id":9})");
  bad(R"({"type":"status","status":"away","meta":{"blob":")" + std::string(1100, 'x')
      + R"("},"id":9})");
  // meta up to 1 KiB is fine.
  c->send_text(R"({"type":"status","status":"away","meta":{"blob":")" + std::string(900, 'x')
               + R"("},"id":10})");
  auto ack = c->read_type("ack");
  ASSERT_TRUE(ack);
  EXPECT_EQ(json_int(*ack, "id"), 10);
  // Presence of a channel without presence (the default namespace): permission_denied.
  expect_refused(n, *c, R"({"type":"presence","channel":"news","id":9})", "permission_denied",
                 rejection::permission_denied);
  expect_refused(n, *c, R"({"type":"presence","channel":"bad name","id":9})", "invalid_channel",
                 rejection::invalid_channel);
}

TEST(presence_bad_input, subscribe_since_and_epoch) {
  test_node n;
  auto c = n.connect();
  auto bad = [&](const std::string& frame) {
    expect_refused(n, *c, frame, "bad_request", rejection::bad_request);
  };
  bad(R"({"type":"subscribe","channel":"room:h","since":3,"id":9})");
  bad(R"({"type":"subscribe","channel":"room:h","since":-1,"epoch":"abc","id":9})");
  bad(R"({"type":"subscribe","channel":"room:h","since":1.5,"epoch":"abc","id":9})");
  bad(R"({"type":"subscribe","channel":"room:h","since":"3","epoch":"abc","id":9})");
  bad(R"({"type":"subscribe","channel":"room:h","since":3,"epoch":7,"id":9})");
}

TEST(presence_bad_input, http_presence) {
  test_node n;
  auto before = n.stats().rejected_count(rejection::permission_denied);
  auto r = http_request(n.port(), "GET", "/v1/presence?channel=news", {}, api_key_header);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json_string(r.body, "error"), "permission_denied") << r.body;
  EXPECT_EQ(n.stats().rejected_count(rejection::permission_denied), before + 1);
  auto bad = http_request(n.port(), "GET", "/v1/presence?channel=bad%20name", {}, api_key_header);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json_string(bad.body, "error"), "invalid_channel") << bad.body;
  auto missing = http_request(n.port(), "GET", "/v1/presence", {}, api_key_header);
  EXPECT_EQ(missing.status, 400);
}

TEST(presence, metrics_count_rooms_and_members) {
  test_node n;
  auto a = join_room(n, "room:one");
  auto b = join_room(n, "room:two");
  ASSERT_TRUE(wait_until(2s, [&] { return n.stats().presence_members.load() == 2; }));
  auto m = http_request(n.port(), "GET", "/metrics");
  EXPECT_NE(m.body.find("plexus_presence_members 2\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("plexus_rooms 2\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("plexus_recovery_total{result=\"hit\"} 0\n"), std::string::npos);
}

} // namespace
} // namespace plexus::test
