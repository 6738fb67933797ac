// Built-in HTTP routes: health, readiness, metrics and the server API (PROTOCOL.md).
#include <openssl/crypto.h>
#include <simdjson.h>

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/channel_name.hpp"
#include "actors/error.hpp"
#include "actors/messages.hpp"
#include "net/server.hpp"

namespace plexus::net {

namespace {

/// `Authorization: apikey K` compared in constant time; false when no key is configured
/// (the API is off).
bool api_key_ok(const http_request& req, const std::string& key) {
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

bool require_api_key(server& srv, const http_request& req, const http_responder& respond) {
  if (api_key_ok(req, srv.settings().auth.api_key)) {
    return true;
  }
  srv.deps().ctx.stats->reject(actors::rejection::bad_api_key);
  spdlog::info("[{}] {} {} refused: bad api key", srv.settings().node_name, req.peer_ip,
               req.path);
  respond(http_response::error(401, "unauthorized",
                               srv.settings().auth.api_key.empty()
                                 ? "the server API is disabled (auth.api_key is empty)"
                                 : "missing or wrong api key"));
  return false;
}

http_response error_response(const caf::error& err) {
  auto code = actors::code_of(err);
  unsigned status = code == actors::errc::permission_denied ? 403
                    : code == actors::errc::internal        ? 500
                                                             : 400;
  return http_response::error(status, actors::to_string(code), actors::message_of(err));
}

/// Runs `f(self)` in a short-lived actor, for routes that ask the domain actors.
template <class F>
void with_actor(server& srv, F f) {
  srv.deps().sys->spawn([f = std::move(f)](caf::event_based_actor* self) mutable { f(self); });
}

std::chrono::milliseconds timeout_of(server& srv) {
  return std::chrono::milliseconds(srv.deps().ctx.settings->request_timeout_ms);
}

void publish_route(server& srv, const http_request& req, http_responder respond) {
  if (!require_api_key(srv, req, respond)) {
    return;
  }
  auto bad = [&](const std::string& why) {
    srv.deps().ctx.stats->reject(actors::rejection::bad_request);
    spdlog::info("[{}] {} {} refused (400): {}", srv.settings().node_name, req.peer_ip, req.path,
                 why);
    respond(http_response::error(400, "bad_request", why));
  };
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string body{req.body};
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return bad("body must be a JSON object {\"channel\":C,\"data\":D}");
  }
  std::string_view channel;
  simdjson::dom::element data;
  if (doc["channel"].get(channel) != simdjson::SUCCESS) {
    return bad("field 'channel' must be a string");
  }
  if (!actors::valid_channel_name(channel)) {
    srv.deps().ctx.stats->reject(actors::rejection::invalid_channel);
    spdlog::info("[{}] {} {} refused (400): invalid channel name", srv.settings().node_name,
                 req.peer_ip, req.path);
    return respond(http_response::error(400, "invalid_channel", "invalid channel name"));
  }
  if (doc["data"].get(data) != simdjson::SUCCESS) {
    return bad("field 'data' is required");
  }
  actors::publish_args args;
  args.channel = std::string{channel};
  args.data = actors::payload{actors::wire_format::json, simdjson::minify(data)};
  args.server = true;
  auto registry = srv.deps().registry;
  auto timeout = timeout_of(srv);
  with_actor(srv, [registry, timeout, respond, args = std::move(args)](
                    caf::event_based_actor* self) mutable {
    self->request(registry, timeout, actors::publish_atom::value, std::move(args))
      .then(
        [respond](uint64_t offset) {
          respond(http_response::json(200, "{\"offset\":" + std::to_string(offset) + "}"));
        },
        [respond](caf::error& err) { respond(error_response(err)); });
  });
}

std::string member_json(const actors::member& m) {
  std::string out = "{\"user\":" + json_quote(m.user) + ",\"session\":" + json_quote(m.session)
                    + ",\"node\":" + json_quote(m.node) + ",\"status\":" + json_quote(m.status)
                    + ",\"meta\":" + (m.meta ? actors::to_json(*m.meta) : "null") + "}";
  return out;
}

void presence_route(server& srv, const http_request& req, http_responder respond) {
  if (!require_api_key(srv, req, respond)) {
    return;
  }
  auto channel = req.param("channel");
  if (!actors::valid_channel_name(channel)) {
    srv.deps().ctx.stats->reject(actors::rejection::invalid_channel);
    spdlog::info("[{}] {} {} refused (400): invalid or missing ?channel=",
                 srv.settings().node_name, req.peer_ip, req.path);
    return respond(http_response::error(400, "invalid_channel", "invalid or missing ?channel="));
  }
  auto registry = srv.deps().registry;
  auto timeout = timeout_of(srv);
  auto stats = srv.deps().ctx.stats;
  with_actor(srv, [registry, timeout, respond, channel, stats](caf::event_based_actor* self) {
    self->request(registry, timeout, actors::presence_atom::value, channel)
      .then(
        [respond, channel](const actors::member_list& members) {
          std::string body = "{\"channel\":" + json_quote(channel) + ",\"members\":[";
          for (std::size_t i = 0; i < members.size(); ++i) {
            body += (i ? "," : "") + member_json(members[i]);
          }
          respond(http_response::json(200, body + "]}"));
        },
        [respond, stats](caf::error& err) {
          // A channel without presence is refused (403 permission_denied), and counted.
          stats->reject(actors::rejection_for(actors::code_of(err)));
          respond(error_response(err));
        });
  });
}

void channels_route(server& srv, const http_request& req, http_responder respond) {
  if (!require_api_key(srv, req, respond)) {
    return;
  }
  auto registry = srv.deps().registry;
  auto timeout = timeout_of(srv);
  with_actor(srv, [registry, timeout, respond](caf::event_based_actor* self) {
    self->request(registry, timeout, actors::channels_atom::value)
      .then(
        [respond](const actors::channel_list& list) {
          std::string body = "{\"channels\":[";
          for (std::size_t i = 0; i < list.size(); ++i) {
            body += (i ? "," : "") + std::string{"{\"channel\":"} + json_quote(list[i].channel)
                    + ",\"subscribers\":" + std::to_string(list[i].subscribers)
                    + ",\"offset\":" + std::to_string(list[i].offset) + "}";
          }
          respond(http_response::json(200, body + "]}"));
        },
        [respond](caf::error& err) { respond(error_response(err)); });
  });
}

} // namespace

void add_builtin_routes(server& srv) {
  auto& routes = srv.routes();
  routes.add("GET", "/healthz", [&srv](const http_request&, http_responder respond) {
    respond(http_response::json(200, "{\"status\":\"ok\",\"node\":"
                                       + json_quote(srv.settings().node_name)
                                       + ",\"connections\":" + std::to_string(srv.connections())
                                       + "}"));
  });
  routes.add("GET", "/readyz", [&srv](const http_request&, http_responder respond) {
    if (srv.draining()) {
      return respond(http_response::error(503, "draining", "node is draining"));
    }
    if (srv.connections() >= srv.settings().limits.max_connections) {
      return respond(http_response::error(503, "node_full", "node is at max_connections"));
    }
    respond(http_response::json(200, "{\"status\":\"ready\"}"));
  });
  routes.add("GET", "/metrics", [&srv](const http_request& req, http_responder respond) {
    if (srv.settings().auth.metrics_api_key && !require_api_key(srv, req, respond)) {
      return;
    }
    http_response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = srv.deps().ctx.stats->render();
    respond(std::move(r));
  });
  routes.add("POST", "/v1/publish", [&srv](const http_request& req, http_responder respond) {
    publish_route(srv, req, std::move(respond));
  });
  routes.add("GET", "/v1/presence", [&srv](const http_request& req, http_responder respond) {
    presence_route(srv, req, std::move(respond));
  });
  routes.add("GET", "/v1/channels", [&srv](const http_request& req, http_responder respond) {
    channels_route(srv, req, std::move(respond));
  });
}

} // namespace plexus::net
