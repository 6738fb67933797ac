#include "actors/rate_limiter.hpp"

#include <algorithm>

namespace plexus::actors {

rate_limiter::rate_limiter(uint32_t per_minute, time_point now)
  : rate_per_ns_(static_cast<double>(per_minute) / 60e9),
    capacity_(std::max(1.0, static_cast<double>(per_minute) / 60.0)),
    tokens_(capacity_),
    overdraft_(capacity_),
    last_(now) {
  // nop
}

void rate_limiter::refill(time_point now) {
  if (now <= last_) {
    return;
  }
  auto gained = static_cast<double>((now - last_).count()) * rate_per_ns_;
  last_ = now;
  // Tokens refill the main bucket first; the overdraft bucket recovers only once the
  // client is back under the limit.
  tokens_ += gained;
  if (tokens_ > capacity_) {
    overdraft_ = std::min(capacity_, overdraft_ + (tokens_ - capacity_));
    tokens_ = capacity_;
  }
}

rate_verdict rate_limiter::take(time_point now) {
  refill(now);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return rate_verdict::allow;
  }
  if (overdraft_ >= 1.0) {
    overdraft_ -= 1.0;
    return rate_verdict::reject;
  }
  return rate_verdict::disconnect;
}

} // namespace plexus::actors
