// plexus-bench: load generator and scenarios for plexus and comparable servers.
// See bench/README.md for the scenarios, the flags and how to read the numbers.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "bench/harness/client.hpp"
#include "bench/harness/compare_table.hpp"
#include "bench/harness/options.hpp"
#include "bench/harness/scenarios.hpp"

namespace {

using plexus::bench::options;

template <class T>
void default_to(T& v, T fallback) {
  if (v == T{}) {
    v = fallback;
  }
}

/// Fills what the user left unset with the scenario's defaults (each bounded < 1 min).
void apply_defaults(options& o) {
  if (o.scenario == "echo") {
    if (o.rate < 0) {
      o.rate = 0; // closed loop: the next request goes out when the answer is in
    }
    default_to<std::size_t>(o.connections, 100);
    default_to(o.duration_s, 10.0);
  } else if (o.scenario == "connect") {
    default_to<std::size_t>(o.connections, 10000);
    default_to(o.duration_s, 2.0);
    default_to(o.connect_timeout_ms, 50000);
  } else if (o.scenario == "fanout" || o.scenario == "cluster") {
    default_to<std::size_t>(o.subscribers, 1000);
    default_to(o.duration_s, 15.0);
    if (o.rate < 0) {
      o.rate = 1000;
    }
    if (o.rate == 0) {
      default_to<std::size_t>(o.messages, 20000);
      default_to<std::size_t>(o.window, 16);
    }
  } else if (o.scenario == "rooms") {
    default_to<std::size_t>(o.connections, 10000);
    default_to<std::size_t>(o.rooms, o.connections / std::max<std::size_t>(1, o.room_size));
    default_to<std::size_t>(o.publishers, 10);
    default_to(o.duration_s, 5.0);
    if (o.sweep.empty()) {
      o.sweep = {1000, 2000, 5000, 10000};
    }
    default_to(o.room_prefix, std::string("bench-room-"));
  } else if (o.scenario == "slow") {
    default_to<std::size_t>(o.connections, 1000);
    default_to(o.duration_s, 20.0);
    if (o.rate < 0) {
      o.rate = 500; // ~0.5 M deliveries/s: well inside what a node serves, so only the
                    // stalled readers can disturb the fast ones
    }
    if (o.payload == 64) {
      o.payload = 2048; // ~1 MB/s per reader: fills a stalled one's 4 MiB queue in seconds
    }
  } else if (o.scenario == "churn") {
    default_to<std::size_t>(o.rooms, 100);
    default_to(o.churn_rate, 100.0);
    default_to(o.hold_ms, 2000);
    default_to(o.duration_s, 20.0);
    default_to(o.room_prefix, std::string("room:churn-"));
  }
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"plexus-bench: WebSocket load generator and scenarios (echo, connect, fanout, "
               "rooms, churn, slow, cluster; compare-table reads --json lines)"};
  options o;
  std::vector<std::string> targets;
  std::string peer_name = "plexus";
  std::string input;
  bool no_progress = false;
  app
    .add_option("scenario", o.scenario,
                "echo|connect|fanout|rooms|churn|slow|cluster; compare-table and table read "
                "--json lines (--input or stdin)")
    ->required()
    ->check(CLI::IsMember({"echo", "connect", "fanout", "rooms", "churn", "slow", "cluster",
                           "compare-table", "table"}));
  app.add_option("--target", targets, "ws://host:port/path (repeat for cluster)");
  app.add_option("--peer", peer_name, "plexus|ws-broadcast|nchan|socketio|floor")
    ->capture_default_str();
  app.add_option("--server-pid", o.server_pids, "server process(es) to sample CPU/RSS/fds from");
  app.add_flag("--json", o.json, "one JSON line per result instead of the table");
  app.add_flag("--no-progress", no_progress, "no live progress line on stderr");
  app.add_option("--threads", o.threads, "load-generator event loops")->capture_default_str();
  app.add_option("--connect-concurrency", o.connect_concurrency, "connects in flight per loop")
    ->capture_default_str();
  app
    .add_option("--source-ips", o.source_ips,
                "spread loopback connections over 127.0.0.1..N (0 = no bind)")
    ->capture_default_str();
  app.add_option("--channel", o.channel, "fanout channel")->capture_default_str();
  app.add_option("--connections", o.connections, "echo/connect/rooms/slow connections");
  app.add_option("--subscribers", o.subscribers, "fanout/cluster subscribers");
  app.add_option("--messages", o.messages, "fanout: publishes (default rate x duration)");
  app.add_option("--rate", o.rate,
                 "publishes/s (echo: requests/s over all connections); 0 = as fast as "
                 "delivered (fanout: window; echo: closed loop)");
  app.add_option("--payload", o.payload, "bytes of each publish's data")->capture_default_str();
  app.add_option("--duration", o.duration_s, "seconds of the measured phase (per sweep step)");
  app.add_option("--window", o.window, "rate 0: publishes in flight");
  app.add_option("--publishers", o.publishers, "publisher connections");
  app.add_option("--rooms", o.rooms, "rooms/churn: number of rooms");
  app.add_option("--room-size", o.room_size, "members per room")->capture_default_str();
  app.add_option("--room-prefix", o.room_prefix, "rooms/churn channel prefix");
  app.add_option("--sweep", o.sweep, "rooms: publish rates to step through")->delimiter(',');
  app.add_option("--slow", o.slow, "slow: subscribers that stop reading")->capture_default_str();
  app.add_option("--slow-rcvbuf", o.slow_rcvbuf, "slow: their SO_RCVBUF")->capture_default_str();
  app.add_option("--churn-rate", o.churn_rate, "churn: connections per second");
  app.add_option("--hold-ms", o.hold_ms, "churn: how long each churner stays");
  app.add_flag("--personal", o.personal, "rooms: also subscribe to user:<id>");
  app
    .add_option("--echo-mode", o.echo_mode, "echo: app (ping/pong frames), wsping, echo (/ws/echo)")
    ->check(CLI::IsMember({"app", "wsping", "echo"}))
    ->capture_default_str();
  app.add_option("--drain-ms", o.drain_ms, "wait for stragglers after the last send")
    ->capture_default_str();
  app.add_option("--settle-ms", o.settle_ms, "pause after connecting")->capture_default_str();
  app.add_option("--connect-timeout-ms", o.connect_timeout_ms, "give up connecting after this")
    ->capture_default_str();
  app.add_option("--input", input, "compare-table: file of --json lines (default stdin)");
  CLI11_PARSE(app, argc, argv);

