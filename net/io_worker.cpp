#include "net/io_worker.hpp"

#include <sched.h>
#include <sys/epoll.h>

#include <system_error>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "net/ws_connection.hpp"

namespace plexus::net {

namespace {
/// Socket events taken per epoll_wait (more stay ready for the next turn of the loop).
constexpr int max_events = 256;

/// Connections written per handler: ~1 ms of writes to busy sockets, so reads and the
/// actors sharing the core get a turn at least that often.
constexpr std::size_t chunk_size = 128;
} // namespace

io_worker::io_worker(std::size_t index)
  : index_(index),
    sweep_timer_(ioc_),
    epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)),
    events_(ioc_) {
  if (epoll_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "epoll_create1");
  }
  events_.assign(epoll_fd_);
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
  wait_events();
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
  if (!inbox_posted_) {
    inbox_posted_ = true;
    boost::asio::post(ioc_, [this] { write_chunk(false); });
  }
}

void io_worker::mark_dirty(ws_connection* c) {
  if (c->dirty) {
    return;
  }
  c->dirty = true;
  dirty_.push_back(c->shared_from_this());
  if (!chunk_posted_) {
    chunk_posted_ = true;
    boost::asio::post(ioc_, [this] { write_chunk(true); });
  }
}

void io_worker::write_chunk(bool continuation) {
  if (continuation) {
    chunk_posted_ = false;
  }
  take_inbox();
  for (std::size_t n = 0; n < chunk_size && !dirty_.empty(); ++n) {
    auto c = std::move(dirty_.front()); // keeps it alive while it writes (and maybe closes)
    dirty_.pop_front();
    c->dirty = false;
    c->flush();
  }
  if (dirty_.empty()) {
    return;
  }
  // The actors feeding the inbox may share this core: yielding lets a room woken by a
  // publish read in between broadcast now, into the connections still waiting, instead of
  // when the scheduler preempts us. With no one else runnable, sched_yield returns at once.
  sched_yield();
  if (!chunk_posted_) {
    chunk_posted_ = true;
    boost::asio::post(ioc_, [this] { write_chunk(true); });
  }
}

void io_worker::take_inbox() {
  if (!inbox_waiting_.load(std::memory_order_relaxed)) {
    return;
  }
  {
    std::lock_guard<std::mutex> guard{inbox_mu_};
    taken_.swap(inbox_);
    inbox_posted_ = false;
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
  }
  taken_.clear();
}

bool io_worker::watch(ws_connection* c, int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = c;
  return ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void io_worker::unwatch(int fd) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void io_worker::wait_events() {
  events_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (!ec) {
                         on_events();
                       }
                     });
}

void io_worker::on_events() {
  epoll_event events[max_events];
  int n = ::epoll_wait(epoll_fd_, events, max_events, 0);
  for (int i = 0; i < n; ++i) {
    // A connection leaves the set (unwatch) before it can go away, and a handler here only
    // closes its own connection: every pointer of this batch is alive. The copy keeps it so
    // while its handler runs.
    auto c = static_cast<ws_connection*>(events[i].data.ptr)->shared_from_this();
    c->on_events(events[i].events);
  }
  wait_events();
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
