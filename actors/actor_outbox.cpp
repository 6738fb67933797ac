#include "actors/actor_outbox.hpp"

#include <caf/send.hpp>

#include "actors/messages.hpp"

namespace plexus::actors {

bool actor_outbox::push(const frame_ptr& f, slow_consumer_policy) {
  caf::anon_send(target_, f);
  return true;
}

void actor_outbox::close(uint16_t, const std::string&) {
  // An embedded actor has no connection to close; its subscriptions end when it exits.
}

} // namespace plexus::actors
