// Three real `plexus` processes on 127.0.0.1: forming a cluster, channels and presence
// across nodes, placement, and refusing a member with the wrong secret.
#include <algorithm>
#include <numeric>

#include <gtest/gtest.h>

#include "tests/cluster/cluster_harness.hpp"

namespace plexus::test {
namespace {

std::vector<uint64_t> one_to(uint64_t n) {
  std::vector<uint64_t> v(n);
  std::iota(v.begin(), v.end(), 1);
  return v;
}

TEST(cluster_formation, three_nodes_form_from_seeds_in_every_start_order) {
  std::vector<int> order = {0, 1, 2};
  do {
    test_cluster c{3, {}};
    for (int i : order) {
      c.start(i);
    }
    EXPECT_TRUE(c.wait_formed({0, 1, 2}))
      << "start order " << order[0] << order[1] << order[2] << "\n"
      << c.logs();
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST(cluster_formation, publish_on_one_node_reaches_the_others_once_and_in_order) {
  test_cluster c{3, {}};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  const std::string ch = "room:fanout";
  std::vector<cluster_client> subs;
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 2; ++k) {
      subs.push_back(connect_client(c[i].http_port));
      ASSERT_TRUE(subs.back().ws);
      auto r = subscribe(subs.back(), ch);
      ASSERT_TRUE(r && json_string(*r, "type") == "subscribed") << r.value_or("timeout");
    }
  }
  auto pub = connect_client(c[2].http_port);
  const int n = 200;
  for (int i = 1; i <= n; ++i) {
    auto off = publish(pub, ch, i, "{\"i\":" + std::to_string(i) + "}");
    ASSERT_TRUE(off) << "publish " << i << "\n" << c.logs();
    EXPECT_EQ(*off, static_cast<uint64_t>(i));
  }
  for (auto& s : subs) {
    auto got = read_offsets(s, ch, n, std::chrono::seconds(10));
    EXPECT_EQ(got, one_to(n));
    // Exactly once: nothing more arrives.
    EXPECT_TRUE(read_offsets(s, ch, 1, std::chrono::milliseconds(200)).empty());
  }
  // GET /v1/channels is cluster-wide: six subscribers over three nodes, the owner's offset.
  auto list = http_request(c[0].http_port, "GET", "/v1/channels", {},
                           {{"Authorization", std::string("apikey ") + test_cluster::api_key}});
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find("{\"channel\":\"" + ch + "\",\"subscribers\":6,\"offset\":200}"),
            std::string::npos)
    << list.body;
  // One message per publish per interested node: the owner sent the stream to two nodes.
  auto owner = c.index_of(c.owner_of(ch, {0, 1, 2}));
  EXPECT_GE(c.metric(owner, "plexus_cluster_messages_total{direction=\"out\"}"), 2 * n);
}

TEST(cluster_formation, presence_lists_members_of_every_node) {
  test_cluster c{3, {}};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  const std::string ch = "room:presence";
  std::vector<cluster_client> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(connect_client(c[i].http_port));
    ASSERT_TRUE(subscribe(clients.back(), ch));
  }
  // Every client eventually sees all three sessions, with their nodes.
  for (std::size_t i = 0; i < clients.size(); ++i) {
    bool all = wait_until(std::chrono::seconds(5), [&] {
      clients[i].ws->send_text(R"({"type":"presence","id":77,"channel":")" + ch + "\"}");
      auto r = clients[i].ws->read_until(
        [](const std::string& m) {
          return json_string(m, "type") == "presence" && json_int(m, "id") == 77;
        },
        std::chrono::seconds(2));
      if (!r || json_array_size(*r, "members") != 3) {
        return false;
      }
      for (int k = 0; k < 3; ++k) {
        if (r->find("\"node\":\"n" + std::to_string(k + 1) + "\"") == std::string::npos) {
          return false;
        }
      }
      return true;
    });
    EXPECT_TRUE(all) << "client " << i << "\n" << c.logs();
  }
  // A diff announces a leave on another node.
  clients[2].ws.reset();
  auto diff = clients[0].ws->read_until(
    [](const std::string& m) {
      return json_string(m, "type") == "presence_diff" && json_array_size(m, "leaves") > 0;
    },
    std::chrono::seconds(5));
  ASSERT_TRUE(diff);
  EXPECT_NE(diff->find("\"node\":\"n3\""), std::string::npos) << *diff;
}

TEST(cluster_formation, node_with_another_secret_is_kept_out) {
  test_cluster c{3, {}};
  c.start(0);
  c.start(1);
  ASSERT_TRUE(c.wait_formed({0, 1})) << c.logs();
  c.start(2, {"--cluster.secret", "a-completely-different-secret-42"});
  EXPECT_TRUE(wait_until(std::chrono::seconds(5), [&] {
    return c.metric(0, "plexus_rejected_total{reason=\"cluster_peer\"}") > 0;
  }));
  // Given time to gossip, neither side admits the other.
  EXPECT_FALSE(wait_until(std::chrono::milliseconds(1500), [&] {
    return c.members(0).count("n3") > 0 || c.members(2).count("n1") > 0;
  }));
  EXPECT_TRUE(c.wait_formed({0, 1}, std::chrono::seconds(1)));
}

TEST(cluster_placement, pick_prefers_least_loaded_and_resume_sticks) {
  node_options o;
  o.max_connections = 2;
  test_cluster c{3, o};
  c.start_all();
  ASSERT_TRUE(c.wait_formed({0, 1, 2})) << c.logs();
  // Two clients on n1 (full), one on n2: pick says n3.
  auto a1 = connect_client(c[0].http_port);
  auto a2 = connect_client(c[0].http_port);
  auto b1 = connect_client(c[1].http_port);
  ASSERT_TRUE(a1.ws && a2.ws && b1.ws);
  // Loads travel by gossip: wait until both nodes asked below have heard them (asking
  // /pick itself to find out would count placements, issue 16).
  for (int asked : {0, 1}) {
    EXPECT_TRUE(wait_until(std::chrono::seconds(3), [&] {
      auto view = c.members(asked);
      return view["n1"].connections == 2 && view["n2"].connections == 1;
    })) << "n" << asked + 1 << " never heard the loads";
    auto r = http_request(c[asked].http_port, "GET", "/v1/cluster/pick");
    EXPECT_EQ(json_string(r.body, "url"), c[2].ws_url()) << "n" << asked + 1 << ": " << r.body;
  }
  // n1 is full: an upgrade gets 503 naming a node with room.
  auto refused = ws_client::connect(c[0].http_port);
  ASSERT_FALSE(refused->open());
  EXPECT_EQ(refused->answer().status, 503);
  auto alt = refused->answer().header("x-plexus-alternate");
  EXPECT_TRUE(alt == c[1].ws_url() || alt == c[2].ws_url()) << alt;
  // Sticky: b1's resume token points back at n2 while it accepts.
  ASSERT_FALSE(b1.resume.empty());
  auto r = http_request(c[0].http_port, "GET", "/v1/cluster/pick?resume=" + b1.resume);
  EXPECT_EQ(json_string(r.body, "url"), c[1].ws_url()) << r.body;
  // A forged token is ignored (least loaded instead).
  auto forged = "n1." + b1.session + ".0000000000000000";
  r = http_request(c[0].http_port, "GET", "/v1/cluster/pick?resume=" + forged);
  EXPECT_EQ(json_string(r.body, "url"), c[2].ws_url()) << r.body;
}

} // namespace
} // namespace plexus::test
