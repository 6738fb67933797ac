// HAProxy in front of three real nodes, with the configuration docs/deploy.md documents
// (examples/haproxy/haproxy.cfg, unchanged): stickiness by cookie and by resume token,
// /readyz health checks, and 300 clients of the C++ client library (its defaults) that
// survive a SIGKILL of one node, spread over the survivors and resume without a gap.
// Bounds come from the configuration (dead_timeout_ms, the client's back-off), not from
// timings measured here.
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "net/client.hpp"
#include "tests/cluster/cluster_harness.hpp"

namespace plexus::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* haproxy_binary = "/usr/sbin/haproxy";

/// HAProxy running examples/haproxy/haproxy.cfg in the foreground, in front of `c`'s three
/// members. Killed and reaped by its destructor (process does that).
struct haproxy_front {
  uint16_t port = 0;
  std::unique_ptr<process> proc;

  haproxy_front(test_cluster& c) {
    port = free_port();
    auto addr = [&](int i) { return "127.0.0.1:" + std::to_string(c[i].http_port); };
    // The configuration takes its addresses from the environment.
    proc = std::make_unique<process>(
      "/usr/bin/env",
      std::vector<std::string>{"PLEXUS_LB_MAXCONN=5000",
                               "PLEXUS_LB_BIND=127.0.0.1:" + std::to_string(port),
                               "PLEXUS_N1=" + addr(0), "PLEXUS_N2=" + addr(1),
                               "PLEXUS_N3=" + addr(2), haproxy_binary, "-db", "-f",
                               std::string(PLEXUS_SOURCE_DIR) + "/examples/haproxy/haproxy.cfg"},
      c.dir() + "/haproxy.log");
  }

  /// Waits until HAProxy answers /readyz through to a node.
  bool wait_ready(std::chrono::milliseconds timeout) {
    return wait_until(timeout, [&] {
      return proc->running() && http_request(port, "GET", "/readyz").status == 200;
    });
  }
};

/// One client of the library behind HAProxy: what it was told, under a lock.
struct lb_client {
  std::mutex mu;
  std::vector<std::string> nodes;                  // welcome.node of each connection
  std::vector<net::subscribed_event> resubscribes; // automatic re-subscribes
  std::vector<uint64_t> offsets;                   // of its channel, in delivery order
  std::unique_ptr<net::client> c;

  void start(uint16_t port, const std::string& channel) {
    net::client_options o;
    o.url = "ws://127.0.0.1:" + std::to_string(port) + "/ws"; // everything else: defaults
    net::client_handlers h;
    h.on_welcome = [this](const net::welcome_event& w) {
      std::lock_guard<std::mutex> lock(mu);
      nodes.push_back(w.node);
    };
    h.on_subscribed = [this](const net::subscribed_event& s) {
      if (s.resubscribed) {
        std::lock_guard<std::mutex> lock(mu);
        resubscribes.push_back(s);
      }
    };
    h.on_message = [this](const net::message_event& m) {
      std::lock_guard<std::mutex> lock(mu);
      offsets.push_back(m.offset);
    };
    c = std::make_unique<net::client>(o, h);
    c->connect();
    c->subscribe(channel, {}, [](const net::client_result<net::subscribed_event>&) {});
  }

  std::string node() {
    std::lock_guard<std::mutex> lock(mu);
    return nodes.empty() ? std::string{} : nodes.back();
  }
  std::size_t connections() {
    std::lock_guard<std::mutex> lock(mu);
    return nodes.size();
  }
};

cluster_client connect_through(uint16_t port, const ws_request& req) {
  cluster_client c;
  c.ws = ws_client::connect(port, req);
  if (c.ws->open()) {
    c.welcome = c.ws->read_message().value_or("");
  }
  return c;
}

