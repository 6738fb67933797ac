#include "tests/cluster/cluster_harness.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include <simdjson.h>

#include "actors/placement.hpp"

namespace plexus::test {

std::string plexus_binary() {
  return std::string(PLEXUS_BINARY_DIR) + "/engine/plexus";
}

test_cluster::test_cluster(int n, node_options opts)
  : opts_(std::move(opts)), dir_(temp_dir("plexus-cluster")) {
  config_path_ = dir_ + "/plexus.toml";
  std::ofstream cfg(config_path_);
  // Presence + history rooms like the quickstart's, with a history long enough for the
  // replication tests' 1,000 messages.
  cfg << "[[namespace]]\nname = \"room\"\npresence = true\njoin_leave = true\n"
      << "history_size = " << opts_.history_size << "\nhistory_ttl_s = 300\npublish = \"any\"\n";
  for (int i = 0; i < n; ++i) {
    test_member m;
    m.name = "n" + std::to_string(i + 1);
    m.http_port = free_port(1);
    m.cluster_port = free_port(2);
    members_.push_back(std::move(m));
  }
}

test_cluster::~test_cluster() {
  for (auto& m : members_) {
    if (m.proc) {
      m.proc->kill_now();
    }
  }
}

void test_cluster::start(int i, const std::vector<std::string>& extra) {
  auto& m = members_[static_cast<std::size_t>(i)];
  std::string seeds;
  for (const auto& o : members_) {
    seeds += (seeds.empty() ? "" : ",") + o.control();
  }
  std::vector<std::string> args = {
    "--config",
    config_path_,
    "--node.name",
    m.name,
    "--node.listen",
    "127.0.0.1:" + std::to_string(m.http_port),
    "--node.io_threads",
    "1",
    "--node.actor_threads",
    "2",
    "--node.log_level",
    "info",
    "--auth.anonymous",
    "true",
    "--auth.api_key",
    api_key,
    "--limits.max_connections",
    std::to_string(opts_.max_connections),
    "--limits.connections_per_ip_per_second",
    "100000",
    "--limits.messages_per_minute",
    "6000000",
    "--cluster.enabled",
    "true",
    "--cluster.bind",
    m.control(),
    "--cluster.seeds",
    seeds,
    "--cluster.gossip_interval_ms",
    std::to_string(opts_.gossip_ms),
    "--cluster.suspect_timeout_ms",
    std::to_string(opts_.suspect_ms),
    "--cluster.dead_timeout_ms",
    std::to_string(opts_.dead_timeout_ms),
    "--cluster.secret",
    opts_.secret,
    "--cluster.replicas",
    std::to_string(opts_.replicas),
    "--cluster.drain_grace_s",
    std::to_string(opts_.drain_grace_s),
  };
  args.insert(args.end(), opts_.extra.begin(), opts_.extra.end());
  args.insert(args.end(), extra.begin(), extra.end());
  if (m.proc) {
    m.proc->kill_now();
  }
  m.proc = std::make_unique<process>(plexus_binary(), args, dir_ + "/" + m.name + ".log");
  wait_until(std::chrono::seconds(10), [&] {
    return !m.proc->running() || http_request(m.http_port, "GET", "/healthz").status == 200;
  });
}

void test_cluster::start_all() {
  for (int i = 0; i < size(); ++i) {
    start(i);
  }
}

std::map<std::string, member_view> test_cluster::members(int i) {
  std::map<std::string, member_view> out;
  auto& m = members_[static_cast<std::size_t>(i)];
  auto r = http_request(m.http_port, "GET", "/v1/cluster", {},
                        {{"Authorization", std::string("apikey ") + api_key}},
                        std::chrono::milliseconds(1000));
  if (r.status != 200) {
    return out;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r.body).get(doc) != simdjson::SUCCESS) {
    return out;
  }
  simdjson::dom::array arr;
  if (doc["members"].get(arr) != simdjson::SUCCESS) {
    return out;
  }
  for (auto e : arr) {
    member_view v;
    std::string_view s;
    if (e["name"].get(s) == simdjson::SUCCESS) {
      v.name = std::string(s);
    }
    if (e["state"].get(s) == simdjson::SUCCESS) {
      v.state = std::string(s);
    }
    if (e["url"].get(s) == simdjson::SUCCESS) {
      v.url = std::string(s);
    }
    uint64_t n = 0;
    if (e["incarnation"].get(n) == simdjson::SUCCESS) {
      v.incarnation = n;
    }
    if (e["version"].get(n) == simdjson::SUCCESS) {
      v.version = n;
    }
    if (e["connections"].get(n) == simdjson::SUCCESS) {
      v.connections = n;
    }
    bool b = false;
    if (e["draining"].get(b) == simdjson::SUCCESS) {
      v.draining = b;
    }
    out[v.name] = v;
  }
  return out;
}

