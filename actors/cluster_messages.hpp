#pragma once

// What rooms on different nodes say to each other. The domain only sees these structs and
// the router actor that carries them; cluster/wire.cpp turns them into authenticated
// msgpack envelopes. Everything here stays in-process (unsafe CAF message types).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "actors/payload.hpp"
#include "actors/placement.hpp"
#include "actors/presence_types.hpp"

namespace plexus::actors {

/// room -> router: `(peer_atom, node, room_wire)` sends one-way;
/// `(peer_atom, std::vector<std::string>, room_wire)` sends the same bytes to several
/// nodes (encoded once).
using peer_atom = caf::atom_constant<caf::atom("peer")>;
/// room -> router request: `(peer_req_atom, node, room_wire)`; the reply is the peer
/// room's `room_wire` answer, or an error when the node is down or does not answer.
using peer_req_atom = caf::atom_constant<caf::atom("peerreq")>;
/// router -> registry -> room: `(remote_atom, from, room_wire)`, one-way.
using remote_atom = caf::atom_constant<caf::atom("remote")>;
/// router -> registry -> room: `(remote_req_atom, from, room_wire)`, a request.
using remote_req_atom = caf::atom_constant<caf::atom("remotereq")>;
/// router -> registry -> rooms: `(view_atom, placement_ptr)` after a membership change.
using view_atom = caf::atom_constant<caf::atom("view")>;
/// router -> registry -> rooms: other members declared this node down while it was
/// unreachable; what it owned has moved on, so its room state is stale.
using reset_atom = caf::atom_constant<caf::atom("reset")>;
/// Room-internal timers of the cluster protocol.
using claim_tick_atom = caf::atom_constant<caf::atom("claimtick")>;
using attach_tick_atom = caf::atom_constant<caf::atom("attachtick")>;
using forward_tick_atom = caf::atom_constant<caf::atom("fwdtick")>;

/// One message of a room's stream as it crosses nodes.
struct stream_entry {
  uint64_t offset = 0;
  uint64_t age_ms = 0; // time since the owner accepted it, for the history TTL
  payload data;
  std::string from;
  uint64_t pid = 0; // publish id: a retried forward is recognised instead of stored twice
};

/// Everything a node needs to serve or take over a room.
struct room_snapshot {
  std::string epoch;
  uint64_t offset = 0;
  uint64_t pseq = 0;              // last presence change sequence number
  std::vector<stream_entry> ring; // oldest first
  member_list members;
  /// Members alive (as the owner saw it) when this epoch's state was last taken over; on a
  /// partition heal the state from the larger side wins.
  uint32_t weight = 0;
  /// A copy every acknowledged publish is in (the owner's, or a synced backup's): a taker
  /// keeps epoch and offsets. A follower's mirror is not (it may miss in-flight messages).
  bool durable = false;
  bool from_owner = false; // sent by the node that owned the room
  /// Recent publish ids and their offsets, so a retried forward is answered, not stored.
  std::vector<std::pair<uint64_t, uint64_t>> pids;
};

/// What one message between rooms does; which room_wire fields it uses is listed.
enum class room_op : uint8_t {
  publish = 1, // F->O request: entry.data/from/pid. Reply: offset, or status not_owner
  stream,      // O->F: epoch, entry
  replicate,   // O->B request: epoch, entry. Reply: ok / need_sync
  presence,    // O->F,B: pseq, change, who
  member,      // F->O: change, who (a local session of F)
  attach,      // F->O request: members (F's local ones), epoch + offset F has. Reply: snap
  detach,      // F->O: F has no local interest any more
  snapshot,    // O->F: snap (the owner's epoch changed; resync)
  claim,       // new owner -> candidates request. Reply: snap, or status none / wait
  handoff,     // old owner -> new owner request: snap. Reply: ok
  sync,        // O->B request: snap. Reply: ok
  drop,        // O->B: the room stopped; forget it
  reattach,    // O->F: you are not registered as a follower; attach again
  reply,       // the answer to a request: status, offset, snap, text
};

enum class room_status : uint8_t { ok = 0, not_owner, wait, none, need_sync, refused };

enum class member_change : uint8_t { join = 0, leave, update };

/// A message between the rooms of one channel on two nodes.
struct room_wire {
  room_op op = room_op::reply;
  std::string channel;
  room_status status = room_status::ok;
  std::string epoch;
  stream_entry entry;
  uint64_t pseq = 0;
  member_change change = member_change::join;
  member who;
  std::optional<room_snapshot> snap;
  member_list members;
  uint64_t offset = 0;
  std::string text; // refusal message, or the owner as the replier sees it
};

const char* to_string(room_op op);
const char* to_string(room_status s);

} // namespace plexus::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::room_wire)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(plexus::actors::placement_ptr)
