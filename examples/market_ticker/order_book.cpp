#include "examples/market_ticker/order_book.hpp"

#include <chrono>

#include "engine/embedded.hpp"

namespace plexus::examples {

const char* order_book_state::name = "order_book";

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;

// Timer granularity: 1 ms ticks, several quotes per tick at high rates.
constexpr auto tick = std::chrono::milliseconds(1);

void step(quote& q, uint64_t n) {
  // A deterministic walk, so tests can predict the final quote.
  q.bid += static_cast<int64_t>(n % 7) - 3;
  q.ask = q.bid + 2;
  ++q.seq;
}

} // namespace

std::string quote_json(const quote& q) {
  std::string out = "{\"sym\":\"" + q.symbol + "\",\"bid\":" + std::to_string(q.bid)
                    + ",\"ask\":" + std::to_string(q.ask) + ",\"seq\":" + std::to_string(q.seq);
  if (q.depth > 0) {
    out += ",\"levels\":[";
    for (uint32_t i = 0; i < 2 * q.depth; ++i) {
      auto px = i < q.depth ? q.bid - static_cast<int64_t>(i) : q.ask + (i - q.depth);
      out += (i ? ",[" : "[") + std::to_string(px) + "," + std::to_string(100 + i) + "]";
    }
    out += "]";
  }
  return out + "}";
}

caf::behavior order_book_actor(caf::stateful_actor<order_book_state>* self, caf::actor registry,
                               ticker_options opts) {
  auto& st = self->state;
  st.registry = std::move(registry);
  for (auto& sym : opts.symbols) {
    st.book.push_back(quote{sym, 10000, 10002, 0, opts.depth});
  }
  st.remaining = opts.total;
  st.batch = std::max<uint32_t>(1, opts.quotes_per_second / 1000);
  self->send(self, tick_atom::value);
  return {
    [self](tick_atom) {
      auto& st = self->state;
      for (uint32_t i = 0; i < st.batch; ++i) {
        auto& q = st.book[st.next];
        st.next = (st.next + 1) % st.book.size();
        step(q, q.seq);
        engine::publish(self, st.registry, "quotes:" + q.symbol, quote_json(q), "book");
        if (st.remaining > 0 && --st.remaining == 0) {
          self->quit();
          return;
        }
      }
      self->delayed_send(self, tick, tick_atom::value);
    },
  };
}

} // namespace plexus::examples
