#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "actors/outbox.hpp"

namespace plexus::net {

class ws_connection;

/// One I/O thread with its own event loop. A connection lives on one worker for its whole
/// life, and its socket, reader, writer and outgoing queues are only touched from that
/// thread: no strands and no per-connection locks.
///
/// Plain WebSocket sockets are registered once, edge-triggered, in the worker's own epoll
/// set, whose descriptor the Asio loop waits on: Asio's `async_wait` re-arms a descriptor
/// with `epoll_ctl` on every wait, a syscall per received message (7 % of the CPU of an
/// echo load). HTTP, the upgrade and TLS stay on Asio.
///
/// Other threads (rooms, sessions) hand frames to the worker's inbox: one entry per frame
/// and target list (a room's broadcast is one entry for all its subscribers on this
/// worker), under one short lock, with one wake-up per burst. The worker moves each frame
/// into its connections' queues (slow-consumer policy applied there) and appends every
/// connection that got something to a FIFO of connections to write.
///
/// The FIFO is written in chunks of a few hundred connections, each chunk its own handler:
/// between two chunks the event loop reads sockets and the actors sharing the core run. A
/// publish read mid-way through writing 10,000 connections thus reaches the connections
/// still waiting in this pass, instead of waiting for the whole pass to end first.
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

  /// Appends `c` to the connections to write, unless it is already waiting there.
  void mark_dirty(ws_connection* c);

  /// Watches plain socket `fd` of `c` for reads and writability (edge-triggered) until
  /// `unwatch`; `c` gets `on_events`. False when epoll refuses it.
  bool watch(ws_connection* c, int fd);
  void unwatch(int fd);

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
  void write_chunk(bool continuation);
  void take_inbox();
  void wait_events();
  void on_events();
  void on_sweep();

  std::size_t index_;
  boost::asio::io_context ioc_{1};
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_{}; // set before the thread runs a handler
  boost::asio::steady_timer sweep_timer_;
  int epoll_fd_;                                  // plain WebSocket sockets
  boost::asio::posix::stream_descriptor events_; // owns epoll_fd_, waited on by the loop
  std::chrono::milliseconds sweep_every_{1000};

  // Shared with pushing threads, under inbox_mu_.
  std::mutex inbox_mu_;
  std::vector<delivery> inbox_;
  bool inbox_posted_ = false;              // a write_chunk is coming that takes the inbox
  std::atomic<bool> inbox_waiting_{false}; // read without the lock

  // Worker thread only.
  std::vector<delivery> taken_;                      // swapped out of inbox_
  std::deque<std::shared_ptr<ws_connection>> dirty_; // to write, in order
  bool chunk_posted_ = false;                        // a continuation is coming
  std::vector<std::shared_ptr<ws_connection>> connections_;
};

} // namespace plexus::net
