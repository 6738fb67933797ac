#include "engine/cluster_node.hpp"

#include <openssl/crypto.h>

#include <random>
#include <thread>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/server_frames.hpp"
#include "cluster/router.hpp"
#include "cluster/transport.hpp"
#include "cluster/wire.hpp"
#include "engine/node.hpp"
#include "net/server.hpp"

namespace plexus::engine {

namespace {

std::string host_of(const std::string& host_port) {
  auto pos = host_port.rfind(':');
  return pos == std::string::npos ? host_port : host_port.substr(0, pos);
}

bool wildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
}

// Resume MACs are short: they only have to make guessing a token for another node
// pointless, not resist offline attack.
constexpr std::size_t resume_mac_hex = 16;

} // namespace

std::string public_ws_url(const config& cfg, uint16_t port) {
  auto host = host_of(cfg.node.listen);
  if (wildcard(host)) {
    auto c = cfg.cluster.advertise.empty() ? cfg.cluster.bind : cfg.cluster.advertise;
    host = host_of(c);
  }
  return std::string(cfg.tls.enabled() ? "wss://" : "ws://") + host + ":" + std::to_string(port)
         + "/ws";
}

cluster_node::cluster_node(const config& cfg, std::string name, caf::actor_system& sys,
                           actors::context ctx, caf::actor registry,
                           std::function<void(const cluster::member_event&)> on_change)
  : cfg_(cfg), name_(std::move(name)), sys_(sys), ctx_(std::move(ctx)),
    registry_(std::move(registry)), on_change_(std::move(on_change)),
    net_(std::make_shared<cluster::transport>(name_)), board_(std::make_shared<cluster::board>()) {
}

cluster_node::~cluster_node() {
  stop();
}

void cluster_node::start(const std::string& ws_url) {
  const auto& c = cfg_.cluster;
  net_->bind(c.bind);
  cluster::router_config rc;
  rc.settings = c;
  rc.node_name = name_;
  rc.ws_url = ws_url;
  rc.control = c.advertise.empty() ? c.bind : c.advertise;
  rc.incarnation = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  rc.max_connections = cfg_.connection_limits.max_connections;
  rc.ctx = ctx_;
  rc.registry = registry_;
  rc.net = net_;
  rc.table = board_;
  rc.on_change = on_change_;
  router_ = sys_.spawn(cluster::router_actor, std::move(rc));
  net_->start(cluster::make_receiver(router_, c.secret, name_, ctx_.stats),
              cluster::make_drop_reporter(router_));
  spdlog::info("[{}] cluster: control on {}, seeds [{}], replicas {}", name_, c.bind,
               fmt::join(c.seeds, ", "), c.replicas);
}

void cluster_node::set_ws_url(const std::string& url) {
  caf::anon_send(router_, cluster::url_atom::value, url);
}

void cluster_node::drain() {
  caf::anon_send(router_, actors::drain_atom::value);
}

void cluster_node::stop() {
  if (stopped_ || !router_) {
    return;
  }
  stopped_ = true;
  {
    // Wait (briefly) until the leave announcement is queued, then give it time to leave.
    caf::scoped_actor s{sys_};
    s->request(router_, std::chrono::seconds(1), cluster::depart_atom::value)
      .receive([](bool) {}, [](caf::error&) {});
  }
  release_caf_thread_state();
  net_->stop(std::chrono::milliseconds(200));
  caf::anon_send_exit(router_, caf::exit_reason::user_shutdown);
  router_ = nullptr;
}

std::string cluster_node::make_resume(const std::string& session) const {
  auto base = name_ + "." + session;
  return base + "." + cluster::hmac_hex(cfg_.cluster.secret, base, resume_mac_hex);
}

std::optional<std::string> cluster_node::resume_node(const std::string& token) const {
  auto last = token.rfind('.');
  if (last == std::string::npos || last == 0) {
    return std::nullopt;
  }
  auto base = token.substr(0, last);
  auto mac = token.substr(last + 1);
  auto expected = cluster::hmac_hex(cfg_.cluster.secret, base, resume_mac_hex);
  if (mac.size() != expected.size()
      || CRYPTO_memcmp(mac.data(), expected.data(), mac.size()) != 0) {
    return std::nullopt;
  }
  auto dot = base.rfind('.');
  if (dot == std::string::npos || dot == 0) {
    return std::nullopt;
  }
  return base.substr(0, dot);
}

uint64_t reconnect_window_ms(std::size_t clients, std::chrono::seconds grace) {
  // A window that grows with the crowd, so the other nodes see a ramp rather than a
  // stampede; never more than half the grace period, so clients are back well before a
  // draining node gives up on them.
  return std::min<uint64_t>(std::max<uint64_t>(500, clients * 2),
                            std::max<uint64_t>(1, static_cast<uint64_t>(grace.count()) * 500));
}

std::function<actors::frame_ptr()> reconnect_spreader(const cluster_node* cluster,
                                                      uint64_t window_ms) {
  struct state {
    std::mutex mu;
    std::mt19937_64 jitter{std::random_device{}()};
    cluster::weighted_spread spread;
    explicit state(const std::vector<cluster::board::peer_capacity>& peers) : spread(peers) {
    }
  };
  std::vector<cluster::board::peer_capacity> peers;
  if (cluster != nullptr) {
    peers = cluster->board()->peers_by_capacity(true);
  }
  auto st = std::make_shared<state>(peers);
  window_ms = std::max<uint64_t>(1, window_ms);
  return [st, window_ms] {
    std::string url;
    uint64_t after = 0;
    {
      std::lock_guard<std::mutex> guard{st->mu};
      url = st->spread.next();
      after = st->jitter() % window_ms;
    }
    actors::encodings both;
    both.json = true;
    both.msgpack = true;
    return actors::make_reconnect(url, after, both);
  };
}

void run_drain(net::server& srv, cluster_node* cluster, const actors::metrics& stats,
               const std::string& name, std::chrono::seconds grace) {
  using namespace std::chrono_literals;
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + grace;
  spdlog::info("[{}] draining: {} client(s), grace {} s", name, srv.connections(), grace.count());
  srv.set_draining(true);
  // With no other node to take them, rooms stay here: do not wait for hand-offs.
  bool others = cluster != nullptr && cluster->board()->pick(true, true).has_value();
  if (cluster != nullptr) {
    cluster->drain();
  }
  if (others) {
    // Hand the rooms over before clients reconnect elsewhere, so they find the same epoch
    // and history there and recover. Bounded: a node whose peers are gone moves nothing.
    auto handoff_deadline = std::min(deadline, start + 10s);
    std::this_thread::sleep_for(50ms); // the router publishes the draining view first
    while (std::chrono::steady_clock::now() < handoff_deadline
           && (stats.cluster_rooms_owned.load() > 0 || stats.cluster_handoffs_pending.load() > 0)) {
      std::this_thread::sleep_for(20ms);
    }
    spdlog::info("[{}] draining: rooms handed off ({} left)", name,
                 stats.cluster_rooms_owned.load());
  }
  srv.send_all_and_close(reconnect_spreader(cluster, reconnect_window_ms(srv.connections(), grace)),
                         actors::close_code::reconnect, "node draining, reconnect elsewhere");
  while (srv.connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  spdlog::info(
    "[{}] drained in {} ms ({} client(s) left)", name,
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
      .count(),
    srv.connections());
}

} // namespace plexus::engine
