#include "actors/permissions.hpp"

#include "actors/channel_name.hpp"

namespace plexus::actors {

namespace {

bool any_match(const std::vector<std::string>& patterns, const std::string& channel) {
  for (const auto& p : patterns) {
    if (channel_matches(p, channel)) {
      return true;
    }
  }
  return false;
}

} // namespace

verdict may_subscribe(const identity& who, const std::string& channel) {
  auto owner = personal_channel_owner(channel);
  if (!owner.empty()) {
    if (owner != who.user) {
      return {errc::permission_denied, "channel '" + channel + "' belongs to another user"};
    }
    return {};
  }
  if (who.channels && !any_match(*who.channels, channel)) {
    return {errc::permission_denied, "token does not allow subscribing to '" + channel + "'"};
  }
  return {};
}

verdict may_publish(const identity& who, const std::string& channel,
                    const namespace_settings& ns) {
  if (ns.publish == publish_rule::server) {
    return {errc::permission_denied,
            "only the server may publish in namespace '" + ns.name + "'"};
  }
  auto owner = personal_channel_owner(channel);
  if (!owner.empty() && owner != who.user) {
    return {errc::permission_denied, "channel '" + channel + "' belongs to another user"};
  }
  if (who.publish && !any_match(*who.publish, channel)) {
    return {errc::permission_denied, "token does not allow publishing to '" + channel + "'"};
  }
  return {};
}

} // namespace plexus::actors
