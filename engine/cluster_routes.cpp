// GET /v1/cluster, GET /v1/cluster/pick, POST /v1/drain (PROTOCOL.md), and the server's
// placement hooks (503 alternate, resume tokens). They read the member board, never an
// actor: a load balancer polling /pick must not queue behind room traffic.
#include "engine/cluster_routes.hpp"

#include <openssl/crypto.h>

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
                     url = deps.cluster->board()->url_of_accepting(*node);
                   }
                 }
                 if (!url) {
                   url = deps.cluster->board()->pick(false);
                 }
               } else if (!srv.draining()
                          && srv.connections() < srv.settings().limits.max_connections) {
                 url = deps.self_url();
               }
               if (!url) {
                 return respond(
                   net::http_response::error(503, "no_node", "no node is accepting connections"));
               }
               respond(net::http_response::json(200, "{\"url\":" + net::json_quote(*url) + "}"));
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
    srv.alternate_url = [c] { return c->board()->pick(true).value_or(""); };
    srv.make_resume = [c](const std::string& session) { return c->make_resume(session); };
  }
}

} // namespace plexus::engine
