#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "bench/harness/peer.hpp"
#include "bench/harness/url.hpp"

namespace plexus::bench {

/// Every command-line setting of plexus-bench. Counts left at 0 (or a rate at -1) take the
/// scenario's default, which main() fills in before the scenario runs.
struct options {
  std::string scenario;
  std::vector<ws_url> targets; // --target, at least one
  peer_kind peer = peer_kind::plexus;
  std::vector<int> server_pids;          // --server-pid: /proc sampling of CPU, RSS, fds
  bool json = false;                     // one JSON line per result on stdout, no table
  bool progress = true;                  // the live line on stderr
  std::size_t threads = 1;               // load-generator event loops (subscribers are spread)
  std::size_t connect_concurrency = 256; // connects in flight per loop
  std::size_t source_ips = 32;           // loopback source addresses 127.0.0.1..N (0 = don't bind)
  std::string channel = "bench";

  std::size_t connections = 0;   // echo, connect, rooms, slow
  std::size_t subscribers = 0;   // fanout, slow, cluster
  std::size_t messages = 0;      // fanout: total publishes (0 = rate x duration)
  double rate = -1;              // publishes/s; 0 = as fast as delivered (window)
  std::size_t payload = 64;      // bytes of `data` JSON, timestamp included
  double duration_s = 0;         // of the measured phase (per sweep step for rooms)
  std::size_t window = 0;        // rate 0: publishes in flight
  std::size_t publishers = 0;    // publisher connections
  std::size_t rooms = 0;         // rooms, churn
  std::size_t room_size = 10;    // rooms: members per room
  std::vector<double> sweep;     // rooms: publish rates to step through
  std::size_t slow = 20;         // slow: subscribers that stop reading
  int slow_rcvbuf = 4096;        // slow: their SO_RCVBUF
  double churn_rate = 0;         // churn: new connections per second
  int hold_ms = 0;               // churn: how long each churning connection stays
  bool personal = false;         // rooms: also subscribe each connection to user:<id>
  std::string echo_mode = "app"; // echo: app (plexus ping/pong), wsping, echo (/ws/echo)
  int drain_ms = 5000;           // after the last send, wait this long for stragglers
  int settle_ms = 1000;          // after connecting, before measuring
  int connect_timeout_ms = 60000;
  std::string room_prefix; // rooms: channel prefix; churn: the presence namespace
};

} // namespace plexus::bench
