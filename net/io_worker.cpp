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
    thread_id_.store(std::this_thread::get_id(), std::memory_order_relaxed);
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
  dirty_.clear();
  held_.clear();
  retired_.clear();
  std::lock_guard<std::mutex> guard{inbox_mu_};
  inbox_.clear();
}

void io_worker::push_all(actors::frame_ptr f, actors::slow_consumer_policy policy,
                         actors::outbox_list targets) {
  if (targets && !targets->empty()) {
    enqueue(delivery{std::move(f), policy, std::move(targets), nullptr});
  }
}

void io_worker::push_one(actors::frame_ptr f, actors::slow_consumer_policy policy,
                         std::shared_ptr<ws_connection> target) {
  enqueue(delivery{std::move(f), policy, nullptr, std::move(target)});
}

void io_worker::enqueue(delivery d) {
  std::lock_guard<std::mutex> guard{inbox_mu_};
  inbox_.push_back(std::move(d));
  inbox_waiting_.store(true, std::memory_order_relaxed);
  post_round();
}

void io_worker::post_round() {
  if (!round_posted_) {
    round_posted_ = true;
    boost::asio::post(ioc_, [this] { run_round(); });
  }
}

void io_worker::mark_dirty(ws_connection* c) {
  if (c->dirty) {
    return;
  }
  c->dirty = true;
  dirty_.push_back(c);
  if (!in_round_ && dirty_.size() == 1) {
    std::lock_guard<std::mutex> guard{inbox_mu_};
    post_round();
  }
}

void io_worker::run_round() {
  in_round_ = true;
  take_inbox();
  // A round of writes to thousands of busy sockets takes milliseconds. The actors feeding
  // the inbox may share this core: yielding now and then lets a room's next broadcast run
  // mid-round, and taking the inbox again then puts its frames into this round's writes
  // (to connections not flushed yet; the others come again at the end of the round)
  // instead of waiting for the scheduler to preempt us. With no one else runnable,
  // sched_yield returns at once.
  for (std::size_t i = 0; i < dirty_.size(); ++i) {
    auto* c = dirty_[i];
    c->dirty = false;
    c->flush();
    if ((i + 1) % yield_every == 0) {
      sched_yield();
      if (inbox_waiting_.load(std::memory_order_relaxed)) {
        take_inbox();
      }
    }
  }
  dirty_.clear();
  held_.clear();
  retired_.clear();
  in_round_ = false;
}

void io_worker::take_inbox() {
  {
    std::lock_guard<std::mutex> guard{inbox_mu_};
    taken_.swap(inbox_);
    round_posted_ = false;
    inbox_waiting_.store(false, std::memory_order_relaxed);
  }
  for (auto& d : taken_) {
    if (d.one) {
      d.one->enqueue(d.f, d.policy);
    } else {
      // Every outbox of a list handed to this sink is one of our connections.
      for (const auto& out : *d.many) {
        static_cast<ws_connection*>(out.get())->enqueue(d.f, d.policy);
      }
    }
    held_.push_back(std::move(d)); // its targets stay alive while they are in dirty_
  }
  taken_.clear();
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
  // Kept until the end of a round: the connection may be in dirty_, or be closing from
  // inside its own flush.
  retired_.push_back(std::move(connections_[slot]));
  if (slot + 1 != connections_.size()) {
    connections_[slot] = std::move(connections_.back());
    connections_[slot]->worker_slot = slot;
  }
  connections_.pop_back();
  if (!in_round_ && retired_.size() == 1) {
    std::lock_guard<std::mutex> guard{inbox_mu_};
    post_round();
  }
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