TEST(haproxy, sticky_by_cookie_and_by_resume_token_and_health_checked_on_readyz) {
  if (::access(haproxy_binary, X_OK) != 0) {
    GTEST_SKIP() << haproxy_binary << " not installed (scripts/setup)";
  }
  test_cluster c{3, {}};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  haproxy_front lb{c};
  ASSERT_TRUE(lb.wait_ready(10s)) << lb.proc->log_tail();

  // The first answer names the node in a cookie; sent back, it leads to that node.
  auto first = connect_through(lb.port, {});
  ASSERT_TRUE(first.ws->open()) << lb.proc->log_tail();
  auto node = json_string(first.welcome, "node");
  EXPECT_NE(first.ws->answer().header("set-cookie").find("PLEXUS=" + node), std::string::npos)
    << first.ws->answer().header("set-cookie");
  for (const char* n : {"n1", "n2", "n3", "n2"}) {
    ws_request r;
    r.headers.emplace_back("Cookie", std::string("PLEXUS=") + n);
    auto again = connect_through(lb.port, r);
    ASSERT_TRUE(again.ws->open());
    EXPECT_EQ(json_string(again.welcome, "node"), n);
  }
  // A resume token leads back to its node (the clients send it as ?resume=).
  for (int i = 0; i < 3; ++i) {
    auto direct = connect_client(c[i].http_port);
    ASSERT_TRUE(direct.ws) << c.logs();
    ws_request r;
    r.path = "/ws?resume=" + direct.resume;
    auto back = connect_through(lb.port, r);
    ASSERT_TRUE(back.ws->open());
    EXPECT_EQ(json_string(back.welcome, "node"), c[i].name) << direct.resume;
  }
  // A draining node fails its /readyz check: new clients, even sticky ones, go elsewhere.
  auto keep = connect_client(c[0].http_port); // keeps n1 draining for a while
  auto r = http_request(c[0].http_port, "POST", "/v1/drain", {},
                        {{"Authorization", std::string("apikey ") + test_cluster::api_key}});
  ASSERT_EQ(r.status, 202);
  // Checks every 500 ms, down after 2 failures: within a second or two.
  ws_request to_n1;
  to_n1.headers.emplace_back("Cookie", "PLEXUS=n1");
  EXPECT_TRUE(wait_until(10s, [&] {
    auto x = connect_through(lb.port, to_n1);
    return x.ws->open() && json_string(x.welcome, "node") != "n1";
  })) << lb.proc->log_tail();
}

