// market_ticker: fast subscribers get every quote; a slow one gets the latest per symbol
// with bounded server memory (slow_consumer = "conflate").
#include <gtest/gtest.h>

#include <malloc.h>

#include <fstream>
#include <map>
#include <thread>

#include "examples/market_ticker/order_book.hpp"
#include "tests/support/test_node.hpp"

namespace plexus::test {
namespace {

long rss_bytes() {
  // Freed heap memory stays resident in glibc's arenas until trimmed; what counts here is
  // what is still held.
  malloc_trim(0);
  std::ifstream in("/proc/self/statm");
  long pages = 0;
  long resident = 0;
  in >> pages >> resident;
  return resident * 4096;
}

void quote_namespace(engine::config& cfg) {
  actors::namespace_settings quotes;
  quotes.name = "quotes";
  quotes.presence = false;
  quotes.join_leave = false;
  quotes.history_size = 0;
  quotes.publish = actors::publish_rule::server;
  quotes.slow_consumer = actors::slow_consumer_policy::conflate;
  cfg.namespaces = {quotes};
  // Room for ~3,500 quotes (~0.35 s at 10k/s): the fast reader is a thread of a test that
  // shares the machine with the rest of the suite and can stall that long; the slow reader
  // still conflates far below the 24 MB it would otherwise queue.
  cfg.websocket.send_queue_limit_bytes = 2 * 1024 * 1024;
}

TEST(market_ticker, fast_reader_gets_every_quote_slow_reader_the_latest_with_bounded_memory) {
  test_node n{quote_namespace};
  const std::vector<std::string> symbols = {"AAA", "BBB", "CCC", "DDD"};
  // 10,000 quotes per symbol of ~600 bytes (depth 10): 24 MB that a slow reader would
  // otherwise have queued, at a rate the test's own reader keeps up with.
  constexpr uint64_t total = 40000;
  ws_request slow_req;
  slow_req.rcvbuf = 4096;
  auto slow = n.connect(slow_req);
  auto fast = n.connect();
  for (auto* c : {slow.get(), fast.get()}) {
    for (std::size_t i = 0; i < symbols.size(); ++i) {
      c->send_text(R"({"type":"subscribe","channel":"quotes:)" + symbols[i] + R"(","id":)"
                   + std::to_string(i) + "}");
      ASSERT_TRUE(c->read_type("subscribed"));
    }
  }
  // The fast reader checks that every symbol's seq goes up by exactly one.
  std::map<std::string, int64_t> fast_seq;
  std::atomic<uint64_t> fast_count{0};
  std::atomic<bool> fast_ok{true};
  std::thread reader([&] {
    while (fast_count < total) {
      auto m = fast->read_message(10s);
      if (!m) {
        fast_ok = false;
        return;
      }
      auto data = json_raw(*m, "data");
      auto sym = json_string(data, "sym");
      auto seq = json_int(data, "seq").value_or(-1);
      if (fast_seq[sym] + 1 != seq) {
        fast_ok = false;
      }
      fast_seq[sym] = seq;
      ++fast_count;
    }
  });
  auto rss_before = rss_bytes();
  examples::ticker_options opts;
  opts.symbols = symbols;
  opts.quotes_per_second = 10000;
  opts.depth = 10;
  opts.total = total;
  n.node().system().spawn(examples::order_book_actor, n.node().registry(), opts);
  reader.join();
  EXPECT_TRUE(fast_ok) << "fast reader missed or reordered quotes";
  EXPECT_EQ(fast_count.load(), total);
  // Without conflation the slow reader's queue would now hold ~24 MB; allow half of that
  // for everything else a loaded process holds for a moment.
  auto growth = rss_bytes() - rss_before;
  EXPECT_LT(growth, 12L * 1024 * 1024) << "server memory grew with the slow reader's backlog";
  // The slow reader catches up and ends on the final quote of every symbol.
  std::map<std::string, int64_t> last;
  while (true) {
    auto m = slow->read_message(2s);
    if (!m) {
      break;
    }
    auto data = json_raw(*m, "data");
    last[json_string(data, "sym")] = json_int(data, "seq").value_or(-1);
    bool done = last.size() == symbols.size();
    for (auto& s : symbols) {
      done = done && last[s] == static_cast<int64_t>(total / symbols.size());
    }
    if (done) {
      break;
    }
  }
  for (auto& s : symbols) {
    EXPECT_EQ(last[s], static_cast<int64_t>(total / symbols.size())) << s;
  }
  EXPECT_GE(n.stats().slow_consumers_total.load(), 1u);
}

} // namespace
} // namespace plexus::test
