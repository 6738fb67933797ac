#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "bench/harness/client.hpp"
#include "bench/harness/clock.hpp"
#include "bench/harness/latency.hpp"
#include "bench/harness/proc_stats.hpp"
#include "bench/harness/scenarios.hpp"

namespace plexus::bench {

namespace {

enum class echo_mode { app, wsping, echo };

/// Connections with exactly one request in flight each; the next goes out the moment the
/// answer is read, so this measures round-trip latency at the load the answers allow.
class echo_runner : public conn_events {
public:
  echo_runner(echo_mode mode, peer p, std::size_t max_pending)
    : mode_(mode), proto_(p), loop(*this, max_pending) {
    request_ = mode == echo_mode::app ? "{\"type\":\"ping\"}"
                                      : "{\"t\":0,\"p\":\"" + std::string(40, 'x') + "\"}";
  }

  void on_open(connection& c, int64_t now) override {
    if (mode_ != echo_mode::app) {
      ready(c, now);
    }
  }

  void on_message(connection& c, std::string_view msg, int64_t now) override {
    if (!c.ready) {
      if (proto_.classify(msg) == msg_kind::welcome) {
        ready(c, now);
      }
      return;
    }
    if (mode_ == echo_mode::wsping) {
      return; // only pongs answer a ping (plexus's welcome once counted: two pings in flight)
    }
    if (mode_ == echo_mode::app && ::memmem(msg.data(), msg.size(), "pong", 4) == nullptr) {
      if (proto_.classify(msg) == msg_kind::error) {
        ++errors;
      }
      return;
    }
    answered(c, now);
  }

  void on_pong(connection& c, std::string_view, int64_t now) override {
    if (mode_ == echo_mode::wsping && c.ready) {
      answered(c, now);
    }
  }

  void on_closed(connection& c, int64_t) override {
    if (!c.ready) {
      ++failed;
    } else if (!stopping) {
      ++unexpected;
    }
  }

