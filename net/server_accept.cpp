// The accept loop, and what it does when the process is out of file descriptors.
//
// At RLIMIT_NOFILE (EMFILE) or the system's file table limit (ENFILE) accept() fails but
// the connection stays in the listen backlog, so the listening socket stays readable:
// retrying at once is a busy loop (a core at 100 % and a log line per try). Instead the
// node
//  - answers what is waiting with the descriptor it keeps in reserve (libuv's trick:
//    close the reserve, accept, write a 503, close, reopen the reserve), so clients get
//    a clear refusal at once instead of hanging in the backlog until it overflows;
//  - pauses accepting for `fd_pause` and then tries again: it resumes by itself as soon
//    as descriptors are free, and the pause bounds the work to a few syscalls per round;
//  - logs the first refusal and then at most one line per `fd_log_interval`, with the
//    count, and counts every refused connection as plexus_rejected_total{fd_limit}.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "net/server.hpp"

namespace plexus::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::milliseconds fd_pause{100};
constexpr std::chrono::seconds fd_log_interval{5};
// Connections answered per round: more than a round's new arrivals at any sane rate, and
// a bound on the round's work.
constexpr std::size_t max_shed_per_round = 256;

bool out_of_descriptors(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors                      // EMFILE
         || ec == boost::system::errc::too_many_files_open_in_system // ENFILE
         || ec == asio::error::no_buffer_space                  // ENOBUFS
         || ec == asio::error::no_memory;                       // ENOMEM
}

// Errors that belong to one connection (it went away while queued): the next accept is
// independent, so it follows at once.
bool per_connection(const boost::system::error_code& ec) {
  return ec == asio::error::connection_aborted || ec == asio::error::try_again
         || ec == asio::error::would_block || ec == asio::error::interrupted
         || ec == boost::system::errc::protocol_error;
}

int open_reserve() {
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

} // namespace

void server::prepare_accept() {
  accept_pause_ = std::make_unique<asio::steady_timer>(workers_[0]->context());
  reserve_fd_ = open_reserve();
  // shed_pending() calls accept4() itself: it must never block.
  boost::system::error_code ec;
  acceptor_->non_blocking(true, ec);
}

void server::end_accept() {
  if (accept_pause_) {
    accept_pause_->cancel();
  }
  if (reserve_fd_ >= 0) {
    ::close(reserve_fd_);
    reserve_fd_ = -1;
  }
}

void server::do_accept() {
  auto& worker = *workers_[next_worker_];
  next_worker_ = (next_worker_ + 1) % workers_.size();
  acceptor_->async_accept(worker.context(), [this, &worker](boost::system::error_code ec,
                                                            tcp::socket socket) {
    if (stopping_.load() || !acceptor_->is_open() || ec == asio::error::operation_aborted) {
      return;
    }
    if (!ec) {
      if (fd_limit_.active) {
        spdlog::info("[{}] accepting again: file descriptors are free ({} connection(s) "
                     "refused while there were none)",
                     settings_.node_name, fd_limit_.refused_total);
        fd_limit_ = {};
      }
      if (reserve_fd_ < 0) {
        reserve_fd_ = open_reserve();
      }
      asio::post(worker.context(), [this, &worker, s = std::move(socket)]() mutable {
        start_http_session(std::move(s), *this, worker);
      });
      do_accept();
      return;
    }
    if (per_connection(ec)) {
      do_accept();
      return;
    }
    if (out_of_descriptors(ec)) {
      on_fd_limit(ec);
    } else {
      // Anything else (EPERM from a firewall hook, ...) may repeat as fast: never retry
      // in a loop. Rare, so one line each pause is few enough.
      spdlog::warn("[{}] accept failed: {}; accepting again in {} ms", settings_.node_name,
                   ec.message(), fd_pause.count());
    }
    accept_pause_->expires_after(fd_pause);
    accept_pause_->async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec && !stopping_.load() && acceptor_->is_open()) {
        do_accept();
      }
    });
  });
}

void server::on_fd_limit(const boost::system::error_code& ec) {
  auto refused = shed_pending();
  // Without the reserve (another thread took the slot) nobody could be answered: count
  // the refused attempt, the connection waits in the backlog for the next round.
  auto counted = std::max<std::size_t>(1, refused);
  for (std::size_t i = 0; i < counted; ++i) {
    deps_.ctx.stats->reject(actors::rejection::fd_limit);
  }
  auto now = std::chrono::steady_clock::now();
  fd_limit_.refused_since_log += counted;
  fd_limit_.refused_total += counted;
  if (!fd_limit_.active || now - fd_limit_.last_log >= fd_log_interval) {
    spdlog::warn("[{}] accept: out of file descriptors ({}); refused {} connection(s) with 503 "
                 "since the last report; retrying every {} ms until descriptors free up",
                 settings_.node_name, ec.message(), fd_limit_.refused_since_log, fd_pause.count());
    fd_limit_.refused_since_log = 0;
    fd_limit_.last_log = now;
  }
  fd_limit_.active = true;
}

std::size_t server::shed_pending() {
  if (reserve_fd_ >= 0) {
    ::close(reserve_fd_);
    reserve_fd_ = -1;
  }
  static constexpr char reply[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                  "Retry-After: 1\r\n"
                                  "Content-Type: text/plain\r\n"
                                  "Content-Length: 32\r\n"
                                  "Connection: close\r\n"
                                  "\r\n"
                                  "node is out of file descriptors\n";
  std::size_t n = 0;
  while (n < max_shed_per_round) {
    int fd = ::accept4(acceptor_->native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      break; // EAGAIN: nothing waits any more; EMFILE: the freed slot was taken meanwhile
    }
    // Read what the client already sent (a request line), so the close below sends a FIN
    // after the 503 rather than a reset that could discard it.
    char sink[4096];
    [[maybe_unused]] auto r = ::recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
    [[maybe_unused]] auto w = ::send(fd, reply, sizeof(reply) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    ::close(fd);
    ++n;
  }
  reserve_fd_ = open_reserve();
  return n;
}

} // namespace plexus::net
