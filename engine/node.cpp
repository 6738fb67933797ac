#include "engine/node.hpp"

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <caf/actor_registry.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/logger.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/presence_tracker.hpp"
#include "actors/registry.hpp"
#include "engine/cluster_node.hpp"
#include "engine/cluster_routes.hpp"
#include "engine/config_loader.hpp"
#include "net/server.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::engine::node_event)

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

/// Turns member events into the hooks' node_event (engine/hooks.hpp) for `hook_actor`.
std::function<void(const cluster::member_event&)> node_change_forwarder(caf::actor hook_actor) {
  if (!hook_actor) {
    return {};
  }
  return [hook_actor](const cluster::member_event& ev) {
    node_event e;
    e.node = ev.info.name;
    bool resumed = ev.what == cluster::member_event::kind::draining && !ev.info.draining;
    e.state = resumed ? "up" : cluster::to_string(ev.what);
    e.incarnation = ev.info.incarnation;
    caf::anon_send(hook_actor, std::move(e));
  };
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
  hooks user_hooks;
  caf::actor hook_actor;
  std::unique_ptr<net::server> srv;
  std::unique_ptr<cluster_node> cluster; // when cluster.enabled
  std::mutex drain_mu;
  std::thread drain_thread;
  std::atomic<bool> draining{false};
  std::atomic<bool> drained{false};
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
  if (d.user_hooks.any()) {
    d.hook_actor = spawn_hook_actor(*d.sys, std::move(d.user_hooks));
    d.ctx.events = d.hook_actor;
  }
  d.registry = d.sys->spawn(actors::registry_actor, d.ctx);
  d.tracker = d.sys->spawn(actors::presence_tracker_actor, d.ctx, d.registry);
  if (d.hook_actor) {
    caf::anon_send(d.tracker, actors::listen_atom::value, d.hook_actor);
  }
  if (d.cfg.cluster.enabled) {
    // Before the server accepts anyone: rooms spawned for the first clients must already
    // know the cluster.
    d.cluster = std::make_unique<cluster_node>(d.cfg, d.name, *d.sys, d.ctx, d.registry,
                                               node_change_forwarder(d.hook_actor));
    // With a fixed HTTP port our URL is known now: peers must never see us up without
    // it, or a draining neighbour has nowhere to send its clients.
    auto listen = parse_host_port(d.cfg.node.listen);
    d.cluster->start(listen && listen->port != 0 ? public_ws_url(d.cfg, listen->port) : "");
  }
  net::server_deps deps{d.sys.get(), d.registry, d.tracker, d.ctx};
  d.srv = std::make_unique<net::server>(server_settings_of(d.cfg, d.name), std::move(deps));
  net::add_builtin_routes(*d.srv);
  add_cluster_routes(*d.srv, {d.cluster.get(), [this] { return ws_url(); }, [this] { drain(); },
                              std::chrono::seconds(d.cfg.cluster.drain_grace_s)});
  auto port = d.srv->start();
  if (d.cluster) {
    d.cluster->set_ws_url(ws_url());
  }
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
  {
    std::lock_guard<std::mutex> guard{d.drain_mu};
    if (d.drain_thread.joinable()) {
      d.drain_thread.join();
    }
  }
  if (d.cluster) {
    d.cluster->stop(); // the others take our rooms over while our clients close
  }
  d.srv->stop(grace);
  caf::anon_send_exit(d.tracker, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(d.registry, caf::exit_reason::user_shutdown);
  if (d.hook_actor) {
    caf::anon_send_exit(d.hook_actor, caf::exit_reason::user_shutdown);
    d.hook_actor = nullptr;
  }
  d.srv.reset();
  d.cluster.reset();
  d.tracker = nullptr;
  d.registry = nullptr;
  release_caf_thread_state();
  d.sys.reset(); // waits for all actors (sessions get `closed` from their connections)
  spdlog::info("[{}] stopped", d.name);
}

void node::set_hooks(hooks h) {
  impl_->user_hooks = std::move(h);
}

caf::actor node::hook_actor() const {
  return impl_->hook_actor;
}

const std::string& node::name() const {
  return impl_->name;
}

uint16_t node::port() const {
  return impl_->srv ? impl_->srv->port() : 0;
}

std::string node::ws_url() const {
  return public_ws_url(impl_->cfg, port());
}

void node::drain() {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard{d.drain_mu};
  if (!d.started || d.stopped || d.draining.exchange(true)) {
    return;
  }
  d.drain_thread = std::thread([&d] {
    run_drain(*d.srv, d.cluster.get(), *d.ctx.stats, d.name,
              std::chrono::seconds(d.cfg.cluster.drain_grace_s));
    d.drained.store(true);
    release_caf_thread_state();
  });
}

bool node::drained() const {
  return impl_->drained.load();
}

caf::actor node::cluster_router() const {
  return impl_->cluster ? impl_->cluster->router() : caf::actor{};
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
