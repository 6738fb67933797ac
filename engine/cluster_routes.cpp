// GET /v1/cluster, GET /v1/cluster/nodes, GET /v1/cluster/pick, POST /v1/drain,
// POST /v1/rebalance (PROTOCOL.md), and the server's placement hooks (503 alternate, resume
// tokens). They read the member board, never an actor: a load balancer polling /pick must
// not queue behind room traffic.
#include "engine/cluster_routes.hpp"

#include <openssl/crypto.h>

#include <simdjson.h>

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"

#include "cluster/wire.hpp"
#include "net/server.hpp"

namespace plexus::engine {

namespace {

/// `Authorization: apikey K`, compared in constant time (net's own check is private to
/// its routes; this is the same rule).
bool api_key_ok(const net::http_request& req, const std::string& key) {
  if (key.empty()) {
    return false;
  }
  auto* h = req.header("authorization");
  constexpr std::string_view prefix = "apikey ";
  if (h == nullptr || h->size() != prefix.size() + key.size()
      || h->compare(0, prefix.size(), prefix) != 0) {
    return false;
  }
  return CRYPTO_memcmp(h->data() + prefix.size(), key.data(), key.size()) == 0;
}

bool require_api_key(net::server& srv, const net::http_request& req,
                     const net::http_responder& respond) {
  if (api_key_ok(req, srv.settings().auth.api_key)) {
    return true;
  }
  srv.deps().ctx.stats->reject(actors::rejection::bad_api_key);
  respond(net::http_response::error(401, "unauthorized",
                                    srv.settings().auth.api_key.empty()
                                      ? "the server API is disabled (auth.api_key is empty)"
                                      : "missing or wrong api key"));
  return false;
}

std::string member_json(const cluster::member_info& m) {
  using net::json_quote;
  return "{\"name\":" + json_quote(m.name) + ",\"control\":" + json_quote(m.control)
         + ",\"url\":" + json_quote(m.ws_url) + ",\"state\":" + json_quote(to_string(m.state))
         + ",\"connections\":" + std::to_string(m.connections) + ",\"incarnation\":"
         + std::to_string(m.incarnation) + ",\"version\":" + std::to_string(m.version)
         + ",\"draining\":" + (m.draining ? "true" : "false")
         + ",\"full\":" + (m.full ? "true" : "false") + "}";
}

/// Public answers (/pick, /nodes) are read by pages served from another node: fetch()
/// across origins needs this header, and nothing in them is secret.
net::http_response public_json(unsigned status, std::string body) {
  auto r = net::http_response::json(status, std::move(body));
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

std::string node_json(const std::string& name, const std::string& url, bool accepting) {
  return "{\"name\":" + net::json_quote(name) + ",\"url\":" + net::json_quote(url)
         + ",\"accepting\":" + (accepting ? "true" : "false") + "}";
}

/// POST /v1/rebalance {"count":N}: N sessions get `reconnect` (spread over the other nodes
/// by spare capacity, jittered) and a 4010 close.
void rebalance_route(net::server& srv, const cluster_routes_deps& deps,
                     const net::http_request& req, const net::http_responder& respond) {
  const auto& node = srv.settings().node_name;
  auto refuse = [&](unsigned status, const char* code, const std::string& why) {
    if (status == 400) {
      srv.deps().ctx.stats->reject(actors::rejection::bad_request);
    }
    spdlog::info("[{}] rebalance from {} refused ({}): {}", node, req.peer_ip, status, why);
    respond(net::http_response::error(status, code, why));
  };
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string body{req.body};
  simdjson::dom::element doc;
  int64_t count = 0;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS || !doc.is_object()
      || doc["count"].get_int64().get(count) != simdjson::SUCCESS) {
    return refuse(400, "bad_request", "body must be {\"count\":N} with an integer N");
  }
  constexpr int64_t most = 10'000'000; // limits.max_connections' own ceiling
  if (count < 1 || count > most) {
    return refuse(400, "bad_request", "count must be 1.." + std::to_string(most));
  }
  if (srv.draining()) {
    return refuse(409, "draining", "the node is draining: every session is moving already");
  }
  auto peers = deps.cluster != nullptr ? deps.cluster->board()->peers_by_capacity(false)
                                       : std::vector<cluster::board::peer_capacity>{};
  if (cluster::weighted_spread{peers}.empty()) {
    return refuse(503, "no_node", "no other node accepts connections");
  }
  auto n = std::min<std::size_t>(static_cast<std::size_t>(count), srv.connections());
  spdlog::info("[{}] rebalance requested by {}: shedding {} of {} session(s)", node, req.peer_ip,
               n, srv.connections());
  srv.send_some_and_close(n, reconnect_spreader(deps.cluster, reconnect_window_ms(n, deps.grace)),
                          actors::close_code::reconnect, "rebalancing, reconnect elsewhere");
  respond(net::http_response::json(202, "{\"count\":" + std::to_string(n) + "}"));
}

} // namespace

void add_cluster_routes(net::server& srv, const cluster_routes_deps& deps) {
  auto& routes = srv.routes();
  routes.add("GET", "/v1/cluster",
             [&srv, deps](const net::http_request& req, net::http_responder respond) {
               if (!require_api_key(srv, req, respond)) {
                 return;
               }
               std::vector<cluster::member_info> members;
               if (deps.cluster != nullptr) {
                 members = deps.cluster->board()->members();
               } else {
                 cluster::member_info self;
                 self.name = srv.settings().node_name;
                 self.ws_url = deps.self_url();
                 self.connections = srv.connections();
                 self.draining = srv.draining();
                 members.push_back(self);
               }
               std::string body = "{\"node\":" + net::json_quote(srv.settings().node_name)
                                  + ",\"clustered\":" + (deps.cluster != nullptr ? "true" : "false")
                                  + ",\"members\":[";
               for (std::size_t i = 0; i < members.size(); ++i) {
                 body += (i ? "," : "") + member_json(members[i]);
               }
               respond(net::http_response::json(200, body + "]}"));
             });
  routes.add("GET", "/v1/cluster/pick",
             [&srv, deps](const net::http_request& req, net::http_responder respond) {
               std::optional<std::string> url;
               if (deps.cluster != nullptr) {
                 // Sticky: back to the node the session was on, while it is alive and accepting.
                 auto token = req.param("resume");
                 if (!token.empty()) {
                   if (auto node = deps.cluster->resume_node(token)) {
                     url = deps.cluster->board()->place_on(*node);
                   }
                 }
                 if (!url) {
                   url = deps.cluster->board()->place(false);
                 }
               } else if (!srv.draining()
                          && srv.connections() < srv.settings().limits.max_connections) {
                 url = deps.self_url();
               }
               if (!url) {
                 auto r =
                   net::http_response::error(503, "no_node", "no node is accepting connections");
                 r.headers.emplace_back("Access-Control-Allow-Origin", "*");
                 r.headers.emplace_back("Retry-After", "1");
                 return respond(std::move(r));
               }
               respond(public_json(200, "{\"url\":" + net::json_quote(*url) + "}"));
             });
  // The public half of /v1/cluster: what a client needs to fail over by itself (the chat
  // page reads it from the node that served it). URLs only: no control addresses, counts
  // or incarnations. Members declared down are left out.
  routes.add("GET", "/v1/cluster/nodes",
             [&srv, deps](const net::http_request&, net::http_responder respond) {
               std::string body = "{\"nodes\":[";
               if (deps.cluster != nullptr) {
                 bool first = true;
                 for (const auto& m : deps.cluster->board()->members()) {
                   if (m.state == cluster::member_state::down || m.ws_url.empty()) {
                     continue;
                   }
                   bool accepting = m.state == cluster::member_state::up && !m.draining && !m.full;
                   body += (first ? "" : ",") + node_json(m.name, m.ws_url, accepting);
                   first = false;
                 }
               } else {
                 bool accepting = !srv.draining()
                                  && srv.connections() < srv.settings().limits.max_connections;
                 body += node_json(srv.settings().node_name, deps.self_url(), accepting);
               }
               respond(public_json(200, body + "]}"));
             });
  routes.add("POST", "/v1/rebalance",
             [&srv, deps](const net::http_request& req, net::http_responder respond) {
               if (!require_api_key(srv, req, respond)) {
                 return;
               }
               rebalance_route(srv, deps, req, respond);
             });
  routes.add("POST", "/v1/drain",
             [&srv, deps](const net::http_request& req, net::http_responder respond) {
               if (!require_api_key(srv, req, respond)) {
                 return;
               }
               spdlog::info("[{}] drain requested by {}", srv.settings().node_name, req.peer_ip);
               deps.drain();
               respond(net::http_response::json(202, "{\"status\":\"draining\"}"));
             });
  if (deps.cluster != nullptr) {
    // Cluster-wide (PROTOCOL.md): every live member's rooms, subscribers summed. Replaces
    // the node-local route net registered.
    routes.add("GET", "/v1/channels",
               [&srv, deps](const net::http_request& req, net::http_responder respond) {
                 if (!require_api_key(srv, req, respond)) {
                   return;
                 }
                 auto router = deps.cluster->router();
                 srv.deps().sys->spawn([router, respond](caf::event_based_actor* self) {
                   self->request(router, std::chrono::seconds(5), actors::channels_atom::value)
                     .then(
                       [respond](const actors::channel_list& list) {
                         std::string body = "{\"channels\":[";
                         for (std::size_t i = 0; i < list.size(); ++i) {
                           body += (i ? "," : "") + std::string{"{\"channel\":"}
                                   + net::json_quote(list[i].channel)
                                   + ",\"subscribers\":" + std::to_string(list[i].subscribers)
                                   + ",\"offset\":" + std::to_string(list[i].offset) + "}";
                         }
                         respond(net::http_response::json(200, body + "]}"));
                       },
                       [respond](caf::error&) {
                         respond(
                           net::http_response::error(500, "internal", "cluster listing failed"));
                       });
                 });
               });
    auto* c = deps.cluster;
    srv.alternate_url = [c] { return c->board()->place(true).value_or(""); };
    srv.make_resume = [c](const std::string& session) { return c->make_resume(session); };
  }
}

} // namespace plexus::engine
