// Connection behaviour over real sockets: formats, heartbeats, slow consumers, echo,
// compression, HTTP routes and shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <zlib.h>

#include <msgpack.hpp>

#include "tests/support/test_node.hpp"

namespace plexus::test {
namespace {

std::map<std::string, msgpack::object> unpack_map(const std::string& bytes,
                                                  msgpack::object_handle& holder) {
  holder = msgpack::unpack(bytes.data(), bytes.size());
  return holder.get().as<std::map<std::string, msgpack::object>>();
}

std::string pack_publish(const std::string& channel, int value, int id) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(4);
  pk.pack(std::string("type"));
  pk.pack(std::string("publish"));
  pk.pack(std::string("channel"));
  pk.pack(channel);
  pk.pack(std::string("data"));
  pk.pack_map(1);
  pk.pack(std::string("v"));
  pk.pack(value);
  pk.pack(std::string("id"));
  pk.pack(id);
  return {buf.data(), buf.size()};
}

std::string inflate_raw(const std::string& in) {
  z_stream zs{};
  inflateInit2(&zs, -15);
  std::string src = in + std::string("\x00\x00\xff\xff", 4);
  zs.next_in = reinterpret_cast<Bytef*>(src.data());
  zs.avail_in = static_cast<uInt>(src.size());
  std::string out(1 << 20, '\0');
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  inflate(&zs, Z_SYNC_FLUSH);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

TEST(connection, json_and_msgpack_clients_share_a_channel) {
  test_node n;
  auto json = n.connect();
  ws_request req;
  req.subprotocol = "plexus.msgpack";
  auto mp = n.connect(req);
  ASSERT_TRUE(mp->open());
  json->send_text(R"({"type":"subscribe","channel":"mix","id":1})");
  ASSERT_TRUE(json->read_type("subscribed"));
  // msgpack subscribe
  {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_map(3);
    pk.pack(std::string("type"));
    pk.pack(std::string("subscribe"));
    pk.pack(std::string("channel"));
    pk.pack(std::string("mix"));
    pk.pack(std::string("id"));
    pk.pack(2);
    mp->send_binary({buf.data(), buf.size()});
    auto sub = mp->read_message();
    ASSERT_TRUE(sub);
    msgpack::object_handle h;
    EXPECT_EQ(unpack_map(*sub, h).at("type").as<std::string>(), "subscribed");
  }
  // A msgpack publish reaches the JSON client as JSON...
  mp->send_binary(pack_publish("mix", 5, 3));
  auto msg = json->read_type("message");
  ASSERT_TRUE(msg);
  EXPECT_EQ(json_raw(*msg, "data"), R"({"v":5})");
  // ...and the msgpack client (a subscriber too) gets it as msgpack.
  bool got_message = false;
  for (int i = 0; i < 3 && !got_message; ++i) {
    auto m = mp->read_message();
    ASSERT_TRUE(m);
    msgpack::object_handle h;
    auto map = unpack_map(*m, h);
    if (map.at("type").as<std::string>() == "message") {
      got_message = true;
      auto data = map.at("data").as<std::map<std::string, int>>();
      EXPECT_EQ(data.at("v"), 5);
    }
  }
  EXPECT_TRUE(got_message);
  // A JSON publish reaches the msgpack client as msgpack.
  json->send_text(R"({"type":"publish","channel":"mix","data":[1,"two",null]})");
  auto m = mp->read_until([](const std::string& bytes) {
    msgpack::object_handle h;
    auto map = unpack_map(bytes, h);
    return map.at("type").as<std::string>() == "message" && map.at("offset").as<int>() == 2;
  });
  ASSERT_TRUE(m);
}

TEST(connection, silent_client_is_closed_after_heartbeat_timeout) {
  test_node n{[](engine::config& cfg) {
    cfg.websocket.heartbeat_interval_ms = 100;
    cfg.websocket.heartbeat_timeout_ms = 200;
  }};
  auto silent = n.connect();
  silent->auto_pong = false;
  auto alive = n.connect();
  // The live client answers pings (on its own thread) until the silent one is gone.
  std::atomic<bool> done{false};
  std::thread responder([&] {
    while (!done) {
      alive->read_frame(20ms);
    }
  });
  // The silent client never answers the server's pings: closed within interval + timeout.
  auto closed = silent->wait_closed(3s);
  done = true;
  responder.join();
  EXPECT_TRUE(closed.has_value());
  EXPECT_EQ(n.stats().rejected_count(actors::rejection::heartbeat_timeout), 1u);
  EXPECT_GE(alive->pings_seen, 1);
  alive->send_text(R"({"type":"ping","id":1})");
  EXPECT_TRUE(alive->read_type("pong"));
}

TEST(connection, slow_consumer_is_cut_with_4009_while_fast_ones_keep_receiving) {
  test_node n{[](engine::config& cfg) {
    // The limit bounds bursts too: 1 MiB absorbs the test's bursts of 100 x 4 KB.
    cfg.websocket.send_queue_limit_bytes = 1024 * 1024;
    cfg.session_limits.messages_per_minute = 1000000;
  }};
  ws_request slow_req;
  slow_req.rcvbuf = 4096;
  auto slow = n.connect(slow_req);
  auto fast = n.connect();
  auto pub = n.connect();
  for (auto* c : {slow.get(), fast.get()}) {
    c->send_text(R"({"type":"subscribe","channel":"firehose","id":1})");
    ASSERT_TRUE(c->read_type("subscribed"));
  }
  constexpr int count = 3000; // 12 MB: far past what the kernel buffers for the slow one
  std::atomic<int> received{0};
  std::thread reader([&] {
    while (received < count) {
      auto m = fast->read_message(5s);
      if (!m) {
        return;
      }
      received += m->rfind(R"({"type":"message")", 0) == 0;
    }
  });
  std::string payload(4000, 'p');
  for (int i = 0; i < count; ++i) {
    pub->send_text(R"({"type":"publish","channel":"firehose","data":")" + payload + "\"}");
    if (i % 100 == 99) {
      // Publish in bursts the fast subscriber keeps up with; the slow one never reads.
      if (!wait_until(5s, [&] { return received >= i - 50; })) {
        ADD_FAILURE() << "fast subscriber stuck at " << received << " of " << i;
        break;
      }
    }
  }
  reader.join();
  EXPECT_EQ(received.load(), count) << "the fast subscriber must get every message";
  EXPECT_EQ(slow->wait_closed(10s), 4009);
  EXPECT_GE(n.stats().slow_consumers_total.load(), 1u);
}

TEST(connection, echo_endpoint_echoes_text_and_binary) {
  test_node n;
  ws_request req;
  req.path = "/ws/echo";
  auto c = n.connect(req);
  ASSERT_TRUE(c->open());
  c->send_text("hello");
  EXPECT_EQ(c->read_message(), "hello");
  c->send_binary(std::string("\x00\x01\x02", 3));
  EXPECT_EQ(c->read_message(), std::string("\x00\x01\x02", 3));
}

TEST(connection, echo_endpoint_is_off_unless_enabled) {
  test_node n{[](engine::config& cfg) { cfg.websocket.echo_endpoint = false; }};
  ws_request req;
  req.path = "/ws/echo";
  auto c = n.connect(req);
  EXPECT_FALSE(c->open());
  EXPECT_EQ(c->answer().status, 404);
}

TEST(connection, permessage_deflate_compresses_large_broadcasts) {
  test_node n;
  ws_request req;
  req.extensions = "permessage-deflate; client_max_window_bits";
  auto c = n.connect(req);
  ASSERT_TRUE(c->open());
  auto ext = c->answer().header("sec-websocket-extensions");
  EXPECT_NE(ext.find("permessage-deflate"), std::string::npos);
  EXPECT_NE(ext.find("server_no_context_takeover"), std::string::npos);
  c->send_text(R"({"type":"subscribe","channel":"z","id":1})");
  ASSERT_TRUE(c->read_type("subscribed"));
  std::string big(2000, 'a');
  c->send_text(R"({"type":"publish","channel":"z","data":")" + big + "\"}");
  for (;;) {
    auto f = c->read_frame();
    ASSERT_TRUE(f);
    if (f->op != net::ws::opcode::text) {
      continue;
    }
    auto text = f->rsv1 ? inflate_raw(f->payload) : f->payload;
    if (json_string(text, "type") == "message") {
      EXPECT_TRUE(f->rsv1) << "large broadcast should be compressed";
      EXPECT_LT(f->payload.size(), big.size() / 4);
      EXPECT_EQ(json_string(text, "data"), big);
      break;
    }
  }
}

