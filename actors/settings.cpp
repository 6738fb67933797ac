#include "actors/settings.hpp"

#include "actors/channel_name.hpp"

namespace plexus::actors {

namespace_settings default_namespace_settings() {
  namespace_settings s;
  s.presence = false;
  s.join_leave = false;
  s.history_size = 0;
  s.publish = publish_rule::any;
  return s;
}

const namespace_settings& domain_settings::namespace_of(const std::string& channel) const {
  auto ns = channel_namespace(channel);
  for (const auto& n : namespaces) {
    if (n.name == ns) {
      return n;
    }
  }
  return fallback;
}

const char* to_string(publish_rule x) {
  switch (x) {
    case publish_rule::any:
      return "any";
    case publish_rule::subscribers:
      return "subscribers";
    case publish_rule::server:
      return "server";
  }
  return "?";
}

const char* to_string(slow_consumer_policy x) {
  switch (x) {
    case slow_consumer_policy::disconnect:
      return "disconnect";
    case slow_consumer_policy::drop_oldest:
      return "drop_oldest";
    case slow_consumer_policy::conflate:
      return "conflate";
  }
  return "?";
}

} // namespace plexus::actors
