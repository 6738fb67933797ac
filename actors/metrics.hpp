#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "actors/errc.hpp"

namespace plexus::actors {

/// Why something was refused: the `reason` label of plexus_rejected_total.
enum class rejection : uint8_t {
  bad_request,
  unknown_type,
  invalid_channel,
  permission_denied,
  not_subscribed,
  rate_limited,
  too_large,
  internal,
  too_many_subscriptions,
  unauthorized,      // missing/invalid/expired token (401)
  bad_origin,        // 403
  ip_rate,           // 429 too many connections from one address
  node_full,         // 503 over max_connections
  draining,          // 503 while draining
  bad_upgrade,       // 400 malformed upgrade
  not_found,         // 404
  bad_api_key,       // 401 on the server API
  handshake_timeout, // slowloris
  protocol_error,    // 1002 close
  invalid_utf8,      // 1007 close
  message_too_big,   // 1009 close
  rate_limit_close,  // 4008 close
  heartbeat_timeout, // peer stopped answering pings
  token_expired,     // 4001 close
  method_not_allowed,
  cluster_peer,      // refused cluster envelope (bad MAC, version, garbage)
  fd_limit,          // connection refused: the node is out of file descriptors
  count_             // number of reasons; keep last
};

const char* to_string(rejection r);

/// The rejection reason counted for an error frame with code `code`.
rejection rejection_for(errc code);

/// Fixed-bucket latency histogram (seconds), lock-free.
class histogram {
public:
  static constexpr std::array<double, 14> bounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                    0.0025,  0.005,  0.01,    0.025,  0.05,
                                                    0.1,     0.25,   0.5,     1.0};
  void observe(double seconds);
  /// Appends the Prometheus exposition of this histogram named `name`.
  void render(std::string& out, const char* name, const char* help) const;

private:
  std::array<std::atomic<uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

/// The node's counters and gauges (PROTOCOL.md "Metrics"). One instance per node, shared
/// by reference with every component; all members are atomics, so updates need no lock.
struct metrics {
  std::atomic<int64_t> connections{0};
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> messages_in_total{0};
  std::atomic<uint64_t> messages_out_total{0};
  std::atomic<uint64_t> bytes_out_total{0};
  std::atomic<int64_t> rooms{0};
  std::atomic<int64_t> presence_members{0};
  std::atomic<uint64_t> slow_consumers_total{0};
  std::atomic<uint64_t> recovery_hits_total{0};
  std::atomic<uint64_t> recovery_misses_total{0};
  std::atomic<int64_t> cluster_members_up{0};
  std::atomic<int64_t> cluster_members_suspect{0};
  std::atomic<int64_t> cluster_members_down{0};
  std::atomic<uint64_t> cluster_messages_in_total{0};
  std::atomic<uint64_t> cluster_messages_out_total{0};
  std::atomic<uint64_t> cluster_messages_dropped_total{0}; // peer queue full or unknown
  std::atomic<int64_t> cluster_rooms_owned{0};
  std::atomic<int64_t> cluster_handoffs_pending{0};
  std::atomic<uint64_t> cluster_room_moves_total{0};    // hand-offs sent + state taken over
  std::atomic<uint64_t> cluster_epoch_changes_total{0}; // a room's stream restarted
  std::atomic<uint64_t> cluster_stream_gaps_total{0};   // follower had to resync
  std::array<std::atomic<uint64_t>, static_cast<std::size_t>(rejection::count_)> rejected{};
  histogram publish_latency;

  void reject(rejection r) {
    rejected[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t rejected_count(rejection r) const {
    return rejected[static_cast<std::size_t>(r)].load(std::memory_order_relaxed);
  }

  /// The Prometheus text exposition of every metric.
  std::string render() const;
};

} // namespace plexus::actors
