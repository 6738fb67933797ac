#pragma once

#include <cstdint>
#include <ctime>

namespace plexus::bench {

/// CLOCK_MONOTONIC in nanoseconds: the clock every timestamp of the harness uses (send
/// times embedded in payloads, receipt times), so latencies need no clock sync as long as
/// publisher and subscribers run in this process.
inline int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

constexpr int64_t ns_per_ms = 1000000;
constexpr int64_t ns_per_s = 1000000000;

} // namespace plexus::bench
