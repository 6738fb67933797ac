// A network partition between real processes: three network namespaces on a bridge, the
// third cut off from the other two with iptables, then healed. Needs root (CAP_NET_ADMIN)
// and `ip`/`iptables`; skipped with a message otherwise.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/cluster/cluster_harness.hpp"

namespace plexus::test {
namespace {

using namespace std::chrono_literals;

int sh(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str());
}

/// A minimal HTTP/1.1 request to host:port (the test support's client only speaks to
/// 127.0.0.1). Returns status and body; status 0 when unreachable.
std::pair<int, std::string> http_to(const std::string& host, uint16_t port,
                                    const std::string& method, const std::string& target,
                                    const std::string& body = {}) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return {0, {}};
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host
                    + "\r\nConnection: close\r\nAuthorization: apikey " + test_cluster::api_key
                    + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + std::to_string(body.size()) + "\r\n\r\n" + body;
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string in;
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      break;
    }
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (in.size() < 12) {
    return {0, {}};
  }
  auto pos = in.find("\r\n\r\n");
  return {std::atoi(in.c_str() + 9), pos == std::string::npos ? "" : in.substr(pos + 4)};
}

/// Three namespaces ns1..ns3 on a bridge in the root namespace, each node at 10.77.N.i.
struct netns_lab {
  std::string tag = std::to_string(::getpid() % 10000);
  int net = 10 + ::getpid() % 200;
  bool ok = false;

  std::string ns(int i) const {
    return "plx" + tag + "n" + std::to_string(i);
  }
  std::string ip(int i) const {
    return "10.77." + std::to_string(net) + "." + std::to_string(i);
  }
  std::string bridge() const {
    return "plx" + tag + "br";
  }

  netns_lab() {
    if (::geteuid() != 0 || sh("ip -V") != 0 || sh("iptables -V") != 0) {
      return;
    }
    bool good = sh("ip link add " + bridge() + " type bridge") == 0
                && sh("ip addr add 10.77." + std::to_string(net) + ".254/24 dev " + bridge()) == 0
                && sh("ip link set " + bridge() + " up") == 0;
    for (int i = 1; i <= 3 && good; ++i) {
      auto v = "plx" + tag + "v" + std::to_string(i);
      good = sh("ip netns add " + ns(i)) == 0
             && sh("ip link add " + v + " type veth peer name " + v + "p") == 0
             && sh("ip link set " + v + "p netns " + ns(i)) == 0
             && sh("ip link set " + v + " master " + bridge() + " up") == 0
             && sh("ip netns exec " + ns(i) + " ip addr add " + ip(i) + "/24 dev " + v + "p") == 0
             && sh("ip netns exec " + ns(i) + " ip link set " + v + "p up") == 0
             && sh("ip netns exec " + ns(i) + " ip link set lo up") == 0;
    }
    ok = good;
  }

  ~netns_lab() {
    for (int i = 1; i <= 3; ++i) {
      sh("ip netns del " + ns(i));
      sh("ip link del plx" + tag + "v" + std::to_string(i));
    }
    sh("ip link del " + bridge());
  }

  /// Cuts node 3 off from nodes 1 and 2 (the root namespace still reaches everyone).
  void split() {
    for (int peer : {1, 2}) {
      sh("ip netns exec " + ns(3) + " iptables -A INPUT -s " + ip(peer) + " -j DROP");
      sh("ip netns exec " + ns(3) + " iptables -A OUTPUT -d " + ip(peer) + " -j DROP");
    }
  }
  void heal() {
    sh("ip netns exec " + ns(3) + " iptables -F");
  }
};

std::map<std::string, std::string> states(const netns_lab& lab, int i) {
  std::map<std::string, std::string> out;
  auto r = http_to(lab.ip(i), 8080, "GET", "/v1/cluster");
  if (r.first != 200) {
    return out;
  }
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  simdjson::dom::array arr;
  if (p.parse(r.second).get(doc) != simdjson::SUCCESS
      || doc["members"].get(arr) != simdjson::SUCCESS) {
    return out;
  }
  for (auto m : arr) {
    std::string_view name;
    std::string_view state;
    if (m["name"].get(name) == simdjson::SUCCESS && m["state"].get(state) == simdjson::SUCCESS) {
      out[std::string(name)] = std::string(state);
    }
  }
  return out;
}

bool sees(const netns_lab& lab, int i, const std::map<std::string, std::string>& want) {
  auto s = states(lab, i);
  for (const auto& kv : want) {
    auto it = s.find(kv.first);
    if (it == s.end() || it->second != kv.second) {
      return false;
    }
  }
  return true;
}

