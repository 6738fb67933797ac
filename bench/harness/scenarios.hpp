#pragma once

#include <vector>

#include "bench/harness/options.hpp"
#include "bench/harness/report.hpp"

namespace plexus::bench {

// Each scenario runs to completion (bounded in time), printing progress on stderr, and
// returns its results. They never throw on a server misbehaving: failures are counted.

/// fanout (one channel), rooms (many channels, rate sweep), slow (stalled subscribers) and
/// cluster (subscribers spread over several targets) share one publish/deliver engine.
std::vector<result> run_pubsub(const options& o);

/// echo: `connections` connections with one request in flight each.
std::vector<result> run_echo(const options& o);

/// connect: open and hold `connections` connections.
std::vector<result> run_connect(const options& o);

/// churn: presence joins and leaves at a rate, observed by room members.
std::vector<result> run_churn(const options& o);

} // namespace plexus::bench
