#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>

#include "bench/harness/client.hpp"
#include "bench/harness/clock.hpp"
#include "bench/harness/latency.hpp"
#include "bench/harness/proc_stats.hpp"
#include "bench/harness/scenarios.hpp"

namespace plexus::bench {

namespace {

/// Stable members sit in rooms and watch presence_diff frames; churners join a room,
/// stay `hold_ms` and leave. Join latency runs from the churner's subscribe to each
/// member's receipt of the diff naming its session; leave latency from its close frame.
class churn_runner : public conn_events {
public:
  enum role : int { member_role = 1, churner_role = 2 };

  churn_runner(const options& o, std::size_t max_pending)
    : o_(o), proto_(o.peer), loop(*this, max_pending) {
  }

  struct event_times {
    int64_t join_sent = 0;
    int64_t leave_sent = 0;
    uint32_t room = 0;
  };

  void on_open(connection&, int64_t) override {
  }

  void on_message(connection& c, std::string_view msg, int64_t now) override {
    auto kind = proto_.classify(msg);
    if (kind == msg_kind::welcome && c.received == 0) {
      c.received = 1;
      c.session.assign(find_str(msg, "\"session\":\""));
      c.send_text(proto_.subscribe_frame(room_name(c.group), 1));
      if (c.role == churner_role) {
        auto& e = events[c.session];
        e.join_sent = now;
        e.room = c.group;
      }
    } else if (kind == msg_kind::subscribed && !c.ready) {
      c.ready = true;
      c.t_sent = now; // subscribed at
      if (c.role == member_role) {
        ++members_ready;
      } else {
        ++churners_joined;
      }
    } else if (kind == msg_kind::presence_diff && c.role == member_role && c.ready) {
      ++diffs;
      scan(msg, "\"joins\":[", now, true);
      scan(msg, "\"leaves\":[", now, false);
    } else if (kind == msg_kind::error) {
      ++errors;
    }
  }

  void on_closed(connection& c, int64_t) override {
    if (c.failed) {
      ++failed;
    } else if (c.role == member_role && !stopping) {
      ++members_lost;
    } else if (c.role == churner_role) {
      ++churners_closed;
      if (c.close_code != 1000 && c.close_code != 1005) {
        ++churner_bad_close;
      }
    }
  }

  std::string room_name(uint32_t room) const {
    return o_.room_prefix + std::to_string(room);
  }

