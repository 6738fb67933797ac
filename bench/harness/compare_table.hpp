#pragma once

#include <istream>
#include <string>
#include <vector>

#include "bench/harness/report.hpp"

namespace plexus::bench {

/// Reads the JSON lines plexus-bench --json printed (flat objects only) back into results.
std::vector<result> read_json_lines(std::istream& in);

/// The peer comparison: one row per result, the key fanout metrics as columns, and each
/// peer's deliveries/s, deliveries per server CPU second and p99 as ratios to plexus.
std::string compare_table(const std::vector<result>& rs);

} // namespace plexus::bench
