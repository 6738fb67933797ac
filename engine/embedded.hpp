#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/frame.hpp"
#include "actors/messages.hpp"

namespace plexus::engine {

// Host-program actors that take part like sockets do: they subscribe (frames arrive as
// `actors::frame_ptr` messages), publish, and query presence through the node's registry,
// with the same ordering, history and presence semantics. Call these from inside the
// host's actor (`self`); the registry is `node::registry()`.
//
//   caf::behavior match(caf::event_based_actor* self, caf::actor registry) {
//     plexus::engine::subscribe(self, registry, "match:1:input");
//     return {
//       [=](const plexus::actors::frame_ptr& f) {
//         auto d = plexus::engine::decode_delivery(*f);   // type, channel, data, offset
//       },
//     };
//   }

/// Subscribes `self` to `channel`; `user` is how the actor appears in presence and
/// `from`. Deliveries start with a `subscribed` frame.
void subscribe(caf::event_based_actor* self, const caf::actor& registry,
               const std::string& channel, const std::string& user = "server",
               std::optional<uint64_t> since = std::nullopt,
               std::optional<std::string> epoch = std::nullopt);

/// Leaves `channel`.
void unsubscribe(caf::event_based_actor* self, const caf::actor& registry,
                 const std::string& channel);

/// Publishes JSON `data` into `channel` as the server (allowed in every namespace, like
/// POST /v1/publish). Fire and forget: ordering per channel is the room's, as for sockets.
void publish(caf::event_based_actor* self, const caf::actor& registry,
             const std::string& channel, std::string json_data,
             const std::string& from = "server");

/// A frame an embedded actor received, decoded.
struct delivery {
  std::string type;    // "message", "subscribed", "presence", "presence_diff", ...
  std::string channel;
  std::string data;    // JSON text of `data` ("" when absent)
  std::string from;
  uint64_t offset = 0;
  std::string epoch;
  std::string raw;     // the whole frame's JSON
};

/// Decodes a frame's JSON encoding (never throws; type "" when unreadable).
delivery decode_delivery(const actors::frame& f);

} // namespace plexus::engine
