#include "net/client_backoff.hpp"

#include <algorithm>
#include <cmath>

namespace plexus::net {

std::string validate(const backoff_settings& s) {
  if (s.strategy == reconnect_strategy::none) {
    return {};
  }
  if (s.base.count() < 1) {
    return "reconnect.base must be at least 1 ms";
  }
  if (s.cap < s.base) {
    return "reconnect.cap must be at least reconnect.base (" + std::to_string(s.base.count())
           + " ms)";
  }
  return {};
}

std::chrono::milliseconds backoff_ceiling(const backoff_settings& s, uint32_t attempt) {
  using ms = std::chrono::milliseconds;
  const int64_t base = std::max<int64_t>(1, s.base.count());
  const int64_t cap = std::max<int64_t>(base, s.cap.count());
  // base * 2^attempt reaches cap after at most 63 doublings; stop before overflowing.
  int64_t ceiling = base;
  for (uint32_t i = 0; i < attempt && ceiling < cap; ++i) {
    ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
  }
  return ms(std::min(ceiling, cap));
}

std::chrono::milliseconds backoff_delay(const backoff_settings& s, uint32_t attempt, double unit) {
  if (!(unit >= 0.0)) { // also catches NaN
    unit = 0.0;
  }
  unit = std::min(unit, std::nextafter(1.0, 0.0));
  const auto ceiling = backoff_ceiling(s, attempt).count();
  auto delay = static_cast<int64_t>(std::floor(unit * static_cast<double>(ceiling)));
  return std::chrono::milliseconds(std::clamp<int64_t>(delay, 0, ceiling - 1));
}

bool may_retry(const backoff_settings& s, uint32_t attempt) {
  if (s.strategy == reconnect_strategy::none) {
    return false;
  }
  return s.max_attempts == 0 || attempt < s.max_attempts;
}

} // namespace plexus::net
