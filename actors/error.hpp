#pragma once

#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include "actors/errc.hpp"

namespace plexus::actors {

/// The category of plexus errors carried as caf::error values between actors.
constexpr caf::atom_value error_category = caf::atom("plexus");

/// Wraps an errc (and a human-readable message) into a caf::error, so actor handlers can
/// return `caf::result<T>` with our codes.
inline caf::error make_error(errc code, std::string message = {}) {
  if (message.empty()) {
    return caf::error{static_cast<uint8_t>(code), error_category};
  }
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(message))};
}

/// The errc of an error from an actor, `internal` for anything not ours (timeouts,
/// dead actors).
errc code_of(const caf::error& err);

/// The human-readable message attached by make_error, or a description of a CAF error.
std::string message_of(const caf::error& err);

} // namespace plexus::actors