  if (o.scenario == "compare-table" || o.scenario == "table") {
    std::ifstream file;
    if (!input.empty()) {
      file.open(input);
    }
    auto rs = plexus::bench::read_json_lines(input.empty() ? std::cin : file);
    auto text
      = o.scenario == "table" ? plexus::bench::to_table(rs) : plexus::bench::compare_table(rs);
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  auto peer = plexus::bench::parse_peer(peer_name);
  if (!peer) {
    spdlog::error("unknown --peer {}", peer_name);
    return 2;
  }
  o.peer = *peer;
  if (targets.empty()) {
    targets.push_back("ws://127.0.0.1:8080/ws");
  }
  for (const auto& t : targets) {
    auto u = plexus::bench::parse_ws_url(t);
    if (!u) {
      spdlog::error("--target {}: expected ws://host:port/path", t);
      return 2;
    }
    o.targets.push_back(*u);
  }
  if (o.scenario == "cluster" && o.targets.size() < 2) {
    spdlog::warn("cluster: only one --target given; subscribers all go to it");
  }
  o.progress = !no_progress;
  apply_defaults(o);
  // A fresh channel per run unless one was given: a run then never meets a room (or its
  // history) left over from the previous run.
  if (app.count("--channel") == 0) {
    o.channel += "_" + std::to_string(::getpid());
  }
  if (app.count("--room-prefix") == 0 && !o.room_prefix.empty()) {
    o.room_prefix += std::to_string(::getpid()) + "_";
  }
  plexus::bench::raise_fd_limit();

  std::vector<plexus::bench::result> results;
  try {
    if (o.scenario == "echo") {
      results = plexus::bench::run_echo(o);
    } else if (o.scenario == "connect") {
      results = plexus::bench::run_connect(o);
    } else if (o.scenario == "churn") {
      results = plexus::bench::run_churn(o);
    } else {
      results = plexus::bench::run_pubsub(o);
    }
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", o.scenario, e.what());
    return 1;
  }
  if (o.json) {
    for (const auto& r : results) {
      std::printf("%s\n", plexus::bench::to_json(r).c_str());
    }
  } else {
    std::fputs(plexus::bench::to_table(results).c_str(), stdout);
  }
  return 0;
}
