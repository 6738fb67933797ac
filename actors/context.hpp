#pragma once

#include <memory>

#include "actors/metrics.hpp"
#include "actors/settings.hpp"

namespace plexus::actors {

/// What every domain actor of a node shares: its settings and its metrics. Owned by the
/// node; actors hold the shared pointers, so neither outlives the other's use.
struct context {
  std::shared_ptr<const domain_settings> settings;
  std::shared_ptr<metrics> stats;
};

} // namespace plexus::actors
