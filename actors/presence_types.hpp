#pragma once

#include <optional>
#include <string>
#include <vector>

#include "actors/payload.hpp"

namespace plexus::actors {

/// One session's entry in a room's presence: `presence` and `presence_diff` list these.
/// Several sessions of one user are separate members, told apart by `session`.
struct member {
  std::string user;
  std::string session;
  std::string node;
  std::string status = "online";
  std::optional<payload> meta; // sent as null when absent

  bool operator==(const member& other) const {
    return user == other.user && session == other.session && node == other.node
           && status == other.status && meta == other.meta;
  }
};

using member_list = std::vector<member>;

} // namespace plexus::actors
