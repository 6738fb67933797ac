// Placeholder until JWT verification lands: anonymous connections only.
#include "net/auth.hpp"

#include <atomic>

namespace plexus::net {

struct authenticator::impl {
  auth_settings settings;
  mutable std::atomic<uint64_t> next_anonymous{1};
};

authenticator::authenticator(const auth_settings& settings) : impl_(std::make_unique<impl>()) {
  impl_->settings = settings;
}

authenticator::~authenticator() = default;

auth_result authenticator::verify(std::string_view) const {
  return {std::nullopt, "token verification is not configured"};
}

auth_result authenticator::anonymous() const {
  if (!impl_->settings.anonymous) {
    return {std::nullopt, "a token is required"};
  }
  actors::identity who;
  who.user = "anon-" + std::to_string(impl_->next_anonymous.fetch_add(1));
  who.anonymous = true;
  return {who, {}};
}

bool authenticator::has_keys() const {
  return false;
}

} // namespace plexus::net
