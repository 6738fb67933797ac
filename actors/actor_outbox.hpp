#pragma once

#include <caf/actor.hpp>

#include "actors/outbox.hpp"

namespace plexus::actors {

/// An outbox whose frames go to a CAF actor, each as one `frame_ptr` message: how an
/// embedded (host program) actor subscribes to channels like a socket does. Frames are
/// JSON-encoded; see engine/embedded.hpp for decoding them.
///
/// There is no byte limit: the actor's mailbox is the queue, and an embedded actor that
/// cannot keep up should subscribe to a conflating namespace or process faster.
class actor_outbox : public outbox {
public:
  explicit actor_outbox(caf::actor target) : target_(std::move(target)) {
  }

  bool push(const frame_ptr& f, slow_consumer_policy policy) override;
  void close(uint16_t code, const std::string& reason) override;
  wire_format format() const override {
    return wire_format::json;
  }
  bool deflate() const override {
    return false;
  }

private:
  caf::actor target_;
};

} // namespace plexus::actors
