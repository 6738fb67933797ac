#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace plexus::cluster {

/// The node's ZeroMQ sockets and the one thread that touches them (ZeroMQ sockets are not
/// thread-safe). A ROUTER bound on `cluster.bind` receives everything other members send;
/// a DEALER per peer, connected to that peer's ROUTER, sends to it. Both directions of a
/// pair are thus single ordered streams: a room's snapshot and the messages after it
/// arrive in the order they were sent.
///
/// Other threads hand work over through a mutex-protected queue and wake the thread with
/// an eventfd that zmq_poll watches next to the ROUTER: no busy polling, no timer tick.
/// Received bytes go to `on_receive` on the transport thread (which decodes and posts
/// them to the router actor).
class transport {
public:
  using receive_fn = std::function<void(std::string bytes)>;
  /// Called on the transport thread with the tag of a tagged send that could not leave.
  using drop_fn = std::function<void(uint64_t tag)>;

  struct counters {
    std::atomic<uint64_t> sent{0};
    std::atomic<uint64_t> received{0};
    std::atomic<uint64_t> dropped{0}; // peer unreachable or its queue full
  };

  explicit transport(std::string node_name);
  ~transport();
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  /// Binds the ROUTER on host:port. Throws std::runtime_error naming cluster.bind.
  void bind(const std::string& host_port);
  /// Starts the thread; `on_receive` and `on_drop` run on it.
  void start(receive_fn on_receive, drop_fn on_drop = {});
  /// Stops the thread, giving queued sends up to `linger` to leave. Idempotent.
  void stop(std::chrono::milliseconds linger = std::chrono::milliseconds(0));

  /// Queues `bytes` for every endpoint (host:port); a DEALER is created on first use.
  /// Thread-safe, never blocks.
  void send(std::vector<std::string> endpoints, std::string bytes);
  /// As above for one endpoint; a non-zero `tag` is reported to `on_drop` when the message
  /// cannot be queued (no live connection, queue full), so a request fails at once
  /// instead of waiting for its timeout.
  void send(const std::string& endpoint, std::string bytes, uint64_t tag = 0);
  /// Opens the DEALER to `endpoint` now, so the first message to a new member does not
  /// find the connection still being set up. Thread-safe.
  void connect(const std::string& endpoint);
  /// Closes the DEALER to `endpoint` (a member that is gone for good). Thread-safe.
  void forget(const std::string& endpoint);

  const counters& stats() const {
    return stats_;
  }

private:
  struct command;
  struct impl;

  void post(command c);
  void run();

  std::string node_name_;
  std::unique_ptr<impl> impl_;
  int wake_fd_ = -1;
  std::mutex mu_;
  std::vector<command> queue_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::chrono::milliseconds linger_{0};
  receive_fn on_receive_;
  drop_fn on_drop_;
  counters stats_;
};

} // namespace plexus::cluster
