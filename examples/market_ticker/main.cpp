// market_ticker: a plexus node embedded in a market-data backend. An order-book actor
// publishes quotes for many symbols at a high rate on quotes:<symbol>; slow subscribers
// get the latest quote per symbol (conflation) instead of a backlog.
#include <csignal>

#include <spdlog/spdlog.h>

#include "engine/node.hpp"
#include "examples/market_ticker/order_book.hpp"

int main(int argc, char** argv) {
  plexus::engine::config cfg;
  cfg.node.name = "ticker";
  cfg.node.listen = argc > 1 ? argv[1] : "127.0.0.1:8091";
  cfg.auth.anonymous = true; // a real feed checks entitlements with JWT channel claims
  plexus::actors::namespace_settings quotes;
  quotes.name = "quotes";
  quotes.presence = false;
  quotes.join_leave = false;
  quotes.history_size = 0; // a quote is stale the moment the next one exists
  quotes.publish = plexus::actors::publish_rule::server;
  quotes.slow_consumer = plexus::actors::slow_consumer_policy::conflate;
  cfg.namespaces = {quotes};

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  plexus::engine::node node{cfg};
  node.start();
  plexus::examples::ticker_options opts;
  opts.symbols = {"AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "META", "TSLA", "ORCL"};
  auto book = node.system().spawn(plexus::examples::order_book_actor, node.registry(), opts);
  spdlog::info("[ticker] publishing {} quotes/s on {}", opts.quotes_per_second, node.ws_url());
  int sig = 0;
  sigwait(&signals, &sig);
  caf::anon_send_exit(book, caf::exit_reason::user_shutdown);
  book = nullptr;
  node.stop();
  return 0;
}
