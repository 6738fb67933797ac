// Unit tests of plexus-bench's own parts: correctness only, never timings.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "bench/harness/client.hpp"
#include "bench/harness/clock.hpp"
#include "bench/harness/compare_table.hpp"
#include "bench/harness/latency.hpp"
#include "bench/harness/peer.hpp"
#include "bench/harness/report.hpp"
#include "bench/harness/url.hpp"
#include "bench/harness/ws_codec.hpp"

namespace pb = plexus::bench;

TEST(ws_codec, client_frames_round_trip_at_every_length_form) {
  for (std::size_t n : {0, 1, 7, 125, 126, 1000, 65535, 65536, 70000}) {
    std::string payload(n, 'a');
    for (std::size_t i = 0; i < n; ++i) {
      payload[i] = static_cast<char>('a' + i % 26);
    }
    std::string wire;
    pb::append_client_frame(wire, pb::ws_op::text, payload, 0x12345678u);
    ASSERT_EQ(static_cast<unsigned char>(wire[1]) & 0x80, 0x80) << "client frames are masked";
    // Every proper prefix is incomplete, the whole is one frame whose unmasked payload
    // is the original.
    pb::ws_frame_view f;
    EXPECT_EQ(pb::parse_server_frame(wire.data(), wire.size() - 1, f), 0);
    ASSERT_EQ(pb::parse_server_frame(wire.data(), wire.size(), f), 1);
    EXPECT_EQ(f.size, wire.size());
    EXPECT_EQ(f.op, pb::ws_op::text);
    EXPECT_TRUE(f.fin);
    EXPECT_EQ(f.payload, payload);
  }
}

TEST(ws_codec, parses_unmasked_server_frames_and_rejects_reserved_opcodes) {
  std::string frames = std::string("\x81\x02hi", 4) + std::string("\x88\x02\x0f\xa1", 4);
  pb::ws_frame_view f;
  ASSERT_EQ(pb::parse_server_frame(frames.data(), frames.size(), f), 1);
  EXPECT_EQ(f.payload, "hi");
  ASSERT_EQ(pb::parse_server_frame(frames.data() + f.size, frames.size() - f.size, f), 1);
  EXPECT_EQ(f.op, pb::ws_op::close);
  char reserved[] = {static_cast<char>(0x83), 0x00};
  EXPECT_EQ(pb::parse_server_frame(reserved, 2, f), -1);
}

TEST(latency, quantiles_are_within_bucket_resolution) {
  pb::latency_histogram h;
  EXPECT_EQ(h.quantile(0.99), 0);
  for (int64_t v = 1; v <= 100000; ++v) {
    h.record(v * 1000); // 1 us .. 100 ms
  }
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.5)), 50e6, 50e6 * 0.02);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.99)), 99e6, 99e6 * 0.02);
  EXPECT_EQ(h.max(), 100000000);
  EXPECT_EQ(h.quantile(1.0), h.max());
  pb::latency_histogram other;
  other.record(5);
  h.merge(other);
  EXPECT_EQ(h.count(), 100001u);
  EXPECT_EQ(h.min(), 5);
}

TEST(stamp, found_in_plexus_and_raw_messages_without_parsing) {
  std::string plexus = R"({"type":"message","channel":"bench_1","data":{"t":1234567,"s":42,)"
                       R"("p":"xxxx"},"offset":43,"from":"anon-7"})";
  int64_t t = 0;
  int64_t s = 0;
  ASSERT_TRUE(pb::find_stamp(plexus, t, s));
  EXPECT_EQ(t, 1234567);
  EXPECT_EQ(s, 42);
  ASSERT_TRUE(pb::find_stamp(R"({"t":9,"p":"a","s":3})", t, s)); // s not right behind t
  EXPECT_EQ(t, 9);
  EXPECT_EQ(s, 3);
  EXPECT_FALSE(pb::find_stamp(R"({"type":"pong"})", t, s));
  EXPECT_EQ(pb::find_str(R"({"session":"abc","user":"u"})", "\"user\":\""), "u");
  EXPECT_EQ(pb::find_int(R"({"offset":-5})", "\"offset\":").value_or(0), -5);
}

TEST(peer, classifies_frames_by_their_first_bytes) {
  pb::peer plexus(pb::peer_kind::plexus);
  EXPECT_EQ(plexus.classify(R"({"type":"message","channel":"c"})"), pb::msg_kind::message);
  EXPECT_EQ(plexus.classify(R"({"type":"subscribed","id":1})"), pb::msg_kind::subscribed);
  EXPECT_EQ(plexus.classify(R"({"type":"welcome","session":"s"})"), pb::msg_kind::welcome);
  EXPECT_EQ(plexus.classify(R"({"type":"error","code":"x"})"), pb::msg_kind::error);
  pb::peer sio(pb::peer_kind::socketio);
  EXPECT_EQ(sio.classify(R"(42["message",{"t":1}])"), pb::msg_kind::message);
  EXPECT_EQ(sio.classify("2"), pb::msg_kind::ping);
  EXPECT_EQ(sio.classify(R"(431["ok"])"), pb::msg_kind::subscribed);
  EXPECT_EQ(sio.classify(R"(40{"sid":"x"})"), pb::msg_kind::welcome);
  std::string out;
  sio.append_publish(out, "c", R"({"t":1})");
  EXPECT_EQ(out, R"(42["publish","c",{"t":1}])");
}

