#pragma once

// Helpers shared by room_cluster.cpp and room_replication.cpp (room actor only).

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "actors/cluster_messages.hpp"
#include "actors/room_cluster.hpp"

namespace plexus::actors {

struct room_state;

namespace detail {

const std::string& node_name(const room_state& st);
std::chrono::milliseconds request_timeout(const room_state& st);
room_wire make_wire(room_op op, const room_state& st);
void send_to(room_state& st, const std::string& node, room_wire w);
void send_to(room_state& st, std::vector<std::string> nodes, room_wire w);
uint64_t random_pid();
void remember_pid(room_link& l, uint64_t pid, uint64_t offset);
/// The room's state as a snapshot; `with_inflight` adds publishes not yet released.
room_snapshot snapshot_of(const room_state& st, bool with_inflight);
/// True when `a` should win over `b` (complete first, then the larger side, the owner's,
/// the longer stream).
bool better(const room_snapshot& a, const room_snapshot& b);
/// Replaces the member mirror, announcing the difference to local subscribers.
void replace_members(room_state& st, const member_list& next);
/// Applies one change; false when it changed nothing.
bool apply_change(room_state& st, member_change change, const member& who);
/// Takes over a snapshot's stream: its epoch (`keep_epoch`) or a new one.
void adopt(room_state& st, const room_snapshot& s, bool keep_epoch);
/// Runs the work that waited for a claim or attach.
void flush_waiting(room_state& st);

// room_replication.cpp
/// Owner: orders a publish, replicates it, releases it in offset order, then `done`.
void accept(room_self self, payload data, std::string from, uint64_t pid,
            std::function<void(uint64_t)> done, clock::time_point accepted);
/// Owner: applies a presence change and tells followers and backups.
void owner_change(room_self self, member_change change, const member& who);
/// Owner: `node`'s members are exactly `members` (an attaching follower's sessions).
void owner_replace_node(room_self self, const std::string& node, const member_list& members);
/// Owner: sends `node` a full snapshot and counts it as a backup from now on.
void start_sync(room_self self, const std::string& node);

} // namespace detail

// room_cluster.cpp
/// Recomputes the room's role from its view (claim, hand-off, attach).
void evaluate(room_self self);
/// Attaches again to the current owner (stream gap, reattach request).
void restart_attach(room_self self);

// room_replication.cpp
/// Owner side after a view change that kept us owner: backups, dead followers/members.
void owner_view_changed(room_self self);
/// Syncs new backups, drops old ones.
void update_backups(room_self self);
/// Releases every publish still waiting for backups (hand-off, reset).
void release_all(room_self self);
/// Re-sends or settles publishes forwarded to an owner.
void release_forwards(room_self self);

} // namespace plexus::actors