  const options& o_;
  peer proto_;
  event_loop loop;
  std::unordered_map<std::string, event_times> events;
  latency_histogram join_hist;
  latency_histogram leave_hist;
  uint64_t members_ready = 0;
  uint64_t members_lost = 0;
  uint64_t churners_joined = 0;
  uint64_t churners_closed = 0;
  uint64_t churner_bad_close = 0;
  uint64_t diffs = 0;
  uint64_t join_seen = 0;
  uint64_t leave_seen = 0;
  uint64_t unknown_sessions = 0;
  uint64_t errors = 0;
  uint64_t failed = 0;
  bool stopping = false;

private:
  /// Finds every "session":"..." inside the list that starts at `key`.
  void scan(std::string_view msg, std::string_view key, int64_t now, bool join) {
    auto start = msg.find(key);
    if (start == std::string_view::npos) {
      return;
    }
    auto end = msg.find(']', start);
    auto list = msg.substr(start, end == std::string_view::npos ? msg.size() - start : end - start);
    std::size_t pos = 0;
    while (true) {
      auto id = find_str(list, "\"session\":\"", pos);
      if (id.empty()) {
        return;
      }
      pos = static_cast<std::size_t>(id.data() + id.size() - list.data());
      auto i = events.find(std::string(id));
      if (i == events.end()) {
        ++unknown_sessions;
        continue;
      }
      if (join && i->second.join_sent != 0) {
        join_hist.record(now - i->second.join_sent);
        ++join_seen;
      } else if (!join && i->second.leave_sent != 0) {
        leave_hist.record(now - i->second.leave_sent);
        ++leave_seen;
      }
    }
  }
};

} // namespace

std::vector<result> run_churn(const options& o) {
  raise_fd_limit();
  peer proto(o.peer);
  auto ep = endpoint::make(o.targets[0], proto.subprotocol());
  server_probe probe(o.server_pids);
  progress_line line(o.progress);
  churn_runner run(o, o.connect_concurrency);
  auto rooms = std::max<std::size_t>(1, o.rooms);
  auto members = rooms * o.room_size;
  std::size_t src = 0;
  auto source = [&] { return ep.loopback ? loopback_source(src++, o.source_ips) : 0u; };
  for (std::size_t i = 0; i < members; ++i) {
    auto& c = run.loop.open(ep, 0, source());
    c.role = churn_runner::member_role;
    c.group = static_cast<uint32_t>(i % rooms);
  }
  auto deadline = now_ns() + o.connect_timeout_ms * ns_per_ms;
  while (run.members_ready + run.failed < members && now_ns() < deadline) {
    run.loop.run_once(5);
  }
  auto settle_until = now_ns() + o.settle_ms * ns_per_ms;
  while (now_ns() < settle_until) {
    run.loop.run_once(5);
  }
  auto before = probe.sample();

  // Churn: open at the rate, each closes hold_ms after it subscribed.
  auto t0 = now_ns();
  auto end = t0 + static_cast<int64_t>(o.duration_s * 1e9);
  auto interval = static_cast<int64_t>(1e9 / std::max(o.churn_rate, 0.001));
  uint64_t started = 0;
  std::vector<connection*> live;
  int64_t last = 0;
  while (true) {
    auto now = now_ns();
    while (now < end && t0 + static_cast<int64_t>(started) * interval <= now) {
      auto& c = run.loop.open(ep, 0, source());
      c.role = churn_runner::churner_role;
      c.group = static_cast<uint32_t>(started % rooms);
      live.push_back(&c);
      ++started;
    }
    for (auto*& c : live) {
      if (c != nullptr && c->ready && c->state == conn_state::open
          && now - c->t_sent >= o.hold_ms * ns_per_ms) {
        run.events[c->session].leave_sent = now;
        c->close(1000);
        c = nullptr;
      } else if (c != nullptr && c->state == conn_state::closed) {
        c = nullptr;
      }
    }
    bool any_live = false;
    for (auto* c : live) {
      any_live = any_live || c != nullptr;
    }
    if (now >= end && !any_live) {
      break;
    }
    if (now >= end + (o.hold_ms + o.drain_ms) * ns_per_ms) {
      break;
    }
    run.loop.run_once(1);
    if (now - last > 500 * ns_per_ms) {
      char buf[200];
      std::snprintf(buf, sizeof(buf),
                    "[churn] t=%.1fs started=%llu joined=%llu closed=%llu "
                    "join_p99=%.1fms leave_p99=%.1fms",
                    static_cast<double>(now - t0) / 1e9, static_cast<unsigned long long>(started),
                    static_cast<unsigned long long>(run.churners_joined),
                    static_cast<unsigned long long>(run.churners_closed),
                    static_cast<double>(run.join_hist.quantile(0.99)) / 1e6,
                    static_cast<double>(run.leave_hist.quantile(0.99)) / 1e6);
      line.show(buf);
      last = now;
    }
  }
  // Let the last leaves arrive, then let the server release what the churners held.
  auto drain_until = now_ns() + 3 * ns_per_s;
  while (now_ns() < drain_until) {
    run.loop.run_once(5);
  }
  auto after = probe.sample();
  line.finish();
  run.stopping = true;

  auto room_members = static_cast<double>(o.room_size);
  result r;
  r.scenario = "churn";
  r.label = to_string(o.peer);
  r.add("rooms", static_cast<double>(rooms));
  r.add("members", static_cast<double>(run.members_ready));
  r.add("churn_per_s", o.churn_rate);
  r.add("hold_ms", o.hold_ms);
  r.add("churners", static_cast<double>(started));
  r.add("churners_joined", static_cast<double>(run.churners_joined));
  r.add("join_diffs_seen", static_cast<double>(run.join_seen));
  r.add("join_diffs_expected", static_cast<double>(run.churners_joined) * room_members);
  r.add("leave_diffs_seen", static_cast<double>(run.leave_seen));
  r.add("leave_diffs_expected", static_cast<double>(run.churners_closed) * room_members);
  r.add("join_p50_ms", static_cast<double>(run.join_hist.quantile(0.5)) / 1e6);
  r.add("join_p99_ms", static_cast<double>(run.join_hist.quantile(0.99)) / 1e6);
  r.add("join_max_ms", static_cast<double>(run.join_hist.max()) / 1e6);
  r.add("leave_p50_ms", static_cast<double>(run.leave_hist.quantile(0.5)) / 1e6);
  r.add("leave_p99_ms", static_cast<double>(run.leave_hist.quantile(0.99)) / 1e6);
  r.add("leave_max_ms", static_cast<double>(run.leave_hist.max()) / 1e6);
  r.add("errors", static_cast<double>(run.errors));
  r.add("failed_connects", static_cast<double>(run.failed));
  r.add("members_lost", static_cast<double>(run.members_lost));
  r.add("churner_abnormal_closes", static_cast<double>(run.churner_bad_close));
  r.add("unknown_sessions", static_cast<double>(run.unknown_sessions));
  if (probe.enabled()) {
    r.add("server_fds_before", static_cast<double>(before.fds));
    r.add("server_fds_after", static_cast<double>(after.fds));
    r.add("server_rss_before_mb", static_cast<double>(before.rss_kb) / 1024);
    r.add("server_rss_after_mb", static_cast<double>(after.rss_kb) / 1024);
  }
  return {r};
}

} // namespace plexus::bench
