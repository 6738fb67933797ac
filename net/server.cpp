#include "net/server.hpp"

#include <random>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "actors/server_frames.hpp"

namespace plexus::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string random_id(std::size_t n) {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(n, '0');
  for (auto& c : out) {
    c = digits[gen() & 15];
  }
  return out;
}

namespace {

tcp::endpoint parse_endpoint(const std::string& listen) {
  auto pos = listen.rfind(':');
  if (pos == std::string::npos) {
    throw std::runtime_error("node.listen must be host:port, got '" + listen + "'");
  }
  auto host = listen.substr(0, pos);
  auto port = listen.substr(pos + 1);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) {
    throw std::runtime_error("node.listen: '" + host + "' is not an IP address");
  }
  int p = 0;
  try {
    p = std::stoi(port);
  } catch (...) {
    p = -1;
  }
  if (p < 0 || p > 65535) {
    throw std::runtime_error("node.listen: port must be 0..65535, got '" + port + "'");
  }
  return {addr, static_cast<uint16_t>(p)};
}

std::chrono::milliseconds sweep_interval(const websocket_settings& ws) {
  auto shortest = std::min(ws.heartbeat_interval_ms, ws.heartbeat_timeout_ms);
  return std::chrono::milliseconds(std::clamp<uint32_t>(shortest / 4, 10, 1000));
}

} // namespace

server::server(server_settings settings, server_deps deps)
  : settings_(std::move(settings)),
    deps_(std::move(deps)) {
  auto n = std::max<std::size_t>(1, settings_.io_threads);
  for (std::size_t i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<io_worker>(i));
  }
  make_resume = [node = settings_.node_name](const std::string& id) { return node + "." + id; };
  env_.websocket = &settings_.websocket;
  env_.stats = deps_.ctx.stats.get();
  env_.node_name = settings_.node_name;
  env_.messages_per_minute = deps_.ctx.settings->limits.messages_per_minute;
  // The session forwards at most one heartbeat per stale_threshold / 8 to the tracker;
  // notes from the connection need not be more frequent than that.
  env_.touch_interval = std::chrono::milliseconds(
    std::max<uint32_t>(1, deps_.ctx.settings->presence.stale_threshold_ms / 8));
  env_.spawn_session = [this](const std::shared_ptr<ws_connection>& conn, uint64_t seed) {
    return spawn_lazy_session(conn, seed);
  };
}

server::~server() {
  stop(std::chrono::milliseconds(0));
  end_accept(); // the workers are stopped: nothing else touches the reserve now
}

uint16_t server::start() {
  // Keys and certificates load here, before listening: a bad file stops start-up with its
  // option named, and the server stays safe to stop and destroy.
  auth_ = std::make_unique<authenticator>(settings_.auth);
  if (settings_.tls.enabled()) {
    tls_ = make_tls_context(settings_.tls);
  }
  auto ep = parse_endpoint(settings_.listen);
  acceptor_ = std::make_unique<tcp::acceptor>(workers_[0]->context());
  boost::system::error_code ec;
  acceptor_->open(ep.protocol(), ec);
  if (!ec) {
    acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    acceptor_->bind(ep, ec);
  }
  if (!ec) {
    acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    throw std::runtime_error("node.listen: cannot listen on " + settings_.listen + ": "
                             + ec.message());
  }
  port_ = acceptor_->local_endpoint().port();
  for (auto& w : workers_) {
    w->start(sweep_interval(settings_.websocket));
  }
  prepare_accept();
  asio::post(workers_[0]->context(), [this] { do_accept(); });
  spdlog::info("[{}] listening on {}:{} ({}) with {} I/O threads", settings_.node_name,
               ep.address().to_string(), port_, tls_ ? "https and wss" : "http and ws",
               workers_.size());
  return port_;
}

bool server::admit_ip(const std::string& ip) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::steady_clock::now().time_since_epoch())
               .count();
  std::lock_guard<std::mutex> guard{ip_mu_};
  if (ip_windows_.size() > 100000) {
    ip_windows_.clear(); // bound the table under a scan from many addresses
  }
  auto& w = ip_windows_[ip];
  if (w.second != now) {
    w.second = now;
    w.count = 0;
  }
  return ++w.count <= settings_.limits.connections_per_ip_per_second;
}

upgrade_context server::upgrade_state(const std::string& ip) {
  upgrade_context ctx;
  ctx.settings = &settings_;
  ctx.auth = auth_.get();
  ctx.draining = draining();
  ctx.connections = connections();
  ctx.ip_allowed = admit_ip(ip);
  if ((ctx.draining || ctx.connections >= settings_.limits.max_connections) && alternate_url) {
    ctx.alternate_url = alternate_url();
  }
  return ctx;
}

actors::session_config server::session_config_for(const std::shared_ptr<ws_connection>& conn,
                                                  std::string id, actors::identity who,
                                                  const std::string& peer) {
  actors::session_config cfg;
  cfg.id = std::move(id);
  cfg.who = std::move(who);
  cfg.out = conn;
  cfg.ctx = deps_.ctx;
  cfg.registry = deps_.registry;
  cfg.tracker = deps_.tracker;
  cfg.resume = make_resume(cfg.id);
  cfg.peer = peer;
  if (auth_->has_keys()) {
    cfg.verify = [auth = auth_.get()](const std::string& token, std::string& error) {
      auto r = auth->verify(token);
      error = r.error;
      return r.who;
    };
  }
  return cfg;
}

