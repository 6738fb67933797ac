#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

namespace plexus::examples {

/// A quote of one symbol.
struct quote {
  std::string symbol;
  int64_t bid = 0; // in ticks (1/100 of a unit)
  int64_t ask = 0;
  uint64_t seq = 0; // per symbol, starting at 1
  uint32_t depth = 0; // price levels per side sent with the quote (a depth-of-book feed)
};

/// The order book of a market-data backend: publishes a quote for one of its symbols on
/// `quotes:<symbol>` every `interval`, round robin, at high rate. The `quotes` namespace
/// uses slow_consumer = "conflate": a subscriber that cannot keep up gets the latest quote
/// per symbol instead of a growing backlog, while fast subscribers get every update.
struct order_book_state {
  explicit order_book_state(caf::event_based_actor*) {
  }
  caf::actor registry;
  std::vector<quote> book;
  std::size_t next = 0;
  uint64_t remaining = 0; // quotes left to publish (0 = forever)
  uint32_t batch = 1;     // quotes per timer tick
  static const char* name;
};

struct ticker_options {
  std::vector<std::string> symbols = {"AAPL", "MSFT", "GOOG", "AMZN"};
  uint32_t quotes_per_second = 10000;
  uint64_t total = 0; // stop after this many quotes (0 = run until stopped)
  uint32_t depth = 0; // price levels per side in each quote (~24 bytes each)
};

caf::behavior order_book_actor(caf::stateful_actor<order_book_state>* self, caf::actor registry,
                               ticker_options opts);

/// A quote's JSON: {"sym":"AAPL","bid":..,"ask":..,"seq":..[,"levels":[[px,qty],...]]}.
std::string quote_json(const quote& q);

} // namespace plexus::examples
