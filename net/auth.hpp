#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "actors/identity.hpp"
#include "net/settings.hpp"

namespace plexus::net {

/// Outcome of checking a token.
struct auth_result {
  std::optional<actors::identity> who; // set when accepted
  std::string error;                   // why not, for the 401 body and the log (never the token)
};

/// Verifies connection tokens (JWT) as `[auth]` configures. Built once at start-up, where
/// a bad key file or setting throws with the option named; `verify` never throws and is
/// safe to call from any thread.
class authenticator {
public:
  explicit authenticator(const auth_settings& settings);
  ~authenticator();
  authenticator(const authenticator&) = delete;
  authenticator& operator=(const authenticator&) = delete;

  /// Checks a token: signature, algorithm, `exp` (with leeway), `sub`, and the optional
  /// `channels`, `publish` and `meta` claims.
  auth_result verify(std::string_view token) const;

  /// The identity of a connection without a token: accepted only when `auth.anonymous`.
  auth_result anonymous() const;

  /// True when tokens can be verified at all (a secret or key is configured).
  bool has_keys() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace plexus::net
