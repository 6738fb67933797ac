#include "engine/node.hpp"

#include <stdexcept>

#include <caf/actor_registry.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/logger.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/presence_tracker.hpp"
#include "actors/registry.hpp"
#include "net/server.hpp"

namespace plexus::engine {

namespace {

/// CAF settings for a latency-sensitive server (DEPENDENCIES.md pitfalls 1 and 2).
class system_config : public caf::actor_system_config {
public:
  explicit system_config(std::size_t threads) {
    set("scheduler.max-threads", threads);
    // Idle workers block on a condition variable right after the aggressive phase
    // instead of polling with 50 us sleeps: halves Beast -> room -> Beast latency.
    set("work-stealing.moderate-poll-attempts", 0);
    set("logger.verbosity", caf::atom("quiet"));
    set("logger.console", caf::atom("none"));
  }
};

std::shared_ptr<const actors::domain_settings> domain_of(const config& cfg,
                                                         const std::string& name) {
  auto d = std::make_shared<actors::domain_settings>();
  d->node_name = name;
  d->presence = cfg.presence;
  d->limits = cfg.session_limits;
  for (const auto& ns : cfg.namespaces) {
    if (ns.name.empty()) {
      d->fallback = ns; // `[[namespace]] name = ""` configures channels without one
    } else {
      d->namespaces.push_back(ns);
    }
  }
  d->deflate_min_bytes = cfg.websocket.compression_min_bytes;
  return d;
}

net::server_settings server_settings_of(const config& cfg, const std::string& name) {
  net::server_settings s;
  s.node_name = name;
  s.listen = cfg.node.listen;
  s.static_dir = cfg.node.static_dir.empty() ? std::string{PLEXUS_DEFAULT_STATIC_DIR}
                                             : cfg.node.static_dir;
  s.io_threads = cfg.resolved_io_threads();
  s.websocket = cfg.websocket;
  s.auth = cfg.auth;
  s.tls = cfg.tls;
  s.limits = cfg.connection_limits;
  return s;
}

} // namespace

void release_caf_thread_state() {
  caf::logger::set_current_actor_system(nullptr);
}

struct node::impl {
  config cfg;
  std::string name;
  std::unique_ptr<system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  actors::context ctx;
  caf::actor registry;
  caf::actor tracker;
  std::unique_ptr<net::server> srv;
  bool started = false;
  bool stopped = false;
};

node::node(config cfg) : impl_(std::make_unique<impl>()) {
  impl_->cfg = std::move(cfg);
  impl_->name = impl_->cfg.resolved_name();
}

node::~node() {
  stop(std::chrono::milliseconds(500));
}

uint16_t node::start() {
  auto& d = *impl_;
  if (d.started) {
    return d.srv->port();
  }
  d.started = true;
  d.ctx.settings = domain_of(d.cfg, d.name);
  d.ctx.stats = std::make_shared<actors::metrics>();
  d.sys_cfg = std::make_unique<system_config>(d.cfg.resolved_actor_threads());
  d.sys = std::make_unique<caf::actor_system>(*d.sys_cfg);
  d.registry = d.sys->spawn(actors::registry_actor, d.ctx);
  d.tracker = d.sys->spawn(actors::presence_tracker_actor, d.ctx, d.registry);
  net::server_deps deps{d.sys.get(), d.registry, d.tracker, d.ctx};
  d.srv = std::make_unique<net::server>(server_settings_of(d.cfg, d.name), std::move(deps));
  net::add_builtin_routes(*d.srv);
  auto port = d.srv->start();
  release_caf_thread_state();
  spdlog::info("[{}] node started: ws://{}/ws", d.name, d.cfg.node.listen);
  return port;
}

void node::stop(std::chrono::milliseconds grace) {
  auto& d = *impl_;
  if (!d.started || d.stopped) {
    return;
  }
  d.stopped = true;
  spdlog::info("[{}] stopping", d.name);
  d.srv->stop(grace);
  caf::anon_send_exit(d.tracker, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(d.registry, caf::exit_reason::user_shutdown);
  d.srv.reset();
  d.tracker = nullptr;
  d.registry = nullptr;
  release_caf_thread_state();
  d.sys.reset(); // waits for all actors (sessions get `closed` from their connections)
  spdlog::info("[{}] stopped", d.name);
}

const std::string& node::name() const {
  return impl_->name;
}

uint16_t node::port() const {
  return impl_->srv ? impl_->srv->port() : 0;
}

std::string node::ws_url() const {
  auto listen = impl_->cfg.node.listen;
  auto host = listen.substr(0, listen.rfind(':'));
  return "ws://" + host + ":" + std::to_string(port()) + "/ws";
}

const config& node::settings() const {
  return impl_->cfg;
}

caf::actor_system& node::system() {
  return *impl_->sys;
}

caf::actor node::registry() const {
  return impl_->registry;
}

caf::actor node::tracker() const {
  return impl_->tracker;
}

actors::metrics& node::stats() {
  return *impl_->ctx.stats;
}

net::server& node::server() {
  return *impl_->srv;
}

} // namespace plexus::engine
