#include "examples/game_tick/match.hpp"

#include <algorithm>
#include <chrono>

#include <simdjson.h>

#include "engine/embedded.hpp"

namespace plexus::examples {

const char* match_state::name = "match";

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;

int clamp_axis(int64_t v) {
  return static_cast<int>(std::clamp<int64_t>(v, -1, 1));
}

/// Applies one input message ({"dx":..,"dy":..} from a player); malformed input is ignored.
void apply_input(match_state& st, const engine::delivery& d) {
  simdjson::dom::parser parser;
  simdjson::padded_string text{d.data};
  simdjson::dom::element doc;
  if (d.from.empty() || parser.parse(text).get(doc) != simdjson::SUCCESS) {
    return;
  }
  auto& p = st.players[d.from];
  int64_t v = 0;
  if (doc["dx"].get(v) == simdjson::SUCCESS) {
    p.dx = clamp_axis(v);
  }
  if (doc["dy"].get(v) == simdjson::SUCCESS) {
    p.dy = clamp_axis(v);
  }
}

} // namespace

std::string match_json(const match_state& st) {
  std::string out = "{\"tick\":" + std::to_string(st.tick) + ",\"players\":{";
  bool first = true;
  for (const auto& [user, p] : st.players) {
    out += first ? "\"" : ",\"";
    first = false;
    out += user + "\":{\"x\":" + std::to_string(p.x) + ",\"y\":" + std::to_string(p.y) + "}";
  }
  return out + "}}";
}

caf::behavior match_actor(caf::stateful_actor<match_state>* self, std::string id,
                          caf::actor registry) {
  auto& st = self->state;
  st.id = std::move(id);
  st.registry = std::move(registry);
  engine::subscribe(self, st.registry, "match-input:" + st.id, "match-" + st.id);
  self->send(self, tick_atom::value);
  return {
    [self](const actors::frame_ptr& f) {
      auto d = engine::decode_delivery(*f);
      if (d.type == "message") {
        apply_input(self->state, d);
      }
    },
    [self](tick_atom) {
      auto& st = self->state;
      ++st.tick;
      for (auto& [user, p] : st.players) {
        p.x += p.dx;
        p.y += p.dy;
      }
      engine::publish(self, st.registry, "match:" + st.id, match_json(st), "match-" + st.id);
      // A fixed-rate loop: the next tick is scheduled from this one's start.
      self->delayed_send(self, std::chrono::microseconds(1000000 / match_hz), tick_atom::value);
    },
  };
}

} // namespace plexus::examples
