// 9.6: peak memory per attacking connection. A real `plexus` process (so nothing of the
// test's own allocations is counted) takes 50 connections that attack at once, and its
// peak RSS (VmHWM, reset before each round) may grow by at most 2 x max_message_bytes per
// connection over its RSS before the round.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <memory>

#include "actors/deflate.hpp"
#include "tests/conformance/conformance.hpp"
#include "tests/conformance/memory.hpp"
#include "tests/support/process.hpp"
#include "tests/support/ws_test_frames.hpp"

namespace plexus::test::conformance {

namespace {

constexpr int attackers = 50;
constexpr std::size_t max_message = 65536;

struct attack {
  std::string id;
  std::string description;
  endpoint ep;
  std::string offer;                 // Sec-WebSocket-Extensions
  std::vector<std::string> parts;    // sent to every connection, part by part
  std::vector<uint16_t> close_codes; // how each connection must end
};

class plexus_process {
public:
  plexus_process() : port_(free_port()), dir_(temp_dir("plexus-conformance")) {
    std::vector<std::string> args = {"--node.listen",
                                     "127.0.0.1:" + std::to_string(port_),
                                     "--node.io_threads",
                                     "2",
                                     "--node.actor_threads",
                                     "2",
                                     "--auth.anonymous",
                                     "true",
                                     "--websocket.echo_endpoint",
                                     "true",
                                     "--websocket.max_message_bytes",
                                     std::to_string(max_message),
                                     "--limits.connections_per_ip_per_second",
                                     "100000",
                                     "--limits.messages_per_minute",
                                     "6000000"};
    proc_ = std::make_unique<process>(std::string(PLEXUS_BINARY_DIR) + "/engine/plexus", args,
                                      dir_ + "/plexus.log");
    wait_until(std::chrono::seconds(10), [&] {
      return !proc_->running() || http_request(port_, "GET", "/healthz").status == 200;
    });
  }
  ~plexus_process() {
    proc_->signal(SIGTERM);
    if (!proc_->wait_exit(std::chrono::seconds(5))) {
      proc_->kill_now();
    }
  }
  uint16_t port() const {
    return port_;
  }
  pid_t pid() const {
    return proc_->pid();
  }
  bool running() {
    return proc_->running();
  }
  std::string log_tail() const {
    return proc_->log_tail();
  }

private:
  uint16_t port_;
  std::string dir_;
  std::unique_ptr<process> proc_;
};

std::vector<attack> attacks() {
  std::vector<attack> out;
  auto bomb = actors::deflate_message(std::string(32u << 20, 'a'));
  out.push_back({"9.6.1",
                 "50 x text bomb (32 MiB of 'a' deflated) at once",
                 endpoint::echo,
                 "permessage-deflate",
                 {frame(0x1, bomb, true, 4)},
                 {1009}});
  out.push_back({"9.6.2",
                 "50 x the same bomb at once on /ws",
                 endpoint::session,
                 "permessage-deflate",
                 {frame(0x1, bomb, true, 4)},
                 {1009}});
  std::string unfinished;
  auto half = binary_payload(max_message / 2);
  unfinished += frame(0x2, half, false);
  unfinished += frame(0x0, half.substr(0, half.size() - 1), false);
  out.push_back({"9.6.3",
                 "50 x a max_message_bytes - 1 fragmented message held open, then 2 more bytes",
                 endpoint::echo,
                 "",
                 {unfinished, frame(0x0, "xx", true)},
                 {1009}});
  out.push_back({"9.6.4",
                 "50 x a frame of max_message_bytes + 1, all its bytes sent",
                 endpoint::echo,
                 "",
                 {binary_frame(binary_payload(max_message + 1))},
                 {1009}});
  out.push_back({"9.6.5",
                 "50 x a 2^63 length header",
                 endpoint::echo,
                 "",
                 {client_header(0x82, uint64_t{1} << 63) + std::string(4096, 'x')},
                 {1002, 1009}});
  // Not an attack, the most a well-behaved compressing client costs (on /ws, whose reply is
  // small; an echo would add the queued copy, which send_queue_limit_bytes bounds).
  auto big = actors::deflate_message(text_payload(max_message));
  out.push_back({"9.6.6",
                 "50 x a compressed max_message_bytes text on /ws (answered)",
                 endpoint::session,
                 "permessage-deflate",
                 {frame(0x1, big, true, 4)},
                 {}});
  return out;
}

} // namespace

TEST(conformance_memory, peak_rss_per_attacking_connection_within_twice_max_message_bytes) {
  plexus_process node;
  ASSERT_TRUE(node.running()) << node.log_tail();
  for (const auto& a : attacks()) {
    SCOPED_TRACE(a.id);
    // Warm-up: one connection through the same path, so per-thread buffers that any first
    // message allocates (read buffers, zlib, arenas) are not charged to the attack.
    {
      auto p = peer::connect(node.port(), {a.ep, a.offer, {}});
      ASSERT_TRUE(p->open());
      p->send(text_frame("warm-up"));
      p->finish(1, true, std::chrono::seconds(3));
    }
    std::vector<std::unique_ptr<peer>> peers;
    for (int i = 0; i < attackers; ++i) {
      peers.push_back(peer::connect(node.port(), {a.ep, a.offer, {}}));
      ASSERT_TRUE(peers.back()->open()) << i;
    }
    auto before = memory_kb("VmRSS", node.pid());
    ASSERT_TRUE(reset_peak_rss(node.pid()));
    for (const auto& part : a.parts) {
      for (auto& p : peers) {
        p->send(part);
      }
      for (auto& p : peers) {
        p->wait(std::chrono::milliseconds(2)); // let the node read what was sent
      }
    }
    int closed_right = 0;
    for (auto& p : peers) {
      if (a.close_codes.empty()) {
        p->finish(1, true, std::chrono::seconds(5)); // an echo, then a normal close
        closed_right += p->received.size() == 1 && p->tcp_closed;
        continue;
      }
      p->finish(0, false, std::chrono::seconds(5));
      bool code_ok = !p->remote_close_code
                     || std::find(a.close_codes.begin(), a.close_codes.end(), *p->remote_close_code)
                          != a.close_codes.end();
      closed_right += p->tcp_closed && code_ok;
    }
    auto peak = memory_kb("VmHWM", node.pid());
    auto growth = peak - before;
    auto per_connection = growth / attackers;
    auto budget_kb = static_cast<int64_t>(2 * max_message / 1024);
    outcome o;
    o.v = per_connection <= budget_kb && closed_right == attackers ? verdict::ok : verdict::failed;
    o.detail = "RSS " + std::to_string(before) + " KiB, peak +" + std::to_string(growth)
               + " KiB = " + std::to_string(per_connection) + " KiB per connection (budget "
               + std::to_string(budget_kb) + "); " + std::to_string(closed_right) + "/"
               + std::to_string(attackers) + " ended as expected";
    case_def c;
    c.id = a.id;
    c.description = a.description;
    record(c, a.ep, o);
    std::cout << a.id << " " << a.description << ": " << o.detail << std::endl;
    EXPECT_EQ(closed_right, attackers);
    EXPECT_LE(per_connection, budget_kb) << o.detail;
    peers.clear();
  }
  ASSERT_TRUE(node.running()) << node.log_tail();
}

} // namespace plexus::test::conformance
