#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/result.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/cluster_messages.hpp"
#include "actors/messages.hpp"

namespace plexus::actors {

struct room_state;
using room_self = caf::stateful_actor<room_state>*;

/// Whether this node is the room's owner, as the room's view says.
///
///   none --(view: I rank first)--> claiming --(all candidates answered | timeout)--> owning
///   claiming|owning --(view: another node ranks first | reset)--> none (handoff sent)
///
/// A non-owner room holds a copy when it is a backup (synced by the owner) and/or serves
/// local subscribers when it is attached as a follower:
///
///   detached --(local interest)--> attaching --(owner's snapshot)--> attached
///   attaching|attached --(owner changes | refused | stream gap | reattach)--> attaching
///   attaching|attached --(no local interest)--> detached (detach sent)
enum class owner_phase : uint8_t { none, claiming, owning };
enum class attach_phase : uint8_t { detached, attaching, attached };

/// One publish the owner accepted and is replicating to its backups before releasing it
/// (fan-out, followers, the publisher's ack) in offset order.
struct inflight_publish {
  stream_entry entry;
  std::set<std::string> waiting; // backups that have not acknowledged it yet
  std::function<void(uint64_t)> done;
  clock::time_point accepted;
};

/// A publish this (non-owner) node forwarded to the owner and still waits for.
struct pending_forward {
  payload data;
  std::string from;
  caf::response_promise rp;
  clock::time_point deadline;
  bool in_flight = false;
};

/// A new owner collecting the room's state from where it may have been.
struct claim_round {
  uint64_t generation = 0;
  std::set<std::string> waiting; // candidates that have not given a final answer
  std::vector<std::pair<std::string, room_snapshot>> found;
  std::set<std::string> retry; // answered "wait": asked again on the next retry tick
  bool retry_scheduled = false;
  clock::time_point deadline;
};

/// The cluster side of a room (empty `router` = single node: the room works alone).
struct room_link {
  caf::actor router;
  placement_ptr view;
  owner_phase owning = owner_phase::none;
  attach_phase attach = attach_phase::detached;
  /// Owner as this room's view says (self when owning or claiming).
  std::string owner;
  /// Owner side: backups now, those synced, followers registered by attach.
  std::vector<std::string> backups;
  std::set<std::string> synced;
  std::set<std::string> followers;
  /// Non-owner side: true when the view makes this node a backup, synced once the owner
  /// sent its snapshot.
  bool is_backup = false;
  bool backup_synced = false;
  /// Next offset to assign (owner); st.offset is the newest *released* message.
  uint64_t assigned = 0;
  uint64_t pseq = 0;
  uint32_t weight = 0;
  /// The state held is one every acked publish is in (owner, synced backup).
  bool durable = false;
  std::deque<inflight_publish> inflight;
  std::unordered_map<uint64_t, pending_forward> forwards;
  bool forward_tick_scheduled = false;
  std::unordered_map<uint64_t, uint64_t> pids; // publish id -> offset
  std::deque<uint64_t> pid_order;
  std::unordered_map<std::string, member> local_members; // this node's sessions, by id
  std::optional<room_snapshot> stash; // a handoff that arrived before our view agreed
  claim_round claim;
  uint64_t attach_generation = 0;
  bool attach_tick_scheduled = false;
  /// Work that waits until the room can serve (claim or attach in progress).
  std::vector<std::pair<clock::time_point, std::function<void()>>> waiting;

  bool clustered() const {
    return static_cast<bool>(router);
  }
};

// -- called by the room's handlers (room.cpp) ------------------------------------------

/// Derives the room's role from its view after spawning.
void cluster_start(room_self self);
/// True when subscribes and presence queries must wait (claim or attach running); starts
/// an attach when the room has none yet.
bool cluster_must_wait(room_self self);
/// Queues `f` until the room can serve.
void cluster_defer(room_state& st, std::function<void()> f);
/// A local publish (session, HTTP API, embedded actor).
caf::result<uint64_t> cluster_publish(room_self self, publish_args& args);
/// A local presence join/leave/update from this node's tracker.
void cluster_member(room_self self, member_change change, const member& who);
void cluster_on_view(room_self self, placement_ptr view);
void cluster_on_reset(room_self self);
void cluster_remote(room_self self, const std::string& from, room_wire& msg);
caf::result<room_wire> cluster_remote_request(room_self self, const std::string& from,
                                              room_wire& msg);
/// True while the cluster side needs the room alive (followers, backup copy, in flight).
bool cluster_keeps_alive(const room_state& st);
/// The room is stopping: tell the owner / backups.
void cluster_on_stop(room_self self);
/// Local interest (subscribers or local members) may have changed.
void cluster_interest_changed(room_self self);
void cluster_claim_tick(room_self self, uint64_t generation);
void cluster_attach_tick(room_self self, uint64_t generation);
void cluster_forward_tick(room_self self);

} // namespace plexus::actors
