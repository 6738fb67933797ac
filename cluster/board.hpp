#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cluster/member.hpp"

namespace plexus::cluster {

/// The member table as HTTP routes and the 503 path read it: a copy the router refreshes
/// after every gossip round and merge, read under a short lock from any thread (I/O
/// threads must not wait for an actor to answer a load balancer's /v1/cluster/pick).
class board {
public:
  void publish(std::string self, std::vector<member_info> table);

  /// Self first, then the others by name.
  std::vector<member_info> members() const;
  std::string self() const;

  /// The URL of the up, non-draining, not-full member with the fewest connections; with
  /// `exclude_self` another node's. With `or_suspect`, a suspect member (silent for a
  /// moment, not yet declared down) qualifies when no up one does: a draining node's
  /// clients are better sent there than nowhere. nullopt when none qualifies.
  std::optional<std::string> pick(bool exclude_self, bool or_suspect = false) const;
  /// The URL of `node` when it is up and accepting, else nullopt.
  std::optional<std::string> url_of_accepting(const std::string& node) const;

private:
  mutable std::mutex mu_;
  std::string self_;
  std::vector<member_info> table_;
};

} // namespace plexus::cluster
