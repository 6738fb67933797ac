#include "engine/hooks.hpp"

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::engine::node_event)

namespace plexus::engine {

namespace {

template <class F, class E>
void call(const F& f, const E& e, const char* what) {
  if (!f) {
    return;
  }
  // A throwing hook must not take the node's event delivery down with it.
  try {
    f(e);
  } catch (const std::exception& ex) {
    spdlog::error("hook {} threw: {}", what, ex.what());
  }
}

void dispatch(const hooks& h, const actors::hook_event& ev) {
  using kind = actors::hook_event::kind;
  switch (ev.what) {
    case kind::connect:
      call(h.on_connect, connection_event{ev.user, ev.session}, "on_connect");
      break;
    case kind::disconnect:
      call(h.on_disconnect, connection_event{ev.user, ev.session}, "on_disconnect");
      break;
    case kind::join:
      call(h.on_join, join_event{ev.user, ev.session, ev.channel}, "on_join");
      break;
    case kind::leave:
      call(h.on_leave, join_event{ev.user, ev.session, ev.channel}, "on_leave");
      break;
    case kind::message:
      call(h.on_message,
           message_event{ev.user, ev.session, ev.channel, actors::to_json(ev.data), ev.offset},
           "on_message");
      break;
  }
}

} // namespace

caf::actor spawn_hook_actor(caf::actor_system& sys, hooks h) {
  return sys.spawn([h = std::move(h)](caf::event_based_actor*) -> caf::behavior {
    return {
      [h](const actors::hook_event& ev) { dispatch(h, ev); },
      [h](const actors::presence_event& ev) {
        if (ev.what == actors::presence_event::kind::status) {
          const auto& m = ev.who;
          call(h.on_status_change,
               status_event{m.user, m.session, m.status,
                            m.meta ? actors::to_json(*m.meta) : std::string{"null"}},
               "on_status_change");
        }
      },
      [h](const node_event& ev) { call(h.on_node_change, ev, "on_node_change"); },
    };
  });
}

} // namespace plexus::engine
