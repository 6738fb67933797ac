#include "cluster/router.hpp"

#include <algorithm>
#include <random>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/messages.hpp"

namespace plexus::cluster {

using actors::room_wire;

const char* router_state::name = "cluster_router";

namespace {

using self_ptr = caf::stateful_actor<router_state>*;
using clock = std::chrono::steady_clock;

uint64_t random64() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen();
}

std::chrono::milliseconds ms(uint32_t v) {
  return std::chrono::milliseconds(v);
}

envelope make_envelope(const router_state& st, envelope_kind kind) {
  envelope e;
  e.kind = kind;
  e.sender = st.cfg.node_name;
  e.incarnation = st.mem->self().incarnation;
  return e;
}

void fail_pending(router_state& st, const std::string& node, const std::string& why) {
  for (auto i = st.pending.begin(); i != st.pending.end();) {
    if (node.empty() || i->second.node == node) {
      i->second.rp.deliver(actors::make_error(actors::errc::internal, why));
      i = st.pending.erase(i);
    } else {
      ++i;
    }
  }
}

void probe_member(self_ptr self, const std::string& target) {
  // SWIM's indirect probe: ask the target directly and through two other members, so a
  // single bad link does not get a healthy node declared dead. The ack carries the
  // target's own row; merging it is the same as hearing its heartbeat.
  auto& st = self->state;
  if (st.probes.size() > 1024) {
    st.probes.clear();
  }
  auto nonce = random64();
  st.probes.emplace(nonce, target);
  auto ping = make_envelope(st, envelope_kind::ping);
  ping.probe.target = target;
  ping.probe.origin = st.cfg.node_name;
  ping.probe.nonce = nonce;
  st.send_to({target}, ping);
  auto helpers = st.mem->helpers(target);
  std::shuffle(helpers.begin(), helpers.end(), std::mt19937_64{random64()});
  helpers.resize(std::min<std::size_t>(helpers.size(), 2));
  auto req = ping;
  req.kind = envelope_kind::ping_req;
  st.send_to(helpers, req);
}

void on_room_request(self_ptr self, envelope& e) {
  auto& st = self->state;
  auto from = e.sender;
  auto id = e.id;
  auto answer = [self, from, id](room_wire reply) {
    auto& st = self->state;
    auto out = make_envelope(st, envelope_kind::room_reply);
    out.id = id;
    out.room = std::move(reply);
    st.send_to({from}, std::move(out));
  };
  self
    ->request(st.cfg.registry, ms(st.cfg.ctx.settings->request_timeout_ms),
              actors::remote_req_atom::value, from, std::move(e.room))
    .then([answer](room_wire& reply) { answer(std::move(reply)); },
          [answer](caf::error& err) {
            room_wire r;
            r.status = actors::room_status::refused;
            r.text = actors::message_of(err);
            answer(std::move(r));
          });
}

/// Adds one node's rooms to a listing: subscribers add up, the owner's offset is the
/// highest (followers trail it).
void merge_channels(actors::channel_list& acc, const actors::channel_list& more) {
  for (const auto& c : more) {
    auto i = std::find_if(acc.begin(), acc.end(),
                          [&](const actors::channel_info& x) { return x.channel == c.channel; });
    if (i == acc.end()) {
      acc.push_back(c);
    } else {
      i->subscribers += c.subscribers;
      i->offset = std::max(i->offset, c.offset);
    }
  }
}

void finish_listing(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto i = st.listings.find(id);
  if (i == st.listings.end()) {
    return;
  }
  auto l = i->second;
  st.listings.erase(i);
  std::sort(l->acc.begin(), l->acc.end(),
            [](const auto& a, const auto& b) { return a.channel < b.channel; });
  l->rp.deliver(std::move(l->acc));
}

void listing_part(self_ptr self, uint64_t id, const actors::channel_list& part) {
  auto& st = self->state;
  auto i = st.listings.find(id);
  if (i == st.listings.end()) {
    return;
  }
  merge_channels(i->second->acc, part);
  if (--i->second->waiting == 0) {
    finish_listing(self, id);
  }
}

void on_channels_request(self_ptr self, const envelope& e) {
  auto& st = self->state;
  auto from = e.sender;
  auto id = e.id;
  auto answer = [self, from, id](actors::channel_list list) {
    auto& st = self->state;
    auto out = make_envelope(st, envelope_kind::channels_reply);
    out.id = id;
    out.channels = std::move(list);
    st.send_to({from}, std::move(out));
  };
  self
    ->request(st.cfg.registry, ms(st.cfg.ctx.settings->request_timeout_ms),
              actors::channels_atom::value)
    .then([answer](actors::channel_list& list) { answer(std::move(list)); },
          [answer](caf::error&) { answer({}); });
}

void on_inbound(self_ptr self, envelope& e) {
  auto& st = self->state;
  if (e.sender == st.cfg.node_name) {
    return; // our own gossip, when a seed list names us under another address
  }
  st.cfg.ctx.stats->cluster_messages_in_total.fetch_add(1, std::memory_order_relaxed);
  auto now = clock::now();
  switch (e.kind) {
    case envelope_kind::gossip: {
      auto res = st.mem->merge(e.members, e.sender, now);
      if (res.reset) {
        spdlog::warn("[{}] cluster: {} reported this node down; refuting (version {}) and "
                     "dropping room roles, which have moved on meanwhile",
                     st.cfg.node_name, e.sender, st.mem->self().version);
        self->send(st.cfg.registry, actors::reset_atom::value);
        st.publish_view();
      } else if (res.refuted) {
        spdlog::warn("[{}] cluster: {} reported this node down; refuting (version {}), "
                     "keeping room roles (this side kept running)",
                     st.cfg.node_name, e.sender, st.mem->self().version);
      }
      st.handle(res.events);
      if (!res.events.empty() || res.reset) {
        st.refresh_board();
      }
      break;
    }
    case envelope_kind::ping:
      if (e.probe.target == st.cfg.node_name) {
        auto ack = make_envelope(st, envelope_kind::ack);
        ack.probe = e.probe;
        ack.probe.entry = st.mem->self();
        st.send_to({e.sender}, std::move(ack));
      }
      break;
    case envelope_kind::ping_req: {
      auto ping = make_envelope(st, envelope_kind::ping);
      ping.probe = e.probe;
      ping.probe.origin = e.sender;
      st.send_to({e.probe.target}, std::move(ping));
      break;
    }
    case envelope_kind::ack:
      if (e.probe.origin != st.cfg.node_name) {
        auto relay = make_envelope(st, envelope_kind::ack);
        relay.probe = e.probe;
        st.send_to({e.probe.origin}, std::move(relay));
      } else if (e.probe.entry && st.probes.erase(e.probe.nonce) > 0) {
        auto res = st.mem->merge({*e.probe.entry}, e.probe.target, now);
        st.handle(res.events);
      }
      break;
    case envelope_kind::room:
      self->send(st.cfg.registry, actors::remote_atom::value, e.sender, std::move(e.room));
      break;
    case envelope_kind::room_request:
      on_room_request(self, e);
      break;
    case envelope_kind::room_reply: {
      auto i = st.pending.find(e.id);
      if (i != st.pending.end()) {
        i->second.rp.deliver(std::move(e.room));
        st.pending.erase(i);
      }
      break;
    }
    case envelope_kind::channels_request:
      on_channels_request(self, e);
      break;
    case envelope_kind::channels_reply:
      listing_part(self, e.id, e.channels);
      break;
  }
}

void tick(self_ptr self) {
  auto& st = self->state;
  auto now = clock::now();
  auto connections = st.cfg.ctx.stats->connections.load(std::memory_order_relaxed);
  auto n = static_cast<uint64_t>(std::max<int64_t>(0, connections));
  st.mem->set_load(n, st.cfg.max_connections > 0 && n >= st.cfg.max_connections);
  st.handle(st.mem->tick(now));
  st.gossip();
  // Requests whose requester gave up long ago (their node neither answered nor died).
  auto stale = now - 2 * ms(st.cfg.ctx.settings->request_timeout_ms);
  for (auto i = st.pending.begin(); i != st.pending.end();) {
    if (i->second.sent < stale) {
      i->second.rp.deliver(actors::make_error(actors::errc::internal, "no reply"));
      i = st.pending.erase(i);
    } else {
      ++i;
    }
  }
  st.refresh_board();
  self->delayed_send(self, ms(st.cfg.settings.gossip_interval_ms), tick_atom::value);
}

} // namespace

