#include "engine/embedded.hpp"

#include <simdjson.h>

#include "actors/actor_outbox.hpp"

namespace plexus::engine {

namespace {

constexpr auto request_timeout = std::chrono::seconds(10);

} // namespace

void subscribe(caf::event_based_actor* self, const caf::actor& registry,
               const std::string& channel, const std::string& user,
               std::optional<uint64_t> since, std::optional<std::string> epoch) {
  actors::subscribe_args args;
  args.channel = channel;
  args.session_id = "actor-" + std::to_string(self->id());
  args.user = user;
  args.out = std::make_shared<actors::actor_outbox>(caf::actor_cast<caf::actor>(self));
  args.since = since;
  args.epoch = std::move(epoch);
  // Sent by `self`: the room keys subscribers by sender and monitors it.
  self->request(registry, request_timeout, actors::subscribe_atom::value, std::move(args))
    .then([](const actors::subscribe_reply&) {}, [](caf::error&) {});
}

void unsubscribe(caf::event_based_actor* self, const caf::actor& registry,
                 const std::string& channel) {
  self->request(registry, request_timeout, actors::unsubscribe_atom::value, channel)
    .then([](bool) {}, [](caf::error&) {});
}

void publish(caf::event_based_actor* self, const caf::actor& registry,
             const std::string& channel, std::string json_data, const std::string& from) {
  actors::publish_args args;
  args.channel = channel;
  args.data = actors::payload{actors::wire_format::json, std::move(json_data)};
  args.from = from;
  args.server = true;
  self->request(registry, request_timeout, actors::publish_atom::value, std::move(args))
    .then([](uint64_t) {}, [](caf::error&) {});
}

delivery decode_delivery(const actors::frame& f) {
  delivery d;
  d.raw = f.json;
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string text{f.json};
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS) {
    return d;
  }
  std::string_view sv;
  if (doc["type"].get(sv) == simdjson::SUCCESS) {
    d.type = std::string{sv};
  }
  if (doc["channel"].get(sv) == simdjson::SUCCESS) {
    d.channel = std::string{sv};
  }
  if (doc["from"].get(sv) == simdjson::SUCCESS) {
    d.from = std::string{sv};
  }
  if (doc["epoch"].get(sv) == simdjson::SUCCESS) {
    d.epoch = std::string{sv};
  }
  uint64_t offset = 0;
  if (doc["offset"].get(offset) == simdjson::SUCCESS) {
    d.offset = offset;
  }
  simdjson::dom::element data;
  if (doc["data"].get(data) == simdjson::SUCCESS) {
    d.data = simdjson::minify(data);
  }
  return d;
}

} // namespace plexus::engine
