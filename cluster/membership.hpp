#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/placement.hpp"
#include "cluster/member.hpp"

namespace plexus::cluster {

/// Failure-detector timing (from `[cluster]`).
struct membership_timing {
  std::chrono::milliseconds gossip_interval{500};
  std::chrono::milliseconds suspect_timeout{2000};
  std::chrono::milliseconds dead_timeout{5000};
  /// Down members are still gossiped to (every few rounds, so a healed partition or a
  /// resumed process finds its way back) for this long, then only seeds are.
  std::chrono::milliseconds forget_after{std::chrono::minutes(10)};
};

/// Something that happened to a member, for logs, metrics, the embedding API and rooms.
struct member_event {
  enum class kind : uint8_t { up, suspect, down, draining };
  kind what = kind::up;
  member_info info;
  /// `down` because the node came back as a new process (it lost all its state).
  bool restarted = false;
};

const char* to_string(member_event::kind k);

/// What merging a gossiped table changed.
struct merge_result {
  std::vector<member_event> events;
  /// Someone reported this node down and this node was the one away (paused, or on the
  /// smaller side of a partition): it refuted (bumped its version) and must drop what it
  /// owned, because the others have moved its rooms on meanwhile. The side that kept
  /// running refutes without dropping anything.
  bool reset = false;
  /// Someone reported this node down: it bumped its version.
  bool refuted = false;
};

/// The member table and failure detector of one node: pure logic with injected time, so
/// it is tested without sockets or clocks. Each node gossips its whole table every round;
/// liveness is a member's own heartbeat counter advancing, which reaches us directly or
/// through anyone's gossip (gossip is itself the indirect path).
///
/// Per member, as seen by this node:
///
///             heartbeat advanced
///        +-----------------------------+
///        v                             |
///   +--------+  silent > suspect  +---------+  silent > dead  +------+
///   |   up   | -----------------> | suspect | --------------> | down |
///   +--------+                    +---------+                 +------+
///      ^  ^         gossip says down (same incarnation/version)   |  |
///      |  +--------------------------------------------------------+  |
///      |     a higher version (it refuted) or incarnation (restart)   |
///      +--------------------------------------------------------------+
///
/// `down` is sticky for an (incarnation, version): a stale heartbeat cannot revive it,
/// only the node itself can, by refuting (SWIM) when it hears it was declared down.
class membership {
public:
  using time_point = std::chrono::steady_clock::time_point;

  membership(member_info self, membership_timing timing, std::vector<std::string> seeds,
             time_point now);

  const member_info& self() const {
    return self_;
  }
  /// Self first, then everyone else by name.
  std::vector<member_info> table() const;
  /// A member by name (self included); nullptr when unknown.
  const member_info* find(const std::string& name) const;

  /// One gossip round: bumps our heartbeat, runs the failure detector.
  std::vector<member_event> tick(time_point now);
  /// Merges a table gossiped by member `from` (or a probe answer's single row).
  merge_result merge(const std::vector<member_info>& rows, const std::string& from, time_point now);

  void set_load(uint64_t connections, bool full);
  void set_ws_url(std::string url);
  void set_draining(bool on);
  /// Marks us down at a higher version: the last gossip tells everyone at once.
  void leave();

  /// Control endpoints to gossip to this round: live members, seeds not met yet, and
  /// every fourth round the down members not forgotten.
  std::vector<std::string> gossip_targets(time_point now);
  /// Up members other than `except` (helpers for indirect probes).
  std::vector<std::string> helpers(const std::string& except) const;

  /// The placement rooms derive their roles from.
  actors::placement view(uint64_t version, uint32_t replicas) const;

  /// Members by state, self included (metrics).
  void count(int64_t& up, int64_t& suspect, int64_t& down) const;

private:
  struct entry {
    member_info info;
    time_point last_progress;
    time_point down_since;
  };

  void mark_down(entry& e, time_point now, std::vector<member_event>& out, bool restarted);
  /// True when our own last tick is long overdue: we were not running (paused).
  bool overdue(time_point now) const;

  member_info self_;
  membership_timing timing_;
  std::vector<std::string> seeds_;
  std::map<std::string, entry> others_;
  time_point last_tick_;
  time_point paused_at_{}; // when a late tick showed we had not been running
  uint64_t round_ = 0;
};

} // namespace plexus::cluster
