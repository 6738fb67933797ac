#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "bench/harness/client.hpp"
#include "bench/harness/clock.hpp"
#include "bench/harness/latency.hpp"
#include "bench/harness/proc_stats.hpp"
#include "bench/harness/scenarios.hpp"

namespace plexus::bench {

namespace {

/// Opens connections as fast as the connect window allows and holds them.
class connect_runner : public conn_events {
public:
  connect_runner(peer p, std::size_t max_pending) : proto_(p), loop(*this, max_pending) {
  }
  void on_open(connection& c, int64_t now) override {
    ++opened;
    last_open = now;
    hist.record(now - c.t_connect);
    auto hello = proto_.on_open_frame();
    if (!hello.empty()) {
      c.send_text(hello);
    }
  }
  void on_message(connection& c, std::string_view msg, int64_t) override {
    auto k = proto_.classify(msg);
    if (k == msg_kind::welcome && !c.ready) {
      c.ready = true;
      ++welcomed;
    } else if (k == msg_kind::ping) {
      c.send_text(proto_.pong_frame());
    }
  }
  void on_closed(connection& c, int64_t) override {
    if (c.failed) {
      ++failed;
      ++failures[c.error.empty() ? "?" : c.error];
    } else if (!stopping) {
      ++dropped;
    }
  }

  peer proto_;
  event_loop loop;
  latency_histogram hist;
  uint64_t opened = 0;
  uint64_t welcomed = 0;
  uint64_t failed = 0;
  uint64_t dropped = 0;
  int64_t last_open = 0;
  bool stopping = false;
  std::map<std::string, uint64_t> failures;
};

void pump(connect_runner& run, int64_t until) {
  while (now_ns() < until) {
    run.loop.run_once(5);
  }
}

} // namespace

std::vector<result> run_connect(const options& o) {
  auto limit = raise_fd_limit();
  peer proto(o.peer);
  auto ep = endpoint::make(proto.url_for(o.targets[0], o.channel, false), proto.subprotocol());
  server_probe probe(o.server_pids);
  progress_line line(o.progress);
  connect_runner run(proto, o.connect_concurrency);
  auto before = probe.sample();
  auto t0 = now_ns();
  for (std::size_t i = 0; i < o.connections; ++i) {
    run.loop.open(ep, 0, ep.loopback ? loopback_source(i, o.source_ips) : 0);
  }
  auto deadline = t0 + o.connect_timeout_ms * ns_per_ms;
  int64_t last = 0;
  while (run.opened + run.failed < o.connections && now_ns() < deadline) {
    run.loop.run_once(5);
    auto now = now_ns();
    if (now - last > 250 * ns_per_ms) {
      char buf[160];
      std::snprintf(buf, sizeof(buf), "[connect] open=%llu failed=%llu pending=%zu",
                    static_cast<unsigned long long>(run.opened),
                    static_cast<unsigned long long>(run.failed), run.loop.pending());
      line.show(buf);
      last = now;
    }
  }
  auto open_s = static_cast<double>(run.last_open - t0) / 1e9;
  // Hold: let the server settle (session actors, welcome frames), then read its memory.
  pump(run, now_ns() + std::max(o.settle_ms, 1000) * ns_per_ms);
  auto held = probe.sample();
  auto hold_until = now_ns() + static_cast<int64_t>(o.duration_s * 1e9);
  pump(run, hold_until);
  auto held_end = probe.sample();
  run.stopping = true;
  line.finish();
  run.loop.abort_all();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto after = probe.sample();

  result r;
  r.scenario = "connect";
  r.label = to_string(o.peer);
  r.add("fd_limit", static_cast<double>(limit));
  r.add("requested", static_cast<double>(o.connections));
  r.add("opened", static_cast<double>(run.opened));
  r.add("welcomed", static_cast<double>(run.welcomed));
  r.add("failed", static_cast<double>(run.failed));
  r.add("dropped_while_held", static_cast<double>(run.dropped));
  r.add("open_s", open_s);
  r.add("handshakes_per_s", open_s > 0 ? static_cast<double>(run.opened) / open_s : 0);
  r.add("handshake_p50_ms", static_cast<double>(run.hist.quantile(0.5)) / 1e6);
  r.add("handshake_p99_ms", static_cast<double>(run.hist.quantile(0.99)) / 1e6);
  if (probe.enabled() && run.opened > 0) {
    auto per = static_cast<double>(held_end.rss_kb - before.rss_kb) * 1024.0
               / static_cast<double>(run.opened);
    r.add("server_rss_before_mb", static_cast<double>(before.rss_kb) / 1024);
    r.add("server_rss_held_mb", static_cast<double>(held_end.rss_kb) / 1024);
    r.add("server_rss_per_conn_bytes", per);
    r.add("server_rss_after_close_mb", static_cast<double>(after.rss_kb) / 1024);
    r.add("server_fds_held", static_cast<double>(held.fds));
    r.add("server_fds_after_close", static_cast<double>(after.fds));
    r.add("server_cpu_connect_s", held.cpu_s - before.cpu_s);
  }
  if (!run.failures.empty()) {
    std::string why;
    for (auto& kv : run.failures) {
      why += (why.empty() ? "" : ", ") + kv.first + " x" + std::to_string(kv.second);
    }
    r.add_text("failures", why);
  }
  return {r};
}

} // namespace plexus::bench
