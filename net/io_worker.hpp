#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace plexus::net {

class ws_connection;

/// One I/O thread with its own event loop. A connection lives on one worker for its whole
/// life, so its socket, reader and writer are only touched from that thread: no strands
/// and no locks on the read path. Other threads (room actors) reach a connection only
/// through `schedule_flush`, which batches wake-ups: one post per worker per burst, not
/// one per delivery.
class io_worker {
public:
  explicit io_worker(std::size_t index);
  ~io_worker();
  io_worker(const io_worker&) = delete;
  io_worker& operator=(const io_worker&) = delete;

  boost::asio::io_context& context() {
    return ioc_;
  }
  std::size_t index() const {
    return index_;
  }

  /// Starts the thread; `sweep_every` is how often connections are checked for heartbeats
  /// and timeouts.
  void start(std::chrono::milliseconds sweep_every);
  /// Stops the loop and joins the thread.
  void stop();

  /// Asks the worker thread to flush `c`'s queue. Thread-safe.
  void schedule_flush(std::shared_ptr<ws_connection> c);

  /// Registers an open connection for the periodic sweep. Worker thread only.
  void attach(std::shared_ptr<ws_connection> c);
  /// Unregisters it (on close). Worker thread only.
  void detach(ws_connection* c);

  /// Calls `f(conn)` for every open connection. Worker thread only.
  template <class F>
  void for_each_connection(F&& f) {
    auto copy = connections_;
    for (auto& c : copy) {
      f(*c);
    }
  }

  std::size_t connection_count() const {
    return connections_.size();
  }

private:
  void drain_flushes();
  void on_sweep();

  std::size_t index_;
  boost::asio::io_context ioc_{1};
  std::thread thread_;
  boost::asio::steady_timer sweep_timer_;
  std::chrono::milliseconds sweep_every_{1000};
  std::mutex flush_mu_;
  std::vector<std::shared_ptr<ws_connection>> flush_pending_;
  std::vector<std::shared_ptr<ws_connection>> flush_running_;
  bool flush_posted_ = false;
  std::vector<std::shared_ptr<ws_connection>> connections_;
};

} // namespace plexus::net
