#include "actors/presence_tracker.hpp"

#include <algorithm>

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

namespace plexus::actors {

const char* tracker_state::name = "presence_tracker";

namespace {

/// Sweeps often enough that a stale member disappears within a quarter of the threshold
/// after it passes it.
std::chrono::milliseconds sweep_interval(const presence_settings& p) {
  return std::chrono::milliseconds(std::clamp<uint32_t>(p.stale_threshold_ms / 4, 10, 1000));
}

} // namespace

void tracker_state::send_to_room(caf::atom_value what, const std::string& channel,
                                 const member& who) {
  member_event ev{channel, who};
  if (what == join_atom::value) {
    self->send(registry, join_atom::value, std::move(ev));
  } else if (what == leave_atom::value) {
    self->send(registry, leave_atom::value, std::move(ev));
  } else {
    self->send(registry, update_atom::value, std::move(ev));
  }
}

void tracker_state::notify(presence_event::kind what, const std::string& channel,
                           const member& who) {
  for (auto& l : listeners) {
    self->send(l, presence_event{what, channel, who});
  }
}

void tracker_state::drop_session(const caf::actor_addr& addr) {
  auto i = sessions.find(addr);
  if (i == sessions.end()) {
    return;
  }
  // A stale session already left its rooms (and its listeners heard so) when it went stale.
  if (!i->second.stale) {
    for (const auto& room : i->second.rooms) {
      send_to_room(leave_atom::value, room, i->second.who);
      notify(presence_event::kind::leave, room, i->second.who);
    }
    ctx.stats->presence_members.fetch_sub(static_cast<int64_t>(i->second.rooms.size()),
                                          std::memory_order_relaxed);
  }
  sessions.erase(i);
}

void tracker_state::sweep(clock::time_point now) {
  auto threshold = std::chrono::milliseconds(ctx.settings->presence.stale_threshold_ms);
  for (auto& kv : sessions) {
    auto& s = kv.second;
    if (s.stale || now - s.last_heartbeat < threshold) {
      continue;
    }
    s.stale = true;
    spdlog::debug("[{}] presence: session {} of {} is stale", ctx.settings->node_name,
                  s.who.session, s.who.user);
    for (const auto& room : s.rooms) {
      send_to_room(leave_atom::value, room, s.who);
      notify(presence_event::kind::leave, room, s.who);
    }
    ctx.stats->presence_members.fetch_sub(static_cast<int64_t>(s.rooms.size()),
                                          std::memory_order_relaxed);
  }
}

void tracker_state::revive(tracked_session& s) {
  s.stale = false;
  spdlog::debug("[{}] presence: session {} of {} is back", ctx.settings->node_name, s.who.session,
                s.who.user);
  for (const auto& room : s.rooms) {
    send_to_room(join_atom::value, room, s.who);
    notify(presence_event::kind::join, room, s.who);
  }
  ctx.stats->presence_members.fetch_add(static_cast<int64_t>(s.rooms.size()),
                                        std::memory_order_relaxed);
}

caf::behavior presence_tracker_actor(caf::stateful_actor<tracker_state>* self, context ctx,
                                     caf::actor registry) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.registry = std::move(registry);
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    auto& ls = st.listeners;
    ls.erase(std::remove_if(ls.begin(), ls.end(),
                            [&](const caf::actor& a) { return a.address() == dm.source; }),
             ls.end());
    st.drop_session(dm.source);
  });
  self->send(self, sweep_atom::value);
  return {
    [self](join_atom, const std::string& channel, member& who) {
      auto& st = self->state;
      auto addr = caf::actor_cast<caf::actor_addr>(self->current_sender());
      auto i = st.sessions.find(addr);
      if (i == st.sessions.end()) {
        self->monitor(addr);
        i = st.sessions.emplace(addr, tracked_session{who, {}, st.ctx.now(), false}).first;
      }
      auto& s = i->second;
      if (!s.rooms.insert(channel).second || s.stale) {
        return; // a stale session joins its rooms' presence when it heartbeats again
      }
      st.ctx.stats->presence_members.fetch_add(1, std::memory_order_relaxed);
      st.send_to_room(join_atom::value, channel, s.who);
      st.notify(presence_event::kind::join, channel, s.who);
    },
    [self](leave_atom, const std::string& channel) {
      auto& st = self->state;
      auto i = st.sessions.find(caf::actor_cast<caf::actor_addr>(self->current_sender()));
      if (i == st.sessions.end() || i->second.rooms.erase(channel) == 0 || i->second.stale) {
        return; // not there, or already shown as gone
      }
      st.ctx.stats->presence_members.fetch_sub(1, std::memory_order_relaxed);
      st.send_to_room(leave_atom::value, channel, i->second.who);
      st.notify(presence_event::kind::leave, channel, i->second.who);
    },
    [self](status_atom, status_change& change, member& who) {
      // `who` carries the session's identity, so a session in no presence room still
      // produces an on_status_change event for embedders.
      auto& st = self->state;
      auto i = st.sessions.find(caf::actor_cast<caf::actor_addr>(self->current_sender()));
      if (i != st.sessions.end()) {
        auto& s = i->second;
        s.who.status = change.status;
        s.who.meta = change.meta;
        who = s.who;
        if (!s.stale) {
          for (const auto& room : s.rooms) {
            st.send_to_room(update_atom::value, room, s.who);
          }
        }
      } else {
        who.status = change.status;
        who.meta = change.meta;
      }
      st.notify(presence_event::kind::status, {}, who);
    },
    [self](heartbeat_atom) {
      auto& st = self->state;
      auto i = st.sessions.find(caf::actor_cast<caf::actor_addr>(self->current_sender()));
      if (i == st.sessions.end()) {
        return;
      }
      auto& s = i->second;
      s.last_heartbeat = st.ctx.now();
      if (s.stale) {
        st.revive(s);
      }
    },
    [self](listen_atom, caf::actor& listener) {
      self->monitor(listener);
      self->state.listeners.push_back(std::move(listener));
    },
    [self](sweep_atom) {
      auto& st = self->state;
      st.sweep(st.ctx.now());
      self->delayed_send(self, sweep_interval(st.ctx.settings->presence), sweep_atom::value);
    },
  };
}

} // namespace plexus::actors
