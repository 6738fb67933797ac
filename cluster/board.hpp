#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/member.hpp"

namespace plexus::cluster {

/// The member table as HTTP routes and the 503 path read it: a copy the router refreshes
/// after every gossip round and merge, read under a short lock from any thread (I/O
/// threads must not wait for an actor to answer a load balancer's /v1/cluster/pick).
///
/// Connection counts in the table are up to a gossip round old, so a burst of picks inside
/// one round would all name the same node. The board therefore also counts the clients it
/// placed itself (`place`, `place_on`): a placement counts as one more connection of its
/// node until that node's heartbeat has advanced twice, by when its gossiped count
/// includes the client (one round for the client to connect, one for the count to travel).
class board {
public:
  void publish(std::string self, std::vector<member_info> table);

  /// Self first, then the others by name.
  std::vector<member_info> members() const;
  std::string self() const;

  /// The URL of the up, non-draining, not-full member with the fewest connections
  /// (placements counted, see above); with `exclude_self` another node's. With
  /// `or_suspect`, a suspect member (silent for a moment, not yet declared down) qualifies
  /// when no up one does: a draining node's clients are better sent there than nowhere.
  /// nullopt when none qualifies. Does not count as a placement.
  std::optional<std::string> pick(bool exclude_self, bool or_suspect = false) const;
  /// pick(), counted as a placement on the chosen member (/v1/cluster/pick, 503 alternates).
  std::optional<std::string> place(bool exclude_self);
  /// The URL of `node` when it is up and accepting, else nullopt.
  std::optional<std::string> url_of_accepting(const std::string& node) const;
  /// url_of_accepting(), counted as a placement (a sticky resume).
  std::optional<std::string> place_on(const std::string& node);

  /// Another node that accepts clients and its spare capacity, max_connections minus
  /// connections and recent placements (0 when that is negative).
  struct peer_capacity {
    std::string name;
    std::string url;
    uint64_t spare = 0;
  };
  /// Every other up, accepting member (with `or_suspect`: suspect ones when no up one
  /// qualifies) with its spare capacity; a member that did not announce its
  /// max_connections (an older node) counts as having as many as the largest announced.
  std::vector<peer_capacity> peers_by_capacity(bool or_suspect) const;

private:
  const member_info* best(bool exclude_self, bool or_suspect) const;
  void count_placement(const member_info& m);
  uint64_t placements(const member_info& m) const;

  mutable std::mutex mu_;
  std::string self_;
  std::vector<member_info> table_;
  /// Per member: placements by the member's heartbeat when they were made.
  std::map<std::string, std::map<uint64_t, uint64_t>> placed_;
};

/// Hands out peer URLs in proportion to weights (smooth weighted round robin, as nginx
/// does it): after n calls each peer has had n * w / sum(w) of them, within one, and
/// consecutive calls interleave the peers instead of sending a run to one. Pure; the
/// caller serialises calls.
class weighted_spread {
public:
  explicit weighted_spread(const std::vector<board::peer_capacity>& peers);
  /// The next URL; "" when there is no peer with a weight above 0.
  std::string next();
  bool empty() const {
    return peers_.empty();
  }

private:
  struct slot {
    std::string url;
    int64_t weight = 0;
    int64_t current = 0;
  };
  std::vector<slot> peers_;
  int64_t total_ = 0;
};

} // namespace plexus::cluster
