#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/cluster_messages.hpp"
#include "actors/context.hpp"
#include "cluster/board.hpp"
#include "cluster/membership.hpp"
#include "cluster/settings.hpp"
#include "cluster/transport.hpp"
#include "cluster/wire.hpp"

namespace plexus::cluster {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using inbound_atom = caf::atom_constant<caf::atom("inbound")>;
/// engine -> router request: announce that we leave (last gossip), reply when queued.
using depart_atom = caf::atom_constant<caf::atom("depart")>;
/// engine -> router: `(url_atom, ws_url)` once the HTTP port is known.
using url_atom = caf::atom_constant<caf::atom("url")>;
/// router -> itself: a cluster-wide channel listing stops waiting for silent members.
using listing_done_atom = caf::atom_constant<caf::atom("lstdone")>;
/// transport -> router: `(dropped_atom, request id)`, a request that could not be sent.
using dropped_atom = caf::atom_constant<caf::atom("dropped")>;

/// How the engine creates the router.
struct router_config {
  cluster_settings settings;
  std::string node_name;
  /// host:port other members reach our ROUTER on (cluster.advertise or cluster.bind).
  std::string control;
  std::string ws_url;
  uint64_t incarnation = 0;
  std::size_t max_connections = 0;
  actors::context ctx;
  caf::actor registry;
  std::shared_ptr<transport> net;
  std::shared_ptr<board> table;
  /// Called on the router's thread for every member event (embedding API); must not block.
  std::function<void(const member_event&)> on_change;
};

/// A cluster-wide GET /v1/channels being collected.
struct pending_listing {
  actors::channel_list acc;
  std::size_t waiting = 0;
  caf::response_promise rp;
};

/// A room's request to another node, waiting for its reply.
struct pending_request {
  std::string node;
  caf::response_promise rp;
  std::chrono::steady_clock::time_point sent;
};

/// State of the cluster router: one per node. It owns the member table and the failure
/// detector, gossips every `gossip_interval_ms`, carries room messages between nodes
/// (encoding, MAC, request ids) and tells the registry when the placement changes.
struct router_state {
  explicit router_state(caf::event_based_actor* self) : self(self) {
  }

  caf::event_based_actor* self;
  router_config cfg;
  std::unique_ptr<membership> mem;
  uint64_t view_version = 0;
  uint64_t next_id = 0;
  std::unordered_map<uint64_t, pending_request> pending;
  std::vector<caf::actor> listeners;                // embedders' actors receiving member_event
  std::unordered_map<uint64_t, std::string> probes; // nonce -> suspected member
  std::unordered_map<uint64_t, std::shared_ptr<pending_listing>> listings; // by request id

  static const char* name;

  /// Encodes and queues `e` for `nodes` (names); counts what cannot be sent.
  void send_to(const std::vector<std::string>& nodes, envelope e);
  /// Sends request `e` (its id set) to `node`; false when `node` is unknown. A send the
  /// transport cannot queue comes back as `(dropped_atom, id)`.
  bool send_request(const std::string& node, const envelope& e);
  void gossip();
  void publish_view(const std::string& without = {});
  void handle(const std::vector<member_event>& events);
  void refresh_board();
};

/// Messages:
/// - `(peer_atom, node | nodes, room_wire)` and request `(peer_req_atom, node, room_wire)`
///   from rooms (actors/cluster_messages.hpp).
/// - `(inbound_atom, envelope)` from the transport thread.
/// - `(actors::drain_atom)`: this node drains (gossiped; rooms hand off).
/// - request `(depart_atom)`: the last gossip before the process exits.
/// - `(actors::listen_atom, actor)`: send it every member_event (embedding hook).
/// - request `(actors::channels_atom)`: every live member's rooms, merged (subscribers
///   summed, the highest offset), for GET /v1/channels.
caf::behavior router_actor(caf::stateful_actor<router_state>* self, router_config cfg);

/// What the transport thread runs for received bytes: checks and decodes them (counting
/// and logging refusals as `plexus_rejected_total{reason="cluster_peer"}`) and posts
/// envelopes to `router`.
transport::receive_fn make_receiver(caf::actor router, std::string secret, std::string node_name,
                                    std::shared_ptr<actors::metrics> stats);

/// What the transport thread runs for a request it could not send: tells `router`, which
/// fails the request at once (the room retries) instead of letting it time out.
transport::drop_fn make_drop_reporter(caf::actor router);

} // namespace plexus::cluster

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::cluster::envelope)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::cluster::member_event)
