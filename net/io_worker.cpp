#include "net/io_worker.hpp"

#include <sched.h>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "net/ws_connection.hpp"

namespace plexus::net {

namespace {
constexpr std::size_t yield_every = 128; // flushes between two sched_yield calls
} // namespace

io_worker::io_worker(std::size_t index) : index_(index), sweep_timer_(ioc_) {
  // nop
}

io_worker::~io_worker() {
  stop();
}

void io_worker::start(std::chrono::milliseconds sweep_every) {
  sweep_every_ = sweep_every;
  sweep_timer_.expires_after(sweep_every_);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      on_sweep();
    }
  });
  thread_ = std::thread([this] {
    // A worker must survive anything a handler throws: log it and keep serving.
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("io worker {}: handler threw: {}", index_, e.what());
      }
    }
  });
}

void io_worker::stop() {
  if (!thread_.joinable()) {
    return;
  }
  ioc_.stop();
  thread_.join();
  // Connections still open now never finish their close handshake; close them here so
  // their session actors hear about it and the actor system can shut down.
  auto left = connections_;
  for (auto& c : left) {
    c->abort();
  }
  connections_.clear();
  std::lock_guard<std::mutex> guard{flush_mu_};
  flush_pending_.clear();
}

void io_worker::schedule_flush(std::shared_ptr<ws_connection> c) {
  std::lock_guard<std::mutex> guard{flush_mu_};
  flush_pending_.push_back(std::move(c));
  if (!flush_posted_) {
    flush_posted_ = true;
    boost::asio::post(ioc_, [this] { drain_flushes(); });
  }
}

void io_worker::drain_flushes() {
  {
    std::lock_guard<std::mutex> guard{flush_mu_};
    flush_running_.swap(flush_pending_);
    flush_posted_ = false;
  }
  // A round of writes to thousands of busy sockets takes milliseconds. The actors feeding
  // these queues may share this core: yielding now and then lets a room's next broadcast
  // run mid-round (its frames then go out in this round's writes) instead of waiting for
  // the scheduler to preempt us. With no one else runnable, sched_yield returns at once.
  std::size_t done = 0;
  for (auto& c : flush_running_) {
    c->flush();
    if (++done % yield_every == 0) {
      sched_yield();
    }
  }
  flush_running_.clear();
}

void io_worker::attach(std::shared_ptr<ws_connection> c) {
  c->worker_slot = connections_.size();
  connections_.push_back(std::move(c));
}

void io_worker::detach(ws_connection* c) {
  auto slot = c->worker_slot;
  if (slot >= connections_.size() || connections_[slot].get() != c) {
    return;
  }
  if (slot + 1 != connections_.size()) {
    connections_[slot] = std::move(connections_.back());
    connections_[slot]->worker_slot = slot;
  }
  connections_.pop_back();
}

void io_worker::on_sweep() {
  auto now = std::chrono::steady_clock::now();
  for_each_connection([now](ws_connection& c) { c.sweep(now); });
  sweep_timer_.expires_after(sweep_every_);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      on_sweep();
    }
  });
}

} // namespace plexus::net