std::optional<uint64_t> http_publish(const netns_lab& lab, int i, const std::string& ch,
                                     int value) {
  auto r = http_to(lab.ip(i), 8080, "POST", "/v1/publish",
                   "{\"channel\":\"" + ch + "\",\"data\":" + std::to_string(value) + "}");
  if (r.first != 200) {
    return std::nullopt;
  }
  auto off = json_int(r.second, "offset");
  return off ? std::optional<uint64_t>(static_cast<uint64_t>(*off)) : std::nullopt;
}

TEST(cluster_partition, two_one_split_is_detected_and_heals) {
  netns_lab lab;
  if (!lab.ok) {
    GTEST_SKIP() << "needs root with ip netns, veth, bridge and iptables (CAP_NET_ADMIN); "
                    "skipping the partition test";
  }
  auto dir = temp_dir("plexus-partition");
  std::string seeds;
  for (int i = 1; i <= 3; ++i) {
    seeds += (i > 1 ? "," : "") + lab.ip(i) + ":9100";
  }
  std::vector<std::unique_ptr<process>> nodes;
  for (int i = 1; i <= 3; ++i) {
    nodes.push_back(
      std::make_unique<process>("/usr/sbin/ip",
                                std::vector<std::string>{"netns",
                                                         "exec",
                                                         lab.ns(i),
                                                         plexus_binary(),
                                                         "--node.name",
                                                         "n" + std::to_string(i),
                                                         "--node.listen",
                                                         lab.ip(i) + ":8080",
                                                         "--node.actor_threads",
                                                         "2",
                                                         "--node.io_threads",
                                                         "1",
                                                         "--auth.anonymous",
                                                         "true",
                                                         "--auth.api_key",
                                                         test_cluster::api_key,
                                                         "--cluster.enabled",
                                                         "true",
                                                         "--cluster.bind",
                                                         lab.ip(i) + ":9100",
                                                         "--cluster.seeds",
                                                         seeds,
                                                         "--cluster.gossip_interval_ms",
                                                         "100",
                                                         "--cluster.suspect_timeout_ms",
                                                         "500",
                                                         "--cluster.dead_timeout_ms",
                                                         "1200",
                                                         "--cluster.secret",
                                                         "partition-test-secret-0123456789"},
                                dir + "/n" + std::to_string(i) + ".log"));
  }
  auto logs = [&] {
    std::string out;
    for (auto& n : nodes) {
      out += "---- " + n->log_path() + "\n" + n->log_tail(2000);
    }
    return out;
  };
  std::map<std::string, std::string> all_up{{"n1", "up"}, {"n2", "up"}, {"n3", "up"}};
  ASSERT_TRUE(wait_until(
    15s, [&] { return sees(lab, 1, all_up) && sees(lab, 2, all_up) && sees(lab, 3, all_up); }))
    << logs();
  const std::string ch = "partitioned";
  ASSERT_TRUE(http_publish(lab, 1, ch, 1)) << logs();

  lab.split();
  ASSERT_TRUE(wait_until(10s,
                         [&] {
                           return sees(lab, 1, {{"n3", "down"}, {"n2", "up"}})
                                  && sees(lab, 2, {{"n3", "down"}})
                                  && sees(lab, 3, {{"n1", "down"}, {"n2", "down"}});
                         }))
    << logs();
  // The majority side keeps serving the channel, whichever node owned it.
  auto during = http_publish(lab, 2, ch, 2);
  EXPECT_TRUE(during) << logs();

  lab.heal();
  ASSERT_TRUE(wait_until(
    20s, [&] { return sees(lab, 1, all_up) && sees(lab, 2, all_up) && sees(lab, 3, all_up); }))
    << logs();
  // One owner again: publishes from both sides land in one ordered stream.
  std::optional<uint64_t> a;
  std::optional<uint64_t> b;
  ASSERT_TRUE(wait_until(10s,
                         [&] {
                           a = http_publish(lab, 1, ch, 3);
                           b = http_publish(lab, 3, ch, 4);
                           return a && b && *b == *a + 1;
                         }))
    << "after heal: " << (a ? std::to_string(*a) : "-") << " then "
    << (b ? std::to_string(*b) : "-") << "\n"
    << logs();
  for (auto& n : nodes) {
    n->kill_now();
  }
}

} // namespace
} // namespace plexus::test
