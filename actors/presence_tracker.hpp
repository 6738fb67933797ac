#pragma once

#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/context.hpp"
#include "actors/messages.hpp"

namespace plexus::actors {

/// One local session as the tracker knows it.
struct tracked_session {
  member who;                  // user, session, node, status, meta
  std::set<std::string> rooms; // presence rooms it joined
  clock::time_point last_heartbeat;
  bool stale = false; // silent past stale_threshold_ms: shown as gone
};

/// State of a node's presence tracker: the truth about which local sessions are in which
/// presence rooms, with what status, and whether they are still alive. Rooms only mirror
/// what trackers tell them (through the registry), so a node's members can be dropped or
/// re-announced as a whole.
///
/// Per session and room (each arrow with a message also tells the listeners, and
/// plexus_presence_members counts the present entries only):
///
///   join --> present --(no heartbeat for stale_threshold)--> stale (leave sent)
///   stale --(heartbeat)--> present (join sent again, with the current status/meta)
///   present|stale --(leave / session down)--> gone (leave sent if present)
///
/// Any client frame is a heartbeat (the session forwards one per stale_threshold / 8).
struct tracker_state {
  explicit tracker_state(caf::event_based_actor* self) : self(self) {
  }

  caf::event_based_actor* self;
  context ctx;
  caf::actor registry;
  std::unordered_map<caf::actor_addr, tracked_session> sessions;
  std::vector<caf::actor> listeners; // embedders' actors receiving presence_event

  static const char* name;

  void send_to_room(caf::atom_value what, const std::string& channel, const member& who);
  void notify(presence_event::kind what, const std::string& channel, const member& who);
  void drop_session(const caf::actor_addr& addr);
  /// Marks sessions silent past the stale threshold as gone: leaves to their rooms and
  /// listeners, and out of plexus_presence_members.
  void sweep(clock::time_point now);
  /// Brings a stale session back (it heartbeated): joins to its rooms and listeners.
  void revive(tracked_session& s);
};

/// Messages (sender = the session they are about):
/// - `(join_atom, channel, member)`: the session joined a presence room.
/// - `(leave_atom, channel)`: it left one.
/// - `(status_atom, status_change, member)`: new status/meta in every presence room of the
///   session (`member` is the session as it is now, for sessions in no presence room);
///   listeners get a presence_event of kind status either way.
/// - `(heartbeat_atom)`: the client showed signs of life.
/// - `(listen_atom, actor)`: deliver presence_event (join, leave, status) to this actor
///   (embedding hooks); dropped when that actor goes down.
caf::behavior presence_tracker_actor(caf::stateful_actor<tracker_state>* self, context ctx,
                                     caf::actor registry);

/// The status change a session sends to its tracker.
struct status_change {
  std::string status;
  std::optional<payload> meta;
};

} // namespace plexus::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::status_change)
