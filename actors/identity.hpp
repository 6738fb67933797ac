#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/payload.hpp"

namespace plexus::actors {

/// Who a connection is, from its token (or generated for anonymous connections).
struct identity {
  /// The token's `sub`: the user id shown in presence and in `from`.
  std::string user;
  /// The token's `channels` claim: patterns (trailing `*` wildcard) the user may
  /// subscribe to. nullopt = the claim was absent: no restriction beyond namespace rules.
  std::optional<std::vector<std::string>> channels;
  /// The token's `publish` claim, likewise for publishing.
  std::optional<std::vector<std::string>> publish;
  /// The token's `meta` claim, shown in presence until a `status` frame replaces it.
  std::optional<payload> meta;
  /// Token expiry (seconds since the epoch), 0 = none.
  int64_t expires_at = 0;
  bool anonymous = false;
};

} // namespace plexus::actors
