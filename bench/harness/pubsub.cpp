#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>

#include "bench/harness/clock.hpp"
#include "bench/harness/metrics_scrape.hpp"
#include "bench/harness/proc_stats.hpp"
#include "bench/harness/pubsub_worker.hpp"
#include "bench/harness/scenarios.hpp"

namespace plexus::bench {

namespace {

double ms(int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

void sleep_ms(int n) {
  std::this_thread::sleep_for(std::chrono::milliseconds(n));
}

/// Turns the options of fanout / rooms / slow / cluster into a plan.
pubsub_plan make_plan(const options& o) {
  pubsub_plan p;
  p.payload = o.payload;
  p.publishers = std::max<std::size_t>(1, o.publishers);
  p.slow = o.scenario == "slow" ? o.slow : 0;
  p.slow_rcvbuf = o.slow_rcvbuf;
  p.personal = o.personal;
  if (o.scenario == "rooms") {
    p.subscribers = o.connections;
    p.room_size = std::max<std::size_t>(1, o.room_size);
    auto rooms = std::max<std::size_t>(1, o.rooms);
    for (std::size_t i = 0; i < rooms; ++i) {
      p.channels.push_back(o.room_prefix + std::to_string(i));
    }
  } else {
    p.subscribers = o.scenario == "slow" ? o.connections : o.subscribers;
    p.room_size = std::max<std::size_t>(1, p.subscribers);
    p.channels.push_back(o.channel);
  }
  auto rates = o.sweep.empty() ? std::vector<double>{o.rate} : o.sweep;
  int64_t offset = 0;
  const int64_t gap = o.sweep.size() > 1 ? ns_per_s : 0; // lets one step drain before the next
  for (double r : rates) {
    pubsub_step s;
    s.rate = r;
    s.first_seq = p.total_messages;
    if (r <= 0) {
      p.window = std::max<std::size_t>(1, o.window);
      s.count = o.messages;
    } else {
      s.count = o.messages > 0 && o.sweep.empty() ? o.messages
                                                  : static_cast<uint64_t>(r * o.duration_s + 0.5);
    }
    s.start_offset = offset;
    s.end_offset
      = r > 0 ? offset + static_cast<int64_t>(static_cast<double>(s.count) * 1e9 / r) : offset;
    offset = s.end_offset + gap;
    p.total_messages += s.count;
    p.steps.push_back(s);
  }
  return p;
}

} // namespace

std::vector<result> run_pubsub(const options& o) {
  auto plan = make_plan(o);
  pubsub_shared sh(plan);
  sh.proto = peer(o.peer);
  server_probe probe(o.server_pids);
  progress_line line(o.progress);

  // Endpoints: one per (target, channel) for peers that put the channel in the path.
  std::map<std::pair<std::size_t, std::size_t>, std::unique_ptr<endpoint>> eps;
  bool per_channel = o.peer == peer_kind::nchan;
  auto ep_for = [&](std::size_t target, std::size_t ch, bool pub) -> const endpoint& {
    auto key = std::make_pair(target, per_channel ? ch * 2 + (pub ? 1 : 0) : (pub ? 1 : 0));
    auto& slot = eps[key];
    if (!slot) {
      auto url = sh.proto.url_for(o.targets[target], plan.channels[ch], pub);
      slot = std::make_unique<endpoint>(endpoint::make(url, sh.proto.subprotocol()));
    }
    return *slot;
  };

  std::size_t nthreads = std::max<std::size_t>(1, o.threads);
  std::vector<std::unique_ptr<pubsub_worker>> workers;
  for (std::size_t t = 0; t < nthreads; ++t) {
    workers.push_back(std::make_unique<pubsub_worker>(sh, t, o.connect_concurrency));
  }
  std::size_t src = 0;
  auto source
    = [&](const endpoint& ep) { return ep.loopback ? loopback_source(src++, o.source_ips) : 0u; };
  for (std::size_t p = 0; p < plan.publishers; ++p) {
    const auto& ep = ep_for(0, p % plan.channels.size(), true);
    workers[0]->add_publisher(ep, source(ep));
  }
  for (std::size_t i = 0; i < plan.subscribers; ++i) {
    const auto& ep = ep_for(i % o.targets.size(), plan.channel_of_subscriber(i), false);
    workers[i % nthreads]->add_subscriber(ep, i, source(ep));
  }
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&w] { w->run(); });
  }

  // Connect.
  auto total_conns = plan.subscribers + plan.publishers;
  auto t_connect = now_ns();
  auto connect_deadline = t_connect + o.connect_timeout_ms * ns_per_ms;
  while (sh.settled.load() < total_conns && now_ns() < connect_deadline) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "[%s] connecting: %llu/%zu ready, %llu failed",
                  o.scenario.c_str(), static_cast<unsigned long long>(sh.ready.load()), total_conns,
                  static_cast<unsigned long long>(sh.settled.load() - sh.ready.load()));
    line.show(buf);
    sleep_ms(100);
  }
  auto connect_s = static_cast<double>(now_ns() - t_connect) / 1e9;
  sh.phase.store(pubsub_phase::settle, std::memory_order_release);
  sleep_ms(o.settle_ms);
  sh.expected.resize(plan.channels.size());
  uint64_t fast_ready = 0;
  for (std::size_t c = 0; c < plan.channels.size(); ++c) {
    sh.expected[c] = sh.ready_per_channel[c].load();
    fast_ready += sh.expected[c];
  }
  std::vector<uint64_t> step_expected(plan.steps.size(), 0);
  for (std::size_t s = 0; s < plan.steps.size(); ++s) {
    for (uint64_t q = 0; q < plan.steps[s].count; ++q) {
      step_expected[s] += sh.expected[(plan.steps[s].first_seq + q) % plan.channels.size()];
    }
  }
  uint64_t expected_total = 0;
  for (auto e : step_expected) {
    expected_total += e;
  }

  // Publish, then drain. For plexus, each node's own counters are read before and after:
  // what the server says it sent, and (cluster) what crossed the wire between nodes.
  std::vector<std::optional<metric_map>> metrics0;
  if (o.peer == peer_kind::plexus) {
    for (const auto& t : o.targets) {
      metrics0.push_back(scrape_metrics(t));
    }
  }
  auto s0 = probe.sample();
  auto gen0 = self_cpu_s();
  std::vector<proc_sample> step_start(plan.steps.size());
  std::vector<proc_sample> step_end(plan.steps.size());
  std::vector<int64_t> rss_series;
  auto t0 = now_ns() + 50 * ns_per_ms;
  sh.t0.store(t0);
  sh.phase.store(pubsub_phase::publish, std::memory_order_release);
  // Rate mode: the schedule plus a grace period. Window mode has no schedule: it may take
  // as long as the server needs, up to a minute.
  auto publish_cap = plan.window > 0 ? t0 + 60 * ns_per_s
                                     : t0 + plan.steps.back().end_offset
                                         + static_cast<int64_t>(std::max(o.duration_s, 5.0) * 1e9);
  uint64_t last_delivered = 0;
  int64_t last_t = now_ns();
  int64_t last_rss_t = 0;
  double last_cpu = s0.cpu_s;
  std::size_t step_seen = 0;
  auto drain_start = int64_t{0};
  while (true) {
    auto now = now_ns();
    auto done = sh.publishing_done.load();
    if (done && drain_start == 0) {
      drain_start = now;
      sh.phase.store(pubsub_phase::drain, std::memory_order_release);
    }
    if (drain_start != 0
        && (sh.delivered.load() >= expected_total || now - drain_start > o.drain_ms * ns_per_ms)) {
      break;
    }
    if (!done && now > publish_cap) {
      break;
    }
    // Step boundaries, for per-step server CPU in a sweep.
    while (step_seen < plan.steps.size() && now >= t0 + plan.steps[step_seen].start_offset) {
      step_start[step_seen++] = probe.sample();
    }
    for (std::size_t s = 0; s < step_seen; ++s) {
      if (!step_end[s].ok && now >= t0 + plan.steps[s].end_offset + 500 * ns_per_ms) {
        step_end[s] = probe.sample();
      }
    }
    if (now - last_rss_t >= ns_per_s && probe.enabled()) {
      rss_series.push_back(probe.sample().rss_kb);
      last_rss_t = now;
    }
    if (now - last_t >= 500 * ns_per_ms) {
      auto d = sh.delivered.load();
      auto dt = static_cast<double>(now - last_t) / 1e9;
      auto cur = probe.sample();
      char buf[240];
      std::snprintf(
        buf, sizeof(buf),
        "[%s %s] t=%.1fs sent=%llu/%llu delivered=%llu/%llu (%.0f/s) max_lat=%.1fms "
        "srv_cpu=%.0f%%",
        o.scenario.c_str(), to_string(o.peer), static_cast<double>(now - t0) / 1e9,
        static_cast<unsigned long long>(sh.published.load()),
        static_cast<unsigned long long>(plan.total_messages), static_cast<unsigned long long>(d),
        static_cast<unsigned long long>(expected_total),
        static_cast<double>(d - last_delivered) / dt, ms(sh.interval_max_ns.exchange(0)),
        probe.enabled() ? (cur.cpu_s - last_cpu) / dt * 100 : 0.0);
      line.show(buf);
      last_delivered = d;
      last_t = now;
      last_cpu = cur.cpu_s;
    }
    sleep_ms(20);
  }
  auto t_end = now_ns();
  auto s1 = probe.sample();
  double server_sent = 0;
  double wire_out = 0;
  bool have_metrics = !metrics0.empty();
  for (std::size_t i = 0; i < metrics0.size(); ++i) {
    auto after = scrape_metrics(o.targets[i]);
    if (!metrics0[i] || !after) {
      have_metrics = false;
      continue;
    }
    server_sent += metric_delta(*metrics0[i], *after, "plexus_messages_out_total");
    wire_out
      += metric_delta(*metrics0[i], *after, "plexus_cluster_messages_total{direction=\"out\"}");
  }
  auto gen1 = self_cpu_s();
  for (std::size_t s = 0; s < plan.steps.size(); ++s) {
    if (!step_start[s].ok) {
      step_start[s] = s0;
    }
    if (!step_end[s].ok) {
      step_end[s] = s1;
    }
  }

  if (plan.slow > 0) {
    sh.phase.store(pubsub_phase::resume_slow, std::memory_order_release);
    auto until = now_ns() + 5 * ns_per_s;
    while (sh.slow_closed.load() < plan.slow && now_ns() < until) {
      sleep_ms(20);
    }
  }
  sh.phase.store(pubsub_phase::stop, std::memory_order_release);
  for (auto& t : threads) {
    t.join();
  }
  line.finish();

  // Merge.
  std::vector<latency_histogram> hist(plan.steps.size());
  std::vector<uint64_t> deliveries(plan.steps.size(), 0);
  std::vector<int64_t> last_rx(plan.steps.size(), 0);
  std::vector<latency_histogram> windows;
  std::map<uint16_t, uint64_t> closes;
  std::map<uint16_t, uint64_t> slow_closes;
  uint64_t errors = 0;
  uint64_t failed = 0;
  uint64_t unexpected = 0;
  for (auto& w : workers) {
    for (std::size_t s = 0; s < plan.steps.size(); ++s) {
      hist[s].merge(w->step_hist[s]);
      deliveries[s] += w->step_deliveries[s];
      last_rx[s] = std::max(last_rx[s], w->step_last_rx[s]);
    }
    if (windows.size() < w->window_hist.size()) {
      windows.resize(w->window_hist.size());
    }
    for (std::size_t i = 0; i < w->window_hist.size(); ++i) {
      windows[i].merge(w->window_hist[i]);
    }
    for (auto& kv : w->close_codes) {
      closes[kv.first] += kv.second;
    }
    for (auto& kv : w->slow_close_codes) {
      slow_closes[kv.first] += kv.second;
    }
    errors += w->errors;
    failed += w->failed_connects;
    unexpected += w->unexpected_closes;
  }

  std::vector<result> out;
  for (std::size_t s = 0; s < plan.steps.size(); ++s) {
    const auto& st = plan.steps[s];
    result r;
    r.scenario = o.scenario;
    r.label = to_string(o.peer);
    if (plan.steps.size() > 1) {
      r.label += " " + format_number(st.rate) + "/s";
    }
    r.add("subscribers", static_cast<double>(plan.subscribers));
    if (plan.channels.size() > 1) {
      r.add("channels", static_cast<double>(plan.channels.size()));
    }
    if (o.targets.size() > 1) {
      r.add("targets", static_cast<double>(o.targets.size()));
    }
    r.add("publishers", static_cast<double>(plan.publishers));
    r.add("payload_bytes", static_cast<double>(plan.payload));
    r.add("rate_per_s", st.rate);
    r.add("messages", static_cast<double>(st.count));
    r.add("connect_s", connect_s);
    r.add("expected", static_cast<double>(step_expected[s]));
    r.add("delivered", static_cast<double>(deliveries[s]));
    r.add("delivery_ratio", step_expected[s] == 0 ? 0.0
                                                  : static_cast<double>(deliveries[s])
                                                      / static_cast<double>(step_expected[s]));
    auto span_start = t0 + st.start_offset;
    auto span = std::max<int64_t>(last_rx[s] - span_start, 1);
    r.add("deliveries_per_s", static_cast<double>(deliveries[s]) * 1e9 / static_cast<double>(span));
    r.add("p50_ms", ms(hist[s].quantile(0.5)));
    r.add("p90_ms", ms(hist[s].quantile(0.9)));
    r.add("p99_ms", ms(hist[s].quantile(0.99)));
    r.add("p999_ms", ms(hist[s].quantile(0.999)));
    r.add("max_ms", ms(hist[s].max()));
    if (probe.enabled()) {
      auto a = plan.steps.size() > 1 ? step_start[s] : s0;
      auto b = plan.steps.size() > 1 ? step_end[s] : s1;
      auto cpu = b.cpu_s - a.cpu_s;
      auto wall = static_cast<double>(plan.steps.size() > 1
                                        ? (st.end_offset - st.start_offset) + 500 * ns_per_ms
                                        : t_end - t0)
                  / 1e9;
      r.add("server_cpu_s", cpu);
      r.add("server_cpu_pct", wall > 0 ? cpu / wall * 100 : 0);
      r.add("deliveries_per_server_cpu_s", cpu > 0 ? static_cast<double>(deliveries[s]) / cpu : 0);
      r.add("server_rss_mb", static_cast<double>(b.rss_kb) / 1024);
    }
    r.add("generator_cpu_pct", (gen1 - gen0) / (static_cast<double>(t_end - t0) / 1e9) * 100);
    r.add("errors", static_cast<double>(errors));
    r.add("failed_connects", static_cast<double>(failed));
    r.add("unexpected_closes", static_cast<double>(unexpected));
    if (have_metrics && plan.steps.size() == 1) {
      // Frames the node counted as sent during the measured phase, stalled readers included.
      r.add("server_messages_out", server_sent);
      if (o.targets.size() > 1) {
        r.add("cluster_wire_messages_per_publish",
              st.count > 0 ? wire_out / static_cast<double>(st.count) : 0);
      }
    }
    if (plan.slow > 0) {
      r.add("slow_subscribers", static_cast<double>(plan.slow));
      r.add("slow_closed_4009", static_cast<double>(slow_closes[4009]));
      uint64_t other = 0;
      for (auto& kv : slow_closes) {
        other += kv.first == 4009 ? 0 : kv.second;
      }
      r.add("slow_closed_other", static_cast<double>(other));
      int64_t worst = 0;
      for (auto& w : windows) {
        worst = std::max(worst, w.quantile(0.99));
      }
      if (!windows.empty()) {
        r.add("fast_p99_first_s_ms", ms(windows.front().quantile(0.99)));
        r.add("fast_p99_last_s_ms", ms(windows.back().quantile(0.99)));
        r.add("fast_p99_worst_s_ms", ms(worst));
      }
      if (!rss_series.empty()) {
        r.add("server_rss_start_mb", static_cast<double>(s0.rss_kb) / 1024);
        r.add("server_rss_max_mb",
              static_cast<double>(*std::max_element(rss_series.begin(), rss_series.end())) / 1024);
        r.add("server_rss_end_mb", static_cast<double>(s1.rss_kb) / 1024);
      }
    }
    if (!closes.empty()) {
      std::string codes;
      for (auto& kv : closes) {
        codes += (codes.empty() ? "" : ",") + std::to_string(kv.first) + "x"
                 + std::to_string(kv.second);
      }
      r.add_text("close_codes", codes);
    }
    (void)fast_ready;
    out.push_back(std::move(r));
  }
  return out;
}

} // namespace plexus::bench
