#pragma once

#include <string>

#include "actors/errc.hpp"
#include "actors/identity.hpp"
#include "actors/settings.hpp"

namespace plexus::actors {

/// Why a check failed, for the `error` frame; `code == errc::none` means allowed.
struct verdict {
  errc code = errc::none;
  std::string message;
  explicit operator bool() const {
    return code == errc::none;
  }
};

/// May `who` subscribe to `channel`? `user:<id>` channels only for that user; with a
/// `channels` claim, only channels matching one of its patterns.
verdict may_subscribe(const identity& who, const std::string& channel);

/// May `who` publish into `channel` (before the subscribers rule, which needs the room)?
/// Server-only namespaces, other users' personal channels and channels outside the
/// token's `publish` patterns are refused.
verdict may_publish(const identity& who, const std::string& channel,
                    const namespace_settings& ns);

} // namespace plexus::actors
