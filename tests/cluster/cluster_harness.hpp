#pragma once

// Real `plexus` processes forming a cluster on 127.0.0.1, for the multi-process tests.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/ws_client.hpp"

namespace plexus::test {

/// Cluster settings of the test nodes: short timeouts keep the suite fast.
struct node_options {
  uint32_t gossip_ms = 100;
  uint32_t suspect_ms = 500;
  uint32_t dead_timeout_ms = 1200;
  uint32_t replicas = 1;
  std::string secret = "test-cluster-secret-0123456789";
  uint32_t drain_grace_s = 10;
  std::size_t max_connections = 100000;
  std::size_t history_size = 2000;
  std::vector<std::string> extra; // more --section.key value pairs
};

/// One member as GET /v1/cluster shows it.
struct member_view {
  std::string name;
  std::string state;
  std::string url;
  uint64_t incarnation = 0;
  uint64_t version = 0;
  uint64_t connections = 0;
  bool draining = false;
};

/// A node of a test cluster: fixed ports and name, so it can be killed and restarted.
struct test_member {
  std::string name;
  uint16_t http_port = 0;
  uint16_t cluster_port = 0;
  std::unique_ptr<process> proc;

  std::string control() const {
    return "127.0.0.1:" + std::to_string(cluster_port);
  }
  std::string ws_url() const {
    return "ws://127.0.0.1:" + std::to_string(http_port) + "/ws";
  }
};

class test_cluster {
public:
  static constexpr const char* api_key = "cluster-test-api-key";

  /// `n` members named n1..nN (not started).
  test_cluster(int n, node_options opts);
  ~test_cluster();

  test_member& operator[](int i) {
    return members_[static_cast<std::size_t>(i)];
  }
  int size() const {
    return static_cast<int>(members_.size());
  }
  node_options& options() {
    return opts_;
  }

  /// Starts member `i` (seeds: every member's control address, itself included) and
  /// waits until it answers /healthz. Extra flags are appended.
  void start(int i, const std::vector<std::string>& extra = {});
  void start_all();
  /// The members node `i` lists (empty when it does not answer).
  std::map<std::string, member_view> members(int i);
  /// Waits until every node in `nodes` sees exactly `nodes` up (others absent or down).
  bool wait_formed(const std::vector<int>& nodes,
                   std::chrono::milliseconds timeout = std::chrono::seconds(15));
  /// Waits until node `observer` sees `name` in `state`.
  bool wait_state(int observer, const std::string& name, const std::string& state,
                  std::chrono::milliseconds timeout);
  /// The member that owns `channel` when `alive` are the live members (rendezvous hash).
  std::string owner_of(const std::string& channel, const std::vector<int>& alive) const;
  /// Index of a member by name.
  int index_of(const std::string& name) const;
  /// The value of a metric line (`name{labels}`) on node `i`, or -1.
  double metric(int i, const std::string& series);
  /// The logs of every member (for failure output).
  std::string logs() const;

  const std::string& dir() const {
    return dir_;
  }

private:
  node_options opts_;
  std::string dir_;
  std::string config_path_;
  std::vector<test_member> members_;
};

/// A connected, welcomed client of a test member.
struct cluster_client {
  std::unique_ptr<ws_client> ws;
  std::string welcome;
  std::string session;
  std::string resume;
};

/// Connects to `port` and reads `welcome`; `ws` is null when the upgrade failed.
cluster_client connect_client(uint16_t port);

/// Subscribes (optionally with since/epoch) and returns the `subscribed` frame.
std::optional<std::string> subscribe(cluster_client& c, const std::string& channel,
                                     std::optional<uint64_t> since = std::nullopt,
                                     const std::string& epoch = {},
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5));
/// Publishes `data` (JSON) with request id `id`; the answer to it (`ack` or `error`
/// frame), or nullopt on timeout.
std::optional<std::string> publish_reply(cluster_client& c, const std::string& channel, int64_t id,
                                         const std::string& data,
                                         std::chrono::milliseconds timeout);
/// The same; the ack's offset, or nullopt on error or timeout.
std::optional<uint64_t> publish(cluster_client& c, const std::string& channel, int64_t id,
                                const std::string& data,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5));
/// Reads until `count` `message` frames of `channel` arrived (or the timeout); their
/// offsets in arrival order. Other frames are skipped.
std::vector<uint64_t> read_offsets(cluster_client& c, const std::string& channel, std::size_t count,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// True when the server closed or reset the connection (nothing more will arrive).
bool peer_closed(ws_client& ws);

/// Path of the plexus binary under test.
std::string plexus_binary();

} // namespace plexus::test
