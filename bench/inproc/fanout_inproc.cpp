// One publish -> N subscriber outboxes, in process: the registry actor routes the publish
// to the room, which encodes the frame once and pushes the same shared buffer into every
// outbox. Measures the domain's fan-out cost without any socket.
//
//   build-bench/bench/inproc/plexus-bench-inproc --benchmark_counters_tabular=true

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/context.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/outbox.hpp"
#include "actors/registry.hpp"
#include "actors/settings.hpp"

namespace {

namespace pa = plexus::actors;

/// Counts frames and nothing else: the floor of what an outbox can cost.
class counting_outbox : public pa::outbox {
public:
  explicit counting_outbox(std::atomic<uint64_t>& total) : total_(total) {
  }
  bool push(const pa::frame_ptr&, pa::slow_consumer_policy) override {
    total_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  void close(uint16_t, const std::string&) override {
  }
  pa::wire_format format() const override {
    return pa::wire_format::json;
  }
  bool deflate() const override {
    return false;
  }

private:
  std::atomic<uint64_t>& total_;
};

/// Does what a connection's outbox does on push: take a short lock and queue the shared
/// frame (a refcount increment). The queue is dropped when it grows, as a writer would.
class queue_outbox : public pa::outbox {
public:
  explicit queue_outbox(std::atomic<uint64_t>& total) : total_(total) {
    queue_.reserve(256);
  }
  bool push(const pa::frame_ptr& f, pa::slow_consumer_policy) override {
    {
      std::lock_guard<std::mutex> guard{mu_};
      if (queue_.size() >= 256) {
        queue_.clear();
      }
      queue_.push_back(f);
      bytes_ += f->json.size();
    }
    total_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  void close(uint16_t, const std::string&) override {
  }
  pa::wire_format format() const override {
    return pa::wire_format::json;
  }
  bool deflate() const override {
    return false;
  }

private:
  std::atomic<uint64_t>& total_;
  std::mutex mu_;
  std::vector<pa::frame_ptr> queue_;
  std::size_t bytes_ = 0;
};

class bench_config : public caf::actor_system_config {
public:
  bench_config() {
    // As the node configures CAF (engine/node.cpp): two workers on this 2-core machine,
    // no 50 us polling sleeps.
    set("scheduler.max-threads", 2);
    set("work-stealing.moderate-poll-attempts", 0);
    set("logger.verbosity", caf::atom("quiet"));
    set("logger.console", caf::atom("none"));
  }
};

/// A subscriber's session stand-in: the room keys subscribers by sender, so each outbox
/// needs an actor of its own to subscribe from; it swallows the subscribe reply.
caf::behavior fake_session(caf::event_based_actor* self) {
  self->set_default_handler(caf::drop);
  return {
    [](const pa::subscribe_reply&) {},
  };
}

template <class Outbox>
void fanout(benchmark::State& state) {
  auto n = static_cast<std::size_t>(state.range(0));
  bench_config cfg;
  caf::actor_system sys{cfg};
  pa::context ctx;
  ctx.settings = std::make_shared<const pa::domain_settings>();
  ctx.stats = std::make_shared<pa::metrics>();
  auto registry = sys.spawn(pa::registry_actor, ctx);
  std::atomic<uint64_t> delivered{0};
  std::vector<caf::actor> sessions;
  std::vector<pa::outbox_ptr> boxes;
  const std::string channel = "bench";
  for (std::size_t i = 0; i < n; ++i) {
    auto box = std::make_shared<Outbox>(delivered);
    auto session = sys.spawn(fake_session);
    pa::subscribe_args args;
    args.channel = channel;
    args.session_id = "s" + std::to_string(i);
    args.user = "u" + std::to_string(i);
    args.out = box;
    caf::send_as(session, registry, pa::subscribe_atom::value, std::move(args));
    sessions.push_back(session);
    boxes.push_back(box);
  }
  // Every subscriber gets its `subscribed` frame first.
  while (delivered.load() < n) {
    std::this_thread::yield();
  }
  std::string data = "{\"t\":1700000000000000000,\"p\":\"";
  data.append(64 - data.size() - 2, 'x');
  data += "\"}";
  {
    caf::scoped_actor self{sys};
    uint64_t target = delivered.load();
    for (auto _ : state) {
      pa::publish_args args;
      args.channel = channel;
      args.data = pa::payload{pa::wire_format::json, data};
      args.from = "bench";
      args.server = true;
      target += n;
      self->request(registry, caf::infinite, pa::publish_atom::value, std::move(args))
        .receive([](uint64_t) {},
                 [&](caf::error& err) { state.SkipWithError(sys.render(err).c_str()); });
      while (delivered.load(std::memory_order_acquire) < target) {
        std::this_thread::yield();
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.counters["subscribers"] = static_cast<double>(n);
  state.counters["deliveries_per_s"] = benchmark::Counter(
    static_cast<double>(state.iterations()) * static_cast<double>(n), benchmark::Counter::kIsRate);
  for (auto& s : sessions) {
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  }
  caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
}

} // namespace

BENCHMARK_TEMPLATE(fanout, counting_outbox)->Arg(100)->Arg(1000)->Arg(10000)->UseRealTime();
BENCHMARK_TEMPLATE(fanout, queue_outbox)->Arg(100)->Arg(1000)->Arg(10000)->UseRealTime();

BENCHMARK_MAIN();
