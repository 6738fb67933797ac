// Where a cluster sends clients (issue 16): the public node list, picks inside one gossip
// round spread over the nodes, a drain and a rebalance assign `reconnect` URLs in
// proportion to the peers' spare capacity with jittered after_ms, and bad requests get a
// clear answer.
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "tests/cluster/cluster_harness.hpp"

namespace plexus::test {
namespace {

using namespace std::chrono_literals;

const std::vector<std::pair<std::string, std::string>> api_auth = {
  {"Authorization", std::string("apikey ") + test_cluster::api_key}};

std::vector<cluster_client> connect_many(uint16_t port, int n) {
  std::vector<cluster_client> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(connect_client(port));
    if (!out.back().ws) {
      out.pop_back();
    }
  }
  return out;
}

/// Reads from every client in turn until `want` of them got a `reconnect` frame or the
/// timeout passes; the frames by client index.
std::map<std::size_t, std::string> reconnect_frames(std::vector<cluster_client>& clients,
                                                    std::size_t want,
                                                    std::chrono::milliseconds timeout) {
  std::map<std::size_t, std::string> got;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < clients.size(); ++i) {
      if (got.count(i) == 0) {
        if (auto m = clients[i].ws->read_type("reconnect", 5ms)) {
          got[i] = *m;
        }
      }
    }
  }
  return got;
}

TEST(cluster_spread, nodes_lists_public_urls_without_auth_and_drops_a_dead_node) {
  test_cluster c{3, {}};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  auto r = http_request(c[0].http_port, "GET", "/v1/cluster/nodes");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("access-control-allow-origin"), "*");
  EXPECT_EQ(json_array_size(r.body, "nodes"), 3u) << r.body;
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(r.body.find("\"url\":\"" + c[i].ws_url() + "\""), std::string::npos) << r.body;
    // Control addresses stay private.
    EXPECT_EQ(r.body.find(c[i].control()), std::string::npos) << r.body;
  }
  EXPECT_EQ(r.body.find("\"accepting\":false"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("connections"), std::string::npos) << r.body;
  c[2].proc->kill_now();
  EXPECT_TRUE(wait_until(10s, [&] {
    auto now = http_request(c[0].http_port, "GET", "/v1/cluster/nodes");
    return now.status == 200 && json_array_size(now.body, "nodes") == 2;
  })) << c.logs();
}

TEST(cluster_spread, a_burst_of_picks_inside_one_gossip_round_spreads_over_the_nodes) {
  node_options o;
  o.gossip_ms = 1000; // a long round: the whole burst falls inside one or two
  o.suspect_ms = 4000;
  o.dead_timeout_ms = 8000;
  test_cluster c{3, o};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1, 2}, 30s)) << c.logs();
  std::map<std::string, int> got;
  for (int i = 0; i < 30; ++i) {
    auto r = http_request(c[0].http_port, "GET", "/v1/cluster/pick");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("access-control-allow-origin"), "*");
    ++got[json_string(r.body, "url")];
  }
  ASSERT_EQ(got.size(), 3u) << ::testing::PrintToString(got);
  for (int i = 0; i < 3; ++i) {
    // Without counting its own picks the node would name one node 30 times.
    EXPECT_GE(got[c[i].ws_url()], 5) << ::testing::PrintToString(got);
  }
}

TEST(cluster_spread, a_drain_spreads_clients_by_spare_capacity_with_jittered_after_ms) {
  test_cluster c{3, {}};
  c.start(0);
  c.start(1, {"--limits.max_connections", "1000"});
  c.start(2, {"--limits.max_connections", "3000"});
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  auto clients = connect_many(c[0].http_port, 40);
  ASSERT_EQ(clients.size(), 40u) << c.logs();
  auto r = http_request(c[0].http_port, "POST", "/v1/drain", {}, api_auth);
  ASSERT_EQ(r.status, 202) << r.body;
  auto frames = reconnect_frames(clients, clients.size(), 20s);
  ASSERT_EQ(frames.size(), clients.size()) << c.logs();
  std::map<std::string, int> by_url;
  std::set<int64_t> afters;
  for (const auto& [i, f] : frames) {
    ++by_url[json_string(f, "url")];
    auto after = json_int(f, "after_ms");
    ASSERT_TRUE(after) << f;
    // 40 clients: the window is its 500 ms minimum (half the 10 s grace is more).
    EXPECT_GE(*after, 0) << f;
    EXPECT_LT(*after, 500) << f;
    afters.insert(*after);
  }
  // Spare capacity 1000 : 3000, so a quarter and three quarters.
  EXPECT_EQ(by_url[c[1].ws_url()], 10) << ::testing::PrintToString(by_url);
  EXPECT_EQ(by_url[c[2].ws_url()], 30) << ::testing::PrintToString(by_url);
  EXPECT_GT(afters.size(), 10u) << "after_ms is not jittered";
  for (auto& cl : clients) {
    EXPECT_EQ(cl.ws->wait_closed(5s), 4010);
  }
}

