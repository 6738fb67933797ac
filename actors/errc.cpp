#include "actors/errc.hpp"

namespace plexus::actors {

const char* to_string(errc x) {
  switch (x) {
    case errc::none:
      return "none";
    case errc::bad_request:
      return "bad_request";
    case errc::unknown_type:
      return "unknown_type";
    case errc::invalid_channel:
      return "invalid_channel";
    case errc::permission_denied:
      return "permission_denied";
    case errc::not_subscribed:
      return "not_subscribed";
    case errc::rate_limited:
      return "rate_limited";
    case errc::too_large:
      return "too_large";
    case errc::internal:
      return "internal";
    case errc::too_many_subscriptions:
      return "too_many_subscriptions";
  }
  return "internal";
}

} // namespace plexus::actors