TEST(connection, compression_off_means_no_extension) {
  test_node n{[](engine::config& cfg) { cfg.websocket.compression = false; }};
  ws_request req;
  req.extensions = "permessage-deflate";
  auto c = n.connect(req);
  ASSERT_TRUE(c->open());
  EXPECT_EQ(c->answer().header("sec-websocket-extensions"), "");
}

TEST(http, health_ready_and_metrics) {
  test_node n;
  auto c = n.connect();
  auto health = http_request(n.port(), "GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json_string(health.body, "status"), "ok");
  EXPECT_EQ(json_string(health.body, "node"), "test");
  EXPECT_EQ(json_int(health.body, "connections"), 1);
  EXPECT_EQ(http_request(n.port(), "GET", "/readyz").status, 200);
  auto metrics = http_request(n.port(), "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  for (auto name : {"plexus_connections 1", "plexus_connections_total", "plexus_messages_in_total",
                    "plexus_messages_out_total", "plexus_bytes_out_total",
                    "plexus_publish_latency_seconds_bucket", "plexus_rooms",
                    "plexus_presence_members", "plexus_rejected_total{reason=",
                    "plexus_slow_consumers_total"}) {
    EXPECT_NE(metrics.body.find(name), std::string::npos) << name;
  }
}

TEST(http, publish_reaches_subscribers_and_returns_offset) {
  test_node n;
  auto c = n.connect();
  c->send_text(R"({"type":"subscribe","channel":"api","id":1})");
  ASSERT_TRUE(c->read_type("subscribed"));
  auto a = http_request(n.port(), "POST", "/v1/publish", R"({"channel":"api","data":{"k":"v"}})",
                        {{"Authorization", std::string{"apikey "} + test_node::api_key}});
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(json_int(a.body, "offset"), 1);
  auto m = c->read_type("message");
  ASSERT_TRUE(m);
  EXPECT_EQ(json_raw(*m, "data"), R"({"k":"v"})");
}

TEST(http, static_files_and_method_checks) {
  test_node n{[](engine::config& cfg) { cfg.node.static_dir = PLEXUS_SOURCE_DIR "/docs"; }};
  auto a = http_request(n.port(), "GET", "/configuration.md");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(http_request(n.port(), "GET", "/../CMakeLists.txt").status, 404);
  EXPECT_EQ(http_request(n.port(), "DELETE", "/healthz").status, 405);
}

TEST(shutdown, connected_clients_get_1001_and_stop_returns) {
  auto n = std::make_unique<test_node>();
  auto a = n->connect();
  auto b = n->connect();
  a->send_text(R"({"type":"subscribe","channel":"s","id":1})");
  ASSERT_TRUE(a->read_type("subscribed"));
  // Stopped from another thread (as an embedder might); the clients answer the close
  // handshake meanwhile.
  std::thread closer([&] { n.reset(); });
  auto code_a = a->wait_closed(5s);
  auto code_b = b->wait_closed(5s);
  a->send_close(1001);
  b->send_close(1001);
  closer.join();
  EXPECT_EQ(code_a, 1001);
  EXPECT_EQ(code_b, 1001);
}

} // namespace
} // namespace plexus::test
