#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::actors {

/// Which nodes a room may live on, as this node sees the cluster right now. The cluster
/// router builds one on every membership change and hands it to the registry, which passes
/// it to every room; rooms derive their role from it (owner, backup or follower).
///
/// It lives in actors/ rather than cluster/ because rooms decide their role synchronously
/// when they are spawned, and actors/ may not include cluster/.
struct placement {
  /// This node's name.
  std::string self;
  /// Members that may own rooms: up or suspect, not draining. Sorted.
  std::vector<std::string> owners;
  /// Members that are not down (owners plus draining nodes). Sorted.
  std::vector<std::string> alive;
  /// Bumped by the router on every change; lets a room ignore a stale view.
  uint64_t version = 0;
  /// `cluster.replicas`: backups per room.
  uint32_t replicas = 0;
  /// How long a new owner collects the room's state from where it was before giving up
  /// on silent candidates (a few gossip rounds: views converge in that time).
  uint32_t claim_timeout_ms = 1000;
  /// Pause between retries of a refused attach or forward (views still converging).
  uint32_t retry_ms = 50;
  /// How long an owner waits for a backup's acknowledgement before releasing without it
  /// (and resyncing it): a dead backup must not hold publishes until it is declared down.
  uint32_t ack_timeout_ms = 2000;

  /// Every owner-eligible node in rendezvous (highest random weight) order for `channel`:
  /// the owner first, then its backups. Removing a node only moves the rooms it owned, to
  /// the node that ranked next, which is also where its first backup lives.
  std::vector<std::string> order(std::string_view channel) const;
  bool is_alive(std::string_view node) const;
  bool is_owner_eligible(std::string_view node) const;
};

using placement_ptr = std::shared_ptr<const placement>;

/// The rendezvous weight of `node` for `channel`: a 64-bit hash of both, identical on
/// every node and every build (no std::hash).
uint64_t hrw_weight(std::string_view channel, std::string_view node);

} // namespace plexus::actors
