#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "actors/outbox.hpp"

namespace plexus::net {

class ws_connection;

/// One I/O thread with its own event loop. A connection lives on one worker for its whole
/// life, and its socket, reader, writer and outgoing queues are only touched from that
/// thread: no strands and no per-connection locks.
///
/// Other threads (rooms, sessions) hand frames to the worker's inbox: one entry per frame
/// and target list (a room's broadcast is one entry for all its subscribers on this
/// worker), under one short lock, with one wake-up per burst. The worker then moves each
/// frame into its connections' queues (slow-consumer policy applied there) and writes every
/// connection that got something: a round of flushes.
class io_worker : public actors::outbox_sink {
public:
  explicit io_worker(std::size_t index);
  ~io_worker() override;
  io_worker(const io_worker&) = delete;
  io_worker& operator=(const io_worker&) = delete;

  boost::asio::io_context& context() {
    return ioc_;
  }
  std::size_t index() const {
    return index_;
  }
  /// True on this worker's thread.
  bool in_thread() const {
    return thread_id_.load(std::memory_order_relaxed) == std::this_thread::get_id();
  }

  /// Starts the thread; `sweep_every` is how often connections are checked for heartbeats
  /// and timeouts.
  void start(std::chrono::milliseconds sweep_every);
  /// Stops the loop and joins the thread.
  void stop();

  // -- any thread ---------------------------------------------------------------------

  /// Queues `f` for each connection of `targets` (all on this worker).
  void push_all(actors::frame_ptr f, actors::slow_consumer_policy policy,
                actors::outbox_list targets) override;
  /// Queues `f` for one connection of this worker.
  void push_one(actors::frame_ptr f, actors::slow_consumer_policy policy,
                std::shared_ptr<ws_connection> target);

  // -- worker thread only -------------------------------------------------------------

  /// Puts `c` in this round's flushes, once (a round is posted when none is coming).
  void mark_dirty(ws_connection* c);

  /// Registers an open connection for the periodic sweep.
  void attach(std::shared_ptr<ws_connection> c);
  /// Unregisters it (on close).
  void detach(ws_connection* c);

  /// Calls `f(conn)` for every open connection.
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
  /// One hand-off from another thread: a frame for one connection or for a list of them.
  struct delivery {
    actors::frame_ptr f;
    actors::slow_consumer_policy policy;
    actors::outbox_list many;
    std::shared_ptr<ws_connection> one;
  };

  void enqueue(delivery d);
  void post_round(); // with inbox_mu_ held
  void run_round();
  void take_inbox();
  void on_sweep();

  std::size_t index_;
  boost::asio::io_context ioc_{1};
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_{}; // set before the thread runs a handler
  boost::asio::steady_timer sweep_timer_;
  std::chrono::milliseconds sweep_every_{1000};

  // Shared with pushing threads, under inbox_mu_.
  std::mutex inbox_mu_;
  std::vector<delivery> inbox_;
  bool round_posted_ = false;
  std::atomic<bool> inbox_waiting_{false}; // read mid-round without the lock

  // Worker thread only.
  std::vector<delivery> taken_;       // swapped out of inbox_
  std::vector<delivery> held_;        // distributed this round: keeps their targets alive
  std::vector<ws_connection*> dirty_; // to flush this round
  std::vector<std::shared_ptr<ws_connection>> retired_; // detached, released after a round
  bool in_round_ = false;
  std::vector<std::shared_ptr<ws_connection>> connections_;
};

} // namespace plexus::net