TEST(cluster_spread, rebalance_sheds_count_sessions_to_the_other_nodes) {
  test_cluster c{3, {}};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  auto clients = connect_many(c[0].http_port, 20);
  ASSERT_EQ(clients.size(), 20u) << c.logs();
  auto r = http_request(c[0].http_port, "POST", "/v1/rebalance", R"({"count":6})", api_auth);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(json_int(r.body, "count"), 6) << r.body;
  auto frames = reconnect_frames(clients, 6, 10s);
  ASSERT_EQ(frames.size(), 6u) << c.logs();
  std::map<std::string, int> by_url;
  for (const auto& [i, f] : frames) {
    ++by_url[json_string(f, "url")];
    EXPECT_EQ(clients[i].ws->wait_closed(5s), 4010);
  }
  // Equal capacities: an even split over the two others, none back to n1.
  EXPECT_EQ(by_url[c[1].ws_url()], 3) << ::testing::PrintToString(by_url);
  EXPECT_EQ(by_url[c[2].ws_url()], 3) << ::testing::PrintToString(by_url);
  // The other 14 stay: a ping still gets its pong.
  int still = 0;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    if (frames.count(i) == 0) {
      clients[i].ws->send_text(R"({"type":"ping","id":5})");
      still += clients[i].ws->read_type("pong", 5s) ? 1 : 0;
    }
  }
  EXPECT_EQ(still, 14);
  // More than there are: everyone left goes (the answer is capped at the node's
  // connections, which may still count the 6 closing ones).
  r = http_request(c[0].http_port, "POST", "/v1/rebalance", R"({"count":1000})", api_auth);
  ASSERT_EQ(r.status, 202) << r.body;
  auto n = json_int(r.body, "count").value_or(0);
  EXPECT_GE(n, 14) << r.body;
  EXPECT_LE(n, 20) << r.body;
  std::vector<cluster_client> rest;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    if (frames.count(i) == 0) {
      rest.push_back(std::move(clients[i]));
    }
  }
  EXPECT_EQ(reconnect_frames(rest, rest.size(), 10s).size(), 14u) << c.logs();
}

TEST(cluster_spread, rebalance_refuses_bad_input_without_auth_and_without_peers) {
  test_cluster c{1, {}};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0})) << c.logs();
  auto port = c[0].http_port;
  EXPECT_EQ(http_request(port, "POST", "/v1/rebalance", R"({"count":1})").status, 401);
  for (const char* body : {"", "not json", "[1]", R"({"count":"3"})", R"({"count":1.5})",
                           R"({"count":0})", R"({"count":-2})", R"({"count":99999999999})",
                           R"({"n":3})"}) {
    auto r = http_request(port, "POST", "/v1/rebalance", body, api_auth);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_EQ(json_string(r.body, "error"), "bad_request") << r.body;
  }
  // Alone in its cluster: nowhere to send anyone.
  auto r = http_request(port, "POST", "/v1/rebalance", R"({"count":1})", api_auth);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(json_string(r.body, "error"), "no_node") << r.body;
  EXPECT_GE(c.metric(0, "plexus_rejected_total{reason=\"bad_request\"}"), 9);
  // The node list of a lone member is itself.
  auto nodes = http_request(port, "GET", "/v1/cluster/nodes");
  EXPECT_EQ(json_array_size(nodes.body, "nodes"), 1u) << nodes.body;
}

} // namespace
} // namespace plexus::test
