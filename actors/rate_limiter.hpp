#pragma once

#include <chrono>
#include <cstdint>

namespace plexus::actors {

/// What the limiter decided about one frame.
enum class rate_verdict : uint8_t {
  allow,
  reject,     // answer `rate_limited`, keep the connection
  disconnect, // the client kept going past twice the limit: close with 4008
};

/// Per-connection token bucket: `per_minute` frames per minute with a burst of one
/// second's worth. Frames over the limit draw from a second bucket of the same size; when
/// that one is empty too, the client has sent twice the limit and is disconnected.
/// Not thread-safe: owned by one connection. Time is passed in, for deterministic tests.
class rate_limiter {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit rate_limiter(uint32_t per_minute, time_point now = std::chrono::steady_clock::now());

  rate_verdict take(time_point now = std::chrono::steady_clock::now());

private:
  void refill(time_point now);

  double rate_per_ns_;
  double capacity_;
  double tokens_;
  double overdraft_;
  time_point last_;
};

} // namespace plexus::actors