bool test_cluster::wait_formed(const std::vector<int>& nodes, std::chrono::milliseconds timeout) {
  return wait_until(timeout, [&] {
    for (int i : nodes) {
      auto view = members(i);
      for (int j : nodes) {
        auto it = view.find(members_[static_cast<std::size_t>(j)].name);
        if (it == view.end() || it->second.state != "up") {
          return false;
        }
      }
      for (const auto& kv : view) {
        bool wanted = false;
        for (int j : nodes) {
          wanted = wanted || members_[static_cast<std::size_t>(j)].name == kv.first;
        }
        if (!wanted && kv.second.state == "up") {
          return false;
        }
      }
    }
    return true;
  });
}

bool test_cluster::wait_state(int observer, const std::string& name, const std::string& state,
                              std::chrono::milliseconds timeout) {
  return wait_until(timeout, [&] {
    auto view = members(observer);
    auto it = view.find(name);
    return it != view.end() && it->second.state == state;
  });
}

std::string test_cluster::owner_of(const std::string& channel,
                                   const std::vector<int>& alive) const {
  actors::placement p;
  for (int i : alive) {
    p.owners.push_back(members_[static_cast<std::size_t>(i)].name);
  }
  std::sort(p.owners.begin(), p.owners.end());
  return p.order(channel).front();
}

int test_cluster::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].name == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

double test_cluster::metric(int i, const std::string& series) {
  auto r = http_request(members_[static_cast<std::size_t>(i)].http_port, "GET", "/metrics");
  std::istringstream in(r.body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, series.size(), series) == 0 && line.size() > series.size()
        && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

std::string test_cluster::logs() const {
  std::string out;
  for (const auto& m : members_) {
    if (m.proc) {
      out += "---- " + m.name + " (" + m.proc->log_path() + ")\n" + m.proc->log_tail(3000);
    }
  }
  return out;
}

bool peer_closed(ws_client& ws) {
  pollfd p{ws.fd(), POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) {
    return false;
  }
  char byte = 0;
  auto n = ::recv(ws.fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

cluster_client connect_client(uint16_t port) {
  cluster_client c;
  auto ws = ws_client::connect(port);
  if (!ws->open()) {
    return c;
  }
  c.welcome = ws->read_message().value_or("");
  c.session = json_string(c.welcome, "session");
  c.resume = json_string(c.welcome, "resume");
  c.ws = std::move(ws);
  return c;
}

std::optional<std::string> subscribe(cluster_client& c, const std::string& channel,
                                     std::optional<uint64_t> since, const std::string& epoch,
                                     std::chrono::milliseconds timeout) {
  std::string frame = R"({"type":"subscribe","id":900001,"channel":")" + channel + "\"";
  if (since) {
    frame += ",\"since\":" + std::to_string(*since) + ",\"epoch\":\"" + epoch + "\"";
  }
  c.ws->send_text(frame + "}");
  return c.ws->read_until(
    [](const std::string& m) {
      auto t = json_string(m, "type");
      return (t == "subscribed" || t == "error") && json_int(m, "id") == 900001;
    },
    timeout);
}

std::optional<std::string> publish_reply(cluster_client& c, const std::string& channel, int64_t id,
                                         const std::string& data,
                                         std::chrono::milliseconds timeout) {
  c.ws->send_text(R"({"type":"publish","id":)" + std::to_string(id) + R"(,"channel":")" + channel
                  + R"(","data":)" + data + "}");
  return c.ws->read_until(
    [id](const std::string& m) {
      auto t = json_string(m, "type");
      return (t == "ack" || t == "error") && json_int(m, "id") == id;
    },
    timeout);
}

std::optional<uint64_t> publish(cluster_client& c, const std::string& channel, int64_t id,
                                const std::string& data, std::chrono::milliseconds timeout) {
  auto r = publish_reply(c, channel, id, data, timeout);
  if (!r || json_string(*r, "type") != "ack") {
    return std::nullopt;
  }
  auto off = json_int(*r, "offset");
  return off ? std::optional<uint64_t>(static_cast<uint64_t>(*off)) : std::nullopt;
}

std::vector<uint64_t> read_offsets(cluster_client& c, const std::string& channel, std::size_t count,
                                   std::chrono::milliseconds timeout) {
  std::vector<uint64_t> out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < count) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    auto m = c.ws->read_message(left);
    if (!m) {
      break;
    }
    if (json_string(*m, "type") == "message" && json_string(*m, "channel") == channel) {
      out.push_back(static_cast<uint64_t>(json_int(*m, "offset").value_or(0)));
    }
  }
  return out;
}

} // namespace plexus::test