namespace {

/// An anonymous session and its user are both named after one random number, so a
/// connection that has no session actor yet only needs to keep that number.
std::string seed_session_id(uint64_t seed) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(seed));
  return buf;
}

actors::identity seed_identity(uint64_t seed) {
  actors::identity who;
  who.user = "anon-" + seed_session_id(seed).substr(0, 12);
  who.anonymous = true;
  return who;
}

uint64_t random_seed() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  uint64_t seed = 0;
  while (seed == 0) {
    seed = gen();
  }
  return seed;
}

} // namespace

caf::actor server::spawn_lazy_session(const std::shared_ptr<ws_connection>& conn,
                                      uint64_t seed) {
  auto cfg = session_config_for(conn, seed_session_id(seed), seed_identity(seed), conn->peer());
  return deps_.sys->spawn(actors::session_actor, std::move(cfg));
}

void server::open_connection(tcp::socket socket, io_worker& worker, upgrade_plan plan,
                             std::string initial, std::string peer,
                             std::unique_ptr<tls_transport> tls) {
  ws_options opts;
  opts.mode = plan.mode;
  opts.format = plan.format;
  opts.reader.max_message_bytes = settings_.websocket.max_message_bytes;
  if (plan.deflate) {
    opts.reader.deflate = true;
    opts.reader.client_no_context_takeover = plan.deflate->client_no_context_takeover;
    opts.reader.client_max_window_bits = plan.deflate->client_max_window_bits;
  }
  opts.env = &env_;
  opts.peer = peer;
  auto handshake = handshake_response(plan);
  auto conn = std::make_shared<ws_connection>(std::move(socket), worker, std::move(opts),
                                              std::move(tls));
  if (plan.mode != ws_mode::session) {
    conn->greet(std::move(handshake), nullptr);
    conn->start(std::move(initial), nullptr);
    return;
  }
  // An anonymous client needs no actor until it sends a frame: idle connections then cost
  // only their socket and queues (the actor is most of a connection's memory). Token
  // holders get theirs at once: their personal channel and token expiry need it.
  uint64_t seed = plan.who.anonymous ? random_seed() : 0;
  auto id = seed != 0 ? seed_session_id(seed) : random_id(16);
  auto who = seed != 0 ? seed_identity(seed) : std::move(plan.who);
  auto welcome = actors::make_welcome(
    actors::welcome_info{id, settings_.node_name, who.user,
                         deps_.ctx.settings->presence.heartbeat_interval_ms, make_resume(id)},
    actors::encodings::only(plan.format));
  conn->greet(std::move(handshake), std::move(welcome)); // before the session can push
  caf::actor session;
  if (seed == 0) {
    session = deps_.sys->spawn(actors::session_actor,
                               session_config_for(conn, std::move(id), std::move(who), peer));
  }
  conn->start(std::move(initial), std::move(session), seed);
}

std::size_t server::connections() const {
  auto n = deps_.ctx.stats->connections.load(std::memory_order_relaxed);
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

void server::close_all(uint16_t code, const std::string& reason) {
  for (auto& w : workers_) {
    asio::post(w->context(), [wp = w.get(), code, reason] {
      wp->for_each_connection([&](ws_connection& c) { c.start_close(code, reason, true); });
    });
  }
}

void server::send_all_and_close(std::function<actors::frame_ptr()> make_frame, uint16_t code,
                                const std::string& reason) {
  auto make = std::make_shared<std::function<actors::frame_ptr()>>(std::move(make_frame));
  for (auto& w : workers_) {
    asio::post(w->context(), [wp = w.get(), make, code, reason] {
      wp->for_each_connection([&](ws_connection& c) {
        c.push((*make)(), actors::slow_consumer_policy::drop_oldest);
        c.start_close(code, reason, true);
      });
    });
  }
}

void server::send_some_and_close(std::size_t n, std::function<actors::frame_ptr()> make_frame,
                                 uint16_t code, const std::string& reason) {
  auto make = std::make_shared<std::function<actors::frame_ptr()>>(std::move(make_frame));
  // Workers run in parallel: each takes what is left of the quota, connection by connection.
  auto left = std::make_shared<std::atomic<int64_t>>(static_cast<int64_t>(n));
  for (auto& w : workers_) {
    asio::post(w->context(), [wp = w.get(), make, left, code, reason] {
      wp->for_each_connection([&](ws_connection& c) {
        if (!c.is_open() || left->load() <= 0 || left->fetch_sub(1) <= 0) {
          return;
        }
        c.push((*make)(), actors::slow_consumer_policy::drop_oldest);
        c.start_close(code, reason, true);
      });
    });
  }
}

void server::stop(std::chrono::milliseconds grace) {
  if (stopping_.exchange(true)) {
    return;
  }
  if (acceptor_) {
    asio::post(workers_[0]->context(), [this] {
      boost::system::error_code ec;
      acceptor_->close(ec);
      end_accept();
    });
  }
  close_all(actors::close_code::going_away, "node shutting down");
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    // Shutdown path only: connections finish their close handshakes on the workers.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& w : workers_) {
    w->stop();
  }
  spdlog::info("[{}] server stopped", settings_.node_name);
}

} // namespace plexus::net
