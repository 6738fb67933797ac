#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <caf/actor.hpp>

#include "actors/metrics.hpp"
#include "actors/settings.hpp"

namespace plexus::actors {

/// What every domain actor of a node shares: its settings and its metrics. Owned by the
/// node; actors hold the shared pointers, so neither outlives the other's use.
struct context {
  std::shared_ptr<const domain_settings> settings;
  std::shared_ptr<metrics> stats;
  /// Receives a `hook_event` for every connect, disconnect, join, leave and client publish
  /// when the embedder registered hooks; null otherwise (then nothing is sent).
  caf::actor events;
  /// Where rooms, the presence tracker and sessions read the time they keep (history TTL,
  /// heartbeats, stale sweeps). Empty = std::chrono::steady_clock::now; tests install the
  /// testing scheduler's clock, so kept timestamps and timers move together.
  std::function<std::chrono::steady_clock::time_point()> time;

  /// The current time: `time()` when set, else steady_clock (one branch on the hot path).
  std::chrono::steady_clock::time_point now() const {
    return time ? time() : std::chrono::steady_clock::now();
  }
};

} // namespace plexus::actors
