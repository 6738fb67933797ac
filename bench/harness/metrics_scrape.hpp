#pragma once

#include <map>
#include <optional>
#include <string>

#include "bench/harness/url.hpp"

namespace plexus::bench {

/// Prometheus samples by full name with labels, e.g.
/// `plexus_cluster_messages_total{direction="out"}`.
using metric_map = std::map<std::string, double>;

/// GETs http://host:port/metrics of a plexus node (blocking, 2 s timeout) and parses the
/// text exposition. nullopt when the node does not answer 200.
std::optional<metric_map> scrape_metrics(const ws_url& node);

/// `after[name] - before[name]` (0 when either lacks it).
double metric_delta(const metric_map& before, const metric_map& after, const std::string& name);

} // namespace plexus::bench
