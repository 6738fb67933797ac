// Two nodes embedded in one process form a cluster; the host's on_node_change hook and a
// CAF listener on the router see the other node come and go.
#include <algorithm>
#include <atomic>
#include <mutex>

#include <caf/event_based_actor.hpp>
#include <gtest/gtest.h>

#include "actors/messages.hpp"
#include "cluster/router.hpp"
#include "engine/node.hpp"
#include "tests/cluster/cluster_harness.hpp"
#include "tests/support/test_node.hpp"

namespace plexus::test {
namespace {

using namespace std::chrono_literals;

engine::config clustered(const std::string& name, uint16_t cport, const std::string& seeds) {
  auto cfg = test_config();
  cfg.node.name = name;
  cfg.cluster.enabled = true;
  cfg.cluster.bind = "127.0.0.1:" + std::to_string(cport);
  cfg.cluster.seeds = {seeds};
  cfg.cluster.gossip_interval_ms = 50;
  cfg.cluster.suspect_timeout_ms = 300;
  cfg.cluster.dead_timeout_ms = 800;
  cfg.cluster.secret = "embedded-cluster-secret-0123";
  return cfg;
}

TEST(cluster_embedded, hooks_and_listeners_see_members_come_and_go) {
  auto pa = free_port(2);
  auto pb = free_port(2);
  auto seeds = "127.0.0.1:" + std::to_string(pa);
  std::mutex mu;
  std::vector<std::string> seen; // "node:state" from the hook
  engine::node a{clustered("emb-a", pa, seeds)};
  engine::hooks h;
  h.on_node_change = [&](const engine::node_event& e) {
    std::lock_guard<std::mutex> guard{mu};
    seen.push_back(e.node + ":" + e.state);
  };
  a.set_hooks(h);
  a.start();
  // A CAF listener too, as an embedder's own actor would register it.
  auto listened = std::make_shared<std::atomic<int>>(0);
  auto listener = a.system().spawn([listened](caf::event_based_actor*) -> caf::behavior {
    return {[listened](const cluster::member_event& ev) {
      if (ev.info.name == "emb-b") {
        listened->fetch_add(1);
      }
    }};
  });
  caf::anon_send(a.cluster_router(), actors::listen_atom::value, listener);
  engine::release_caf_thread_state();
  auto has = [&](const std::string& what) {
    std::lock_guard<std::mutex> guard{mu};
    return std::find(seen.begin(), seen.end(), what) != seen.end();
  };
  {
    engine::node b{clustered("emb-b", pb, seeds)};
    b.start();
    EXPECT_TRUE(wait_until(5s, [&] { return has("emb-b:up"); }));
    // Channels work across the two embedded nodes.
    auto sub = ws_client::connect(a.port());
    ASSERT_TRUE(sub->open());
    sub->read_message();
    sub->send_text(R"({"type":"subscribe","id":1,"channel":"room:emb"})");
    ASSERT_TRUE(sub->read_type("subscribed"));
    auto r = http_request(b.port(), "POST", "/v1/publish",
                          R"({"channel":"room:emb","data":{"via":"b"}})",
                          {{"Authorization", std::string("apikey ") + test_node::api_key}});
    EXPECT_EQ(r.status, 200) << r.body;
    auto m = sub->read_type("message");
    ASSERT_TRUE(m);
    EXPECT_EQ(json_raw(*m, "data"), R"({"via":"b"})");
    b.stop(std::chrono::seconds(1)); // announces that it leaves
  }
  EXPECT_TRUE(wait_until(5s, [&] { return has("emb-b:down"); }));
  EXPECT_GE(listened->load(), 2);
  caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
  listener = nullptr;
  engine::release_caf_thread_state();
  a.stop(std::chrono::seconds(1));
}

} // namespace
} // namespace plexus::test