TEST(haproxy, three_hundred_clients_survive_a_sigkill_spread_and_resume_without_a_gap) {
  if (::access(haproxy_binary, X_OK) != 0) {
    GTEST_SKIP() << haproxy_binary << " not installed (scripts/setup)";
  }
  node_options o; // dead_timeout_ms 1200, replicas 1: rooms survive one node
  test_cluster c{3, o};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  haproxy_front lb{c};
  ASSERT_TRUE(lb.wait_ready(10s)) << lb.proc->log_tail();

  constexpr int clients = 300;
  constexpr int channels = 10;
  auto channel_of = [](int i) { return "room:lb" + std::to_string(i % channels); };
  std::vector<std::unique_ptr<lb_client>> cs;
  for (int i = 0; i < clients; ++i) {
    cs.push_back(std::make_unique<lb_client>());
    cs.back()->start(lb.port, channel_of(i));
  }
  auto all_open = [&] {
    for (auto& x : cs) {
      if (x->c->state() != net::client_state::open) {
        return false;
      }
    }
    return true;
  };
  ASSERT_TRUE(wait_until(60s, all_open)) << lb.proc->log_tail() << c.logs();
  // Every subscription is live once a message published now reaches every client.
  std::atomic<bool> stop{false};
  std::map<std::string, uint64_t> last_acked;
  std::mutex acked_mu;
  // The publisher talks to n3 over HTTP: the victim is n1 or n2.
  auto publish_one = [&](const std::string& ch, int i) {
    auto r = http_request(c[2].http_port, "POST", "/v1/publish",
                          R"({"channel":")" + ch + R"(","data":{"i":)" + std::to_string(i) + "}}",
                          {{"Authorization", std::string("apikey ") + test_cluster::api_key}},
                          5s);
    if (r.status == 200) {
      std::lock_guard<std::mutex> lock(acked_mu);
      auto off = static_cast<uint64_t>(json_int(r.body, "offset").value_or(0));
      last_acked[ch] = std::max(last_acked[ch], off);
    }
  };
  std::thread publisher([&] {
    for (int i = 0; !stop.load(); ++i) {
      publish_one(channel_of(i), i);
      std::this_thread::sleep_for(10ms);
    }
  });
  auto received_everything = [&] {
    std::lock_guard<std::mutex> lock(acked_mu);
    for (int i = 0; i < clients; ++i) {
      auto& x = *cs[static_cast<std::size_t>(i)];
      std::lock_guard<std::mutex> l2(x.mu);
      auto want = last_acked[channel_of(i)];
      if (want == 0 || x.offsets.empty() || x.offsets.back() < want) {
        return false;
      }
    }
    return true;
  };
  ASSERT_TRUE(wait_until(30s, received_everything)) << c.logs();

  std::map<std::string, int> before;
  for (auto& x : cs) {
    ++before[x->node()];
  }
  // The victim: whichever of n1 and n2 holds more clients.
  int victim = before["n1"] >= before["n2"] ? 0 : 1;
  auto victim_name = c[victim].name;
  std::set<std::size_t> moved; // clients that were on the victim
  std::vector<std::size_t> had(cs.size());
  for (std::size_t i = 0; i < cs.size(); ++i) {
    had[i] = cs[i]->connections();
    if (cs[i]->node() == victim_name) {
      moved.insert(i);
    }
  }
  ASSERT_FALSE(moved.empty()) << ::testing::PrintToString(before);
  auto killed_at = std::chrono::steady_clock::now();
  c[victim].proc->signal(SIGKILL);

  // Connected again: each moved client has a new welcome (from a survivor) and its channel
  // re-subscribed; everyone is open.
  auto reconnected = [&] {
    for (std::size_t i : moved) {
      auto& x = *cs[i];
      std::lock_guard<std::mutex> lock(x.mu);
      if (x.nodes.size() <= had[i] || x.resubscribes.empty()) {
        return false;
      }
    }
    return all_open();
  };
  auto bound = std::chrono::milliseconds(o.dead_timeout_ms) + 5s;
  bool back = wait_until(bound + 30s, reconnected); // measured against `bound` below
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - killed_at);
  ASSERT_TRUE(back) << "not all reconnected after " << took.count() << " ms\n"
                    << lb.proc->log_tail() << c.logs();
  EXPECT_LE(took, bound) << "all " << clients << " reconnected only after " << took.count()
                         << " ms (bound: dead_timeout_ms + 5 s)";
  std::map<std::string, int> after;
  for (auto& x : cs) {
    ++after[x->node()];
  }
  EXPECT_EQ(after.count(victim_name), 0u) << ::testing::PrintToString(after);
  for (const auto& [node, n] : after) {
    EXPECT_LE(n, clients * 65 / 100) << node << " holds " << n << " of " << clients << ": "
                                     << ::testing::PrintToString(after);
  }

  // Publishing goes on through the failover; then every client must have every offset of
  // its channel exactly once from its first one on, and every resume must have recovered.
  std::this_thread::sleep_for(300ms); // a few more publishes after everyone is back
  stop.store(true);
  publisher.join();
  ASSERT_TRUE(wait_until(30s, received_everything)) << c.logs();
  std::size_t resumed = 0;
  for (std::size_t i = 0; i < cs.size(); ++i) {
    auto& x = *cs[i];
    std::lock_guard<std::mutex> lock(x.mu);
    for (const auto& r : x.resubscribes) {
      ++resumed;
      EXPECT_EQ(r.recovered, std::optional<bool>(true)) << "client " << i << " on " << r.channel;
    }
    for (std::size_t k = 1; k < x.offsets.size(); ++k) {
      if (x.offsets[k] != x.offsets[k - 1] + 1) {
        ADD_FAILURE() << "client " << i << ": offset " << x.offsets[k] << " after "
                      << x.offsets[k - 1];
        break;
      }
    }
  }
  EXPECT_GE(resumed, moved.size());
  std::printf("haproxy: %zu clients moved off %s; all %d open again %lld ms after the SIGKILL; "
              "spread %s\n",
              moved.size(), victim_name.c_str(), clients, static_cast<long long>(took.count()),
              ::testing::PrintToString(after).c_str());
  for (auto& x : cs) {
    x->c->close();
  }
}

} // namespace
} // namespace plexus::test