  echo_mode mode_;
  peer proto_;
  event_loop loop;
  latency_histogram hist;
  uint64_t round_trips = 0;
  uint64_t ready_count = 0;
  uint64_t failed = 0;
  uint64_t unexpected = 0;
  uint64_t errors = 0;
  bool measuring = false;
  bool stopping = false;

private:
  void ready(connection& c, int64_t now) {
    c.ready = true;
    ++ready_count;
    if (interval_ns == 0) {
      send(c, now);
    } else {
      c.t_queued = now + interval_ns * static_cast<int64_t>(ready_count % 100) / 100;
    }
  }
  void answered(connection& c, int64_t now) {
    if (measuring) {
      hist.record(now - c.t_sent);
      ++round_trips;
    }
    c.role = 0;
    if (!stopping && interval_ns == 0) {
      send(c, now);
    }
  }

public:
  /// Paced mode: sends what is due (each connection once per interval_ns, never two in
  /// flight); a late answer delays that connection's next send, and the wait counts.
  void send_due(int64_t now) {
    for (auto& c : loop.connections()) {
      if (c->ready && c->role == 0 && c->state == conn_state::open && now >= c->t_queued) {
        auto due = c->t_queued;
        send(*c, now);
        c->t_sent = due; // latency from the intended send time
        c->t_queued = std::max(due + interval_ns, now);
      }
    }
  }
  int64_t interval_ns = 0;

private:
  void send(connection& c, int64_t now) {
    c.role = 1;
    c.t_sent = now;
    c.send(mode_ == echo_mode::wsping ? ws_op::ping : ws_op::text,
           mode_ == echo_mode::wsping ? std::string_view("12345678") : request_);
  }
  std::string request_;
};

} // namespace

std::vector<result> run_echo(const options& o) {
  auto mode = o.echo_mode == "wsping" ? echo_mode::wsping
              : o.echo_mode == "echo" ? echo_mode::echo
                                      : echo_mode::app;
  peer proto(o.peer);
  auto url = o.targets[0];
  if (mode == echo_mode::echo && url.path == "/ws") {
    url = url.with_path("/ws/echo");
  }
  auto ep = endpoint::make(url, proto.subprotocol());
  echo_runner run(mode, proto, o.connect_concurrency);
  if (o.rate > 0) {
    run.interval_ns = static_cast<int64_t>(1e9 * static_cast<double>(o.connections) / o.rate);
  }
  for (std::size_t i = 0; i < o.connections; ++i) {
    run.loop.open(ep, 0, ep.loopback ? loopback_source(i, o.source_ips) : 0);
  }
  server_probe probe(o.server_pids);
  progress_line line(o.progress);
  auto deadline = now_ns() + o.connect_timeout_ms * ns_per_ms;
  while (run.ready_count + run.failed < o.connections && now_ns() < deadline) {
    run.loop.run_once(5);
  }
  // Warm up (not recorded), then measure.
  auto warm_until = now_ns() + o.settle_ms * ns_per_ms;
  while (now_ns() < warm_until) {
    run.loop.run_once(1);
    if (run.interval_ns > 0) {
      run.send_due(now_ns());
    }
  }
  run.measuring = true;
  auto s0 = probe.sample();
  auto gen0 = self_cpu_s();
  auto t0 = now_ns();
  auto end = t0 + static_cast<int64_t>(o.duration_s * 1e9);
  int64_t last = t0;
  while (true) {
    auto now = now_ns();
    if (now >= end) {
      break;
    }
    if (run.interval_ns > 0) {
      run.send_due(now);
      run.loop.run_once(0);
    } else {
      run.loop.run_once(1);
    }
    if (now - last > 500 * ns_per_ms) {
      char buf[160];
      std::snprintf(buf, sizeof(buf), "[echo %s] t=%.1fs round_trips=%llu p99=%.3fms",
                    o.echo_mode.c_str(), static_cast<double>(now - t0) / 1e9,
                    static_cast<unsigned long long>(run.round_trips),
                    static_cast<double>(run.hist.quantile(0.99)) / 1e6);
      line.show(buf);
      last = now;
    }
  }
  auto t1 = now_ns();
  auto s1 = probe.sample();
  auto gen1 = self_cpu_s();
  run.measuring = false;
  run.stopping = true;
  line.finish();
  auto wall = static_cast<double>(t1 - t0) / 1e9;
  result r;
  r.scenario = "echo";
  r.label = o.echo_mode + (o.rate > 0 ? " " + format_number(o.rate) + "/s" : "");
  r.add("connections", static_cast<double>(run.ready_count));
  r.add("round_trips", static_cast<double>(run.round_trips));
  r.add("round_trips_per_s", static_cast<double>(run.round_trips) / wall);
  r.add("p50_ms", static_cast<double>(run.hist.quantile(0.5)) / 1e6);
  r.add("p90_ms", static_cast<double>(run.hist.quantile(0.9)) / 1e6);
  r.add("p99_ms", static_cast<double>(run.hist.quantile(0.99)) / 1e6);
  r.add("p999_ms", static_cast<double>(run.hist.quantile(0.999)) / 1e6);
  r.add("max_ms", static_cast<double>(run.hist.max()) / 1e6);
  if (probe.enabled()) {
    auto cpu = s1.cpu_s - s0.cpu_s;
    r.add("server_cpu_pct", cpu / wall * 100);
    r.add("round_trips_per_server_cpu_s", cpu > 0 ? static_cast<double>(run.round_trips) / cpu : 0);
  }
  r.add("generator_cpu_pct", (gen1 - gen0) / wall * 100);
  r.add("errors", static_cast<double>(run.errors));
  r.add("failed_connects", static_cast<double>(run.failed));
  r.add("unexpected_closes", static_cast<double>(run.unexpected));
  return {r};
}

} // namespace plexus::bench