TEST(peer, the_floor_speaks_the_ws_broadcast_frames) {
  auto kind = pb::parse_peer("floor");
  ASSERT_TRUE(kind);
  EXPECT_STREQ(pb::to_string(*kind), "floor");
  pb::peer floor(*kind);
  EXPECT_TRUE(floor.ready_on_open()); // no welcome
  EXPECT_EQ(floor.subprotocol(), "");
  auto target = pb::parse_ws_url("ws://127.0.0.1:1/ws");
  ASSERT_TRUE(target);
  EXPECT_EQ(floor.url_for(*target, "c", false).path, "/ws");
  EXPECT_EQ(floor.classify(R"({"type":"message","channel":"c"})"), pb::msg_kind::message);
  std::string out;
  floor.append_publish(out, "c", R"({"t":1})");
  EXPECT_EQ(out, R"({"type":"publish","channel":"c","data":{"t":1}})");
}

TEST(url, parses_ws_urls) {
  auto u = pb::parse_ws_url("ws://127.0.0.1:18080/ws?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 18080);
  EXPECT_EQ(u->path, "/ws?x=1");
  EXPECT_EQ(pb::parse_ws_url("ws://localhost")->port, 80);
  EXPECT_FALSE(pb::parse_ws_url("http://x/"));
  EXPECT_FALSE(pb::parse_ws_url("ws://h:99999/"));
}

TEST(report, json_lines_read_back_into_results) {
  pb::result r;
  r.scenario = "fanout";
  r.label = "plexus";
  r.add("deliveries_per_s", 998000.5);
  r.add_text("close_codes", "4009x2");
  std::istringstream in(pb::to_json(r) + "\nnot json\n");
  auto back = pb::read_json_lines(in);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].label, "plexus");
  EXPECT_DOUBLE_EQ(back[0].get("deliveries_per_s"), 998000.5);
  EXPECT_NE(pb::compare_table(back).find("plexus"), std::string::npos);
}

namespace {

/// Records what one connection saw.
class recorder : public pb::conn_events {
public:
  void on_open(pb::connection& c, int64_t) override {
    opened = true;
    c.send_text("hello");
  }
  void on_message(pb::connection&, std::string_view msg, int64_t) override {
    messages.emplace_back(msg);
  }
  void on_closed(pb::connection& c, int64_t) override {
    closed = true;
    code = c.close_code;
  }
  bool opened = false;
  bool closed = false;
  uint16_t code = 0;
  std::vector<std::string> messages;
};

} // namespace

TEST(client, upgrades_reads_fragmented_and_split_frames_and_echoes_close) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::listen(lfd, 1);
  std::string got_request;
  std::string got_frame;
  std::thread server([&] {
    int fd = ::accept(lfd, nullptr, nullptr);
    char buf[4096];
    std::string req;
    while (req.find("\r\n\r\n") == std::string::npos) {
      auto n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) {
        break;
      }
      req.append(buf, static_cast<std::size_t>(n));
    }
    got_request = req.substr(0, req.find("\r\n\r\n"));
    // 101, then a message split in two fragments, each written in two pieces.
    std::string out = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
    out += std::string("\x01\x03one", 5);
    ::write(fd, out.data(), out.size() - 2);
    ::write(fd, out.data() + out.size() - 2, 2);
    std::string rest = std::string("\x80\x03two", 5) + std::string("\x88\x02\x03\xe8", 4);
    ::write(fd, rest.data(), rest.size());
    // The client's "hello" frame (masked), then its close echo.
    std::string in;
    while (in.size() < 2 + 4 + 5) {
      auto n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) {
        break;
      }
      in.append(buf, static_cast<std::size_t>(n));
    }
    pb::ws_frame_view f;
    if (pb::parse_server_frame(in.data(), in.size(), f) == 1) {
      got_frame.assign(f.payload);
    }
    while (::read(fd, buf, sizeof(buf)) > 0) {
    }
    ::close(fd);
  });
  recorder rec;
  {
    pb::event_loop loop(rec, 4);
    auto url = pb::parse_ws_url("ws://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/ws");
    auto ep = pb::endpoint::make(*url, "plexus.json");
    loop.open(ep);
    auto deadline = pb::now_ns() + 5 * pb::ns_per_s;
    while (!rec.closed && pb::now_ns() < deadline) {
      loop.run_once(10);
    }
  }
  server.join();
  ::close(lfd);
  EXPECT_TRUE(rec.opened);
  EXPECT_TRUE(rec.closed);
  EXPECT_EQ(rec.code, 1000);
  ASSERT_EQ(rec.messages.size(), 1u);
  EXPECT_EQ(rec.messages[0], "onetwo");
  EXPECT_EQ(got_frame, "hello");
  EXPECT_NE(got_request.find("GET /ws HTTP/1.1"), std::string::npos);
  EXPECT_NE(got_request.find("Sec-WebSocket-Protocol: plexus.json"), std::string::npos);
}