void router_state::send_to(const std::vector<std::string>& nodes, envelope e) {
  std::vector<std::string> endpoints;
  endpoints.reserve(nodes.size());
  for (const auto& n : nodes) {
    const auto* m = mem->find(n);
    if (m == nullptr || n == cfg.node_name || m->control.empty()) {
      cfg.ctx.stats->cluster_messages_dropped_total.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    endpoints.push_back(m->control);
  }
  if (endpoints.empty()) {
    return;
  }
  cfg.ctx.stats->cluster_messages_out_total.fetch_add(endpoints.size(), std::memory_order_relaxed);
  cfg.net->send(std::move(endpoints), encode(e, cfg.settings.secret));
}

bool router_state::send_request(const std::string& node, const envelope& e) {
  const auto* m = mem->find(node);
  if (m == nullptr || node == cfg.node_name || m->control.empty()) {
    cfg.ctx.stats->cluster_messages_dropped_total.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  cfg.ctx.stats->cluster_messages_out_total.fetch_add(1, std::memory_order_relaxed);
  cfg.net->send(m->control, encode(e, cfg.settings.secret), e.id);
  return true;
}

void router_state::gossip() {
  auto e = make_envelope(*this, envelope_kind::gossip);
  e.members = mem->table();
  auto targets = mem->gossip_targets(clock::now());
  if (targets.empty()) {
    return;
  }
  cfg.ctx.stats->cluster_messages_out_total.fetch_add(targets.size(), std::memory_order_relaxed);
  cfg.net->send(std::move(targets), encode(e, cfg.settings.secret));
}

void router_state::publish_view(const std::string& without) {
  auto v = mem->view(++view_version, cfg.settings.replicas);
  // Claims wait this long for silent candidates: several gossip rounds, so views that
  // differ for a moment (a join still spreading) converge first.
  v.claim_timeout_ms = std::max<uint32_t>(1000, 6 * cfg.settings.gossip_interval_ms);
  v.retry_ms = std::clamp<uint32_t>(cfg.settings.gossip_interval_ms / 4, 10, 100);
  v.ack_timeout_ms = cfg.settings.suspect_timeout_ms;
  if (!without.empty()) {
    auto drop = [&](std::vector<std::string>& names) {
      names.erase(std::remove(names.begin(), names.end(), without), names.end());
    };
    drop(v.alive);
    drop(v.owners);
  }
  self->send(cfg.registry, actors::view_atom::value,
             actors::placement_ptr{std::make_shared<actors::placement>(std::move(v))});
}

void router_state::handle(const std::vector<member_event>& events) {
  bool changed = false;
  for (const auto& ev : events) {
    const auto& m = ev.info;
    switch (ev.what) {
      case member_event::kind::up:
        cfg.net->connect(m.control); // ready before the first room message to it
        spdlog::info("[{}] cluster: node {} is up (incarnation {}.{}, {})", cfg.node_name, m.name,
                     m.incarnation, m.version, m.ws_url);
        changed = true;
        break;
      case member_event::kind::suspect:
        spdlog::warn("[{}] cluster: node {} is suspect (silent for {} ms), probing", cfg.node_name,
                     m.name, cfg.settings.suspect_timeout_ms);
        probe_member(static_cast<self_ptr>(self), m.name);
        break;
      case member_event::kind::down:
        spdlog::warn("[{}] cluster: node {} is down{}", cfg.node_name, m.name,
                     ev.restarted ? " (restarted as a new process)" : "");
        fail_pending(*this, m.name, "node " + m.name + " is down");
        // Its socket may sit in ZeroMQ's reconnect back-off (up to seconds): a fresh one
        // connects at once when it is back, so replies to it are not dropped meanwhile.
        cfg.net->forget(m.control);
        // A restart arrives as down + up in one batch: rooms must see it gone first.
        publish_view(ev.restarted ? m.name : std::string{});
        break;
      case member_event::kind::draining:
        spdlog::info("[{}] cluster: node {} is {}", cfg.node_name, m.name,
                     m.draining ? "draining" : "accepting again");
        changed = true;
        break;
    }
    if (cfg.on_change) {
      cfg.on_change(ev);
    }
    for (const auto& l : listeners) {
      self->send(l, ev);
    }
  }
  if (changed) {
    publish_view();
  }
}

void router_state::refresh_board() {
  int64_t up = 0;
  int64_t suspect = 0;
  int64_t down = 0;
  mem->count(up, suspect, down);
  cfg.ctx.stats->cluster_members_up.store(up, std::memory_order_relaxed);
  cfg.ctx.stats->cluster_members_suspect.store(suspect, std::memory_order_relaxed);
  cfg.ctx.stats->cluster_members_down.store(down, std::memory_order_relaxed);
  cfg.table->publish(cfg.node_name, mem->table());
}

caf::behavior router_actor(caf::stateful_actor<router_state>* self, router_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.next_id = random64() << 20; // a restarted node never matches an old reply
  member_info me;
  me.name = st.cfg.node_name;
  me.control = st.cfg.control;
  me.ws_url = st.cfg.ws_url;
  me.incarnation = st.cfg.incarnation;
  me.max_connections = st.cfg.max_connections;
  membership_timing timing;
  timing.gossip_interval = ms(st.cfg.settings.gossip_interval_ms);
  timing.suspect_timeout = ms(st.cfg.settings.suspect_timeout_ms);
  timing.dead_timeout = ms(st.cfg.settings.dead_timeout_ms);
  st.mem = std::make_unique<membership>(me, timing, st.cfg.settings.seeds, clock::now());
  st.publish_view();
  st.refresh_board();
  self->send(self, tick_atom::value);
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& ls = self->state.listeners;
    ls.erase(std::remove_if(ls.begin(), ls.end(),
                            [&](const caf::actor& a) { return a.address() == dm.source; }),
             ls.end());
  });
  self->set_default_handler([self](caf::scheduled_actor*, caf::message_view& mv) {
    spdlog::warn("[{}] cluster router dropped unexpected message {}", self->state.cfg.node_name,
                 caf::to_string(mv.content()));
    return caf::drop(self, mv);
  });
  return {
    [self](tick_atom) { tick(self); },
    [self](inbound_atom, envelope& e) { on_inbound(self, e); },
    [self](actors::peer_atom, const std::string& node, room_wire& w) {
      auto& st = self->state;
      auto e = make_envelope(st, envelope_kind::room);
      e.room = std::move(w);
      st.send_to({node}, std::move(e));
    },
    [self](actors::peer_atom, const std::vector<std::string>& nodes, room_wire& w) {
      auto& st = self->state;
      auto e = make_envelope(st, envelope_kind::room);
      e.room = std::move(w);
      st.send_to(nodes, std::move(e));
    },
    [self](actors::peer_req_atom, const std::string& node, room_wire& w) -> caf::result<room_wire> {
      auto& st = self->state;
      const auto* m = st.mem->find(node);
      if (m == nullptr || m->state == member_state::down || node == st.cfg.node_name) {
        return actors::make_error(actors::errc::internal, "node " + node + " is not reachable");
      }
      auto rp = self->make_response_promise<room_wire>();
      auto id = ++st.next_id;
      st.pending.emplace(id, pending_request{node, rp, clock::now()});
      auto e = make_envelope(st, envelope_kind::room_request);
      e.id = id;
      e.room = std::move(w);
      st.send_request(node, e);
      return rp;
    },
    [self](dropped_atom, uint64_t id) {
      auto& st = self->state;
      auto i = st.pending.find(id);
      if (i != st.pending.end()) {
        i->second.rp.deliver(
          actors::make_error(actors::errc::internal, "node " + i->second.node + " unreachable"));
        st.pending.erase(i);
      }
    },
    [self](actors::drain_atom) {
      auto& st = self->state;
      spdlog::info("[{}] cluster: draining; rooms move to their next owners", st.cfg.node_name);
      st.mem->set_draining(true);
      st.publish_view();
      st.gossip();
      st.refresh_board();
    },
    [self](depart_atom) {
      auto& st = self->state;
      st.mem->leave();
      st.gossip();
      fail_pending(st, {}, "node stopping");
      return true;
    },
    [self](url_atom, const std::string& url) {
      auto& st = self->state;
      st.cfg.ws_url = url;
      st.mem->set_ws_url(url);
      st.refresh_board();
    },
    [self](actors::channels_atom) -> caf::result<actors::channel_list> {
      auto& st = self->state;
      auto l = std::make_shared<pending_listing>();
      l->rp = self->make_response_promise<actors::channel_list>();
      auto id = ++st.next_id;
      std::vector<std::string> peers;
      for (const auto& m : st.mem->table()) {
        if (m.name != st.cfg.node_name && m.state != member_state::down) {
          peers.push_back(m.name);
        }
      }
      l->waiting = peers.size() + 1; // the peers and our own registry
      st.listings.emplace(id, l);
      auto e = make_envelope(st, envelope_kind::channels_request);
      e.id = id;
      st.send_to(peers, std::move(e));
      self
        ->request(st.cfg.registry, ms(st.cfg.ctx.settings->request_timeout_ms),
                  actors::channels_atom::value)
        .then([self, id](actors::channel_list& list) { listing_part(self, id, list); },
              [self, id](caf::error&) { listing_part(self, id, {}); });
      // A member that does not answer in time is left out rather than failing the listing.
      self->delayed_send(self, std::chrono::seconds(2), listing_done_atom::value, id);
      return l->rp;
    },
    [self](listing_done_atom, uint64_t id) { finish_listing(self, id); },
    [self](actors::listen_atom, caf::actor& listener) {
      self->monitor(listener);
      self->state.listeners.push_back(std::move(listener));
    },
  };
}

transport::receive_fn make_receiver(caf::actor router, std::string secret, std::string node_name,
                                    std::shared_ptr<actors::metrics> stats) {
  return
    [router, secret, node_name, stats, last_log = clock::time_point{}](std::string bytes) mutable {
      auto d = decode(bytes, secret);
      if (!d.env) {
        stats->reject(actors::rejection::cluster_peer);
        auto now = clock::now();
        if (now - last_log > std::chrono::seconds(5)) { // a flood must not flood the log
          last_log = now;
          spdlog::warn("[{}] cluster: refused a message ({} bytes): {}{}{}", node_name,
                       bytes.size(), to_string(d.error), d.detail.empty() ? "" : ": ", d.detail);
        }
        return;
      }
      caf::anon_send(router, inbound_atom::value, std::move(*d.env));
    };
}

transport::drop_fn make_drop_reporter(caf::actor router) {
  return [router](uint64_t id) { caf::anon_send(router, dropped_atom::value, id); };
}

} // namespace plexus::cluster
