#include "actors/registry.hpp"

#include <memory>

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/messages.hpp"
#include "actors/room.hpp"

namespace plexus::actors {

const char* registry_state::name = "registry";

caf::actor& registry_state::route(const std::string& channel) {
  auto i = rooms.find(channel);
  if (i == rooms.end()) {
    room_config cfg{channel, ctx, caf::actor_cast<caf::actor>(self), {}, router, view};
    auto room = self->spawn<caf::linked>(room_actor, std::move(cfg));
    self->monitor(room);
    names.emplace(room.address(), channel);
    i = rooms.emplace(channel, room_entry{std::move(room), 0}).first;
  }
  ++i->second.routed;
  return i->second.room;
}

caf::actor* registry_state::route_existing(const std::string& channel) {
  auto i = rooms.find(channel);
  if (i == rooms.end()) {
    return nullptr;
  }
  ++i->second.routed;
  return &i->second.room;
}

namespace {

/// Collects one channel_info per room into a channel_list for GET /v1/channels.
caf::result<channel_list> list_channels(caf::stateful_actor<registry_state>* self) {
  auto rp = self->make_response_promise<channel_list>();
  auto acc = std::make_shared<channel_list>();
  auto pending = std::make_shared<std::size_t>(self->state.rooms.size());
  if (*pending == 0) {
    rp.deliver(channel_list{});
    return rp;
  }
  auto timeout = std::chrono::milliseconds(self->state.ctx.settings->request_timeout_ms);
  for (auto& kv : self->state.rooms) {
    auto done = [rp, acc, pending]() mutable {
      if (--*pending == 0) {
        rp.deliver(std::move(*acc));
      }
    };
    self->request(kv.second.room, timeout, channels_atom::value)
      .then(
        [acc, done](channel_info& info) mutable {
          acc->push_back(std::move(info));
          done();
        },
        [done](caf::error&) mutable { done(); });
  }
  return rp;
}

} // namespace

caf::behavior registry_actor(caf::stateful_actor<registry_state>* self, context ctx) {
  self->state.ctx = std::move(ctx);
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.names.find(dm.source);
    if (i == st.names.end()) {
      return;
    }
    auto r = st.rooms.find(i->second);
    if (r != st.rooms.end() && r->second.room.address() == dm.source) {
      st.rooms.erase(r);
    }
    st.names.erase(i);
  });
  // Rooms are linked: when the registry stops, they stop with it. A room's own exit
  // (stopped when idle, or crashed) only removes it from the table.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    // anon_send_exit (node shutdown) names the receiver itself as the source; any other
    // source is a linked room, whose stop (normal or not) never takes the registry down.
    // Its down_msg, handled separately, removes it from the table.
    if (msg.source == self->address()) {
      self->quit(msg.reason);
      return;
    }
    if (msg.reason != caf::exit_reason::normal) {
      spdlog::warn("[{}] a room exited abnormally: {}", self->state.ctx.settings->node_name,
                   caf::to_string(msg.reason));
    }
  });
  return {
    [self](subscribe_atom a, subscribe_args& args) {
      auto& room = self->state.route(args.channel);
      return self->delegate(room, a, std::move(args));
    },
    [self](unsubscribe_atom a, const std::string& channel) -> caf::result<caf::message> {
      if (auto room = self->state.route_existing(channel)) {
        return self->delegate(*room, a, channel);
      }
      return caf::make_message(false);
    },
    [self](publish_atom a, publish_args& args) {
      auto& room = self->state.route(args.channel);
      return self->delegate(room, a, std::move(args));
    },
    [self](presence_atom a, const std::string& channel) -> caf::result<caf::message> {
      const auto& ns = self->state.ctx.settings->namespace_of(channel);
      if (!ns.presence) {
        return make_error(errc::permission_denied,
                          "presence is off for channel '" + channel + "'");
      }
      if (self->state.router) {
        // Clustered: the members may all be on other nodes; a room here attaches to the
        // owner to learn them (and stops again when nobody needs it).
        return self->delegate(self->state.route(channel), a, channel);
      }
      if (auto room = self->state.route_existing(channel)) {
        return self->delegate(*room, a, channel);
      }
      return caf::make_message(member_list{});
    },
    [self](join_atom a, member_event& ev) {
      auto& room = self->state.route(ev.channel);
      self->send(room, a, std::move(ev));
    },
    [self](update_atom a, member_event& ev) {
      if (auto room = self->state.route_existing(ev.channel)) {
        self->send(*room, a, std::move(ev));
      }
    },
    [self](leave_atom a, member_event& ev) {
      if (auto room = self->state.route_existing(ev.channel)) {
        self->send(*room, a, std::move(ev));
      }
    },
    [self](idle_atom, uint64_t routed) {
      auto& st = self->state;
      auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
      auto i = st.names.find(sender);
      if (i == st.names.end()) {
        return;
      }
      auto r = st.rooms.find(i->second);
      if (r == st.rooms.end() || r->second.routed != routed) {
        return; // something is on its way to the room: it stays
      }
      self->send(r->second.room, stop_atom::value);
      st.rooms.erase(r);
    },
    [self](channels_atom) { return list_channels(self); },
    // -- cluster ------------------------------------------------------------------------
    [self](view_atom a, placement_ptr& view) {
      auto& st = self->state;
      st.router = caf::actor_cast<caf::actor>(self->current_sender());
      st.view = view;
      for (auto& kv : st.rooms) {
        ++kv.second.routed;
        self->send(kv.second.room, a, view);
      }
    },
    [self](reset_atom a) {
      for (auto& kv : self->state.rooms) {
        ++kv.second.routed;
        self->send(kv.second.room, a);
      }
    },
    [self](remote_atom a, const std::string& from, room_wire& msg) {
      auto& st = self->state;
      // A member change for a room that is gone here still needs one: its sender thinks
      // we own the room. Everything else is only for a room that exists.
      if (msg.op == room_op::member) {
        self->send(st.route(msg.channel), a, from, std::move(msg));
      } else if (auto room = st.route_existing(msg.channel)) {
        self->send(*room, a, from, std::move(msg));
      }
    },
    [self](remote_req_atom a, const std::string& from,
           room_wire& msg) -> caf::result<caf::message> {
      auto& st = self->state;
      if (msg.op == room_op::claim) {
        if (auto room = st.route_existing(msg.channel)) {
          return self->delegate(*room, a, from, std::move(msg));
        }
        room_wire none;
        none.status = room_status::none;
        return caf::make_message(std::move(none));
      }
      return self->delegate(st.route(msg.channel), a, from, std::move(msg));
    },
  };
}

} // namespace plexus::actors
