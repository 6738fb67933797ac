#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/harness/client.hpp"
#include "bench/harness/latency.hpp"
#include "bench/harness/peer.hpp"

namespace plexus::bench {

/// A run of publishes at one rate (a sweep has several, back to back).
struct pubsub_step {
  double rate = 0; // publishes/s; 0 = window mode (as fast as delivered)
  uint64_t first_seq = 0;
  uint64_t count = 0;
  int64_t start_offset = 0; // ns after t0
  int64_t end_offset = 0;   // ns after t0 of its last intended send
};

/// What fanout, rooms, slow and cluster runs are made of.
struct pubsub_plan {
  std::vector<std::string> channels;
  std::size_t subscribers = 0;
  std::size_t room_size = 0; // subscriber i joins channels[(i / room_size) % channels.size()]
  std::size_t publishers = 1;
  std::vector<pubsub_step> steps;
  uint64_t total_messages = 0;
  std::size_t window = 0; // > 0: window mode
  std::size_t payload = 64;
  std::size_t slow = 0;
  int slow_rcvbuf = 4096;
  bool personal = false;
  int64_t window_ns = 1000000000; // width of the time windows of window_hist

  std::size_t channel_of_subscriber(std::size_t i) const {
    return (i / room_size) % channels.size();
  }
  bool is_slow(std::size_t i) const {
    return slow > 0 && i % (subscribers / slow) == 0 && i / (subscribers / slow) < slow;
  }
  std::size_t step_of(uint64_t seq) const;
  /// Intended send time of `seq`, ns after t0 (rate mode).
  int64_t intended_offset(uint64_t seq) const;
};

/// Run phases, advanced by the main thread only.
enum class pubsub_phase : int { connect, settle, publish, drain, resume_slow, stop };

/// Shared between the main thread and the loop threads. Everything a loop thread writes
/// here is an atomic; the plan and `expected` are written before the phase that reads them.
struct pubsub_shared {
  explicit pubsub_shared(const pubsub_plan& p);

  const pubsub_plan& plan;
  peer proto;
  std::atomic<pubsub_phase> phase{pubsub_phase::connect};
  std::atomic<int64_t> t0{0};
  std::atomic<uint64_t> published{0};
  std::atomic<bool> publishing_done{false};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> ready{0};
  std::atomic<uint64_t> settled{0}; // ready or closed before ready
  std::atomic<uint64_t> slow_closed{0};
  std::atomic<int64_t> interval_max_ns{0};
  std::unique_ptr<std::atomic<uint32_t>[]> ready_per_channel; // fast subscribers ready
  std::vector<uint32_t> expected;                             // snapshot of the above
  std::unique_ptr<std::atomic<uint32_t>[]> seq_counts;        // window mode: per message
};

/// One event loop and the subscribers (and, on loop 0, the publishers) it drives.
class pubsub_worker : public conn_events {
public:
  pubsub_worker(pubsub_shared& sh, std::size_t index, std::size_t max_pending);

  /// Queues subscriber `i` to `ep` (before the thread starts).
  void add_subscriber(const endpoint& ep, std::size_t i, uint32_t source_ip);
  /// Queues a publisher (loop 0, before the thread starts).
  void add_publisher(const endpoint& ep, uint32_t source_ip);

  /// The thread body: runs until the stop phase.
  void run();

  void on_open(connection& c, int64_t now) override;
  void on_message(connection& c, std::string_view msg, int64_t now) override;
  void on_closed(connection& c, int64_t now) override;

  // Read by the main thread after join().
  std::vector<latency_histogram> step_hist;   // fast subscribers, per step
  std::vector<latency_histogram> window_hist; // fast subscribers, per window of intended time
  std::vector<uint64_t> step_deliveries;
  std::vector<int64_t> step_first_rx;
  std::vector<int64_t> step_last_rx;
  std::map<uint16_t, uint64_t> close_codes; // of subscribers closed before the stop
  std::map<uint16_t, uint64_t> slow_close_codes;
  uint64_t errors = 0;
  uint64_t failed_connects = 0;
  uint64_t unexpected_closes = 0;
  uint64_t foreign = 0; // deliveries without a timestamp

  event_loop loop;

private:
  enum role : int { subscriber_role = 1, publisher_role = 2 };

  void became_ready(connection& c);
  void subscribe(connection& c, std::string_view welcome);
  void deliver(connection& c, std::string_view msg, int64_t now);
  void tick(int64_t now);
  void publish_due(int64_t now);
  void publish_window(int64_t now);
  void send_one(uint64_t seq, int64_t stamp);

  pubsub_shared& sh_;
  std::size_t index_;
  std::vector<connection*> pubs_;
  std::vector<connection*> slow_;
  uint64_t next_seq_ = 0;
  uint64_t completed_ = 0;
  bool resumed_ = false;
  std::string data_;  // reused payload buffer
  std::string frame_; // reused publish frame buffer
};

} // namespace plexus::bench
