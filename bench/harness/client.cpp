#include "bench/harness/client.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "bench/harness/clock.hpp"

namespace plexus::bench {

namespace {

constexpr std::size_t scratch_bytes = 256 * 1024;
constexpr std::size_t max_http_answer = 16 * 1024;
constexpr int max_events = 1024;

} // namespace

// -- endpoint ---------------------------------------------------------------------------

endpoint endpoint::make(const ws_url& url, const std::string& subprotocol) {
  endpoint ep;
  ep.url = url;
  ep.addr.sin_family = AF_INET;
  ep.addr.sin_port = htons(url.port);
  auto host = url.host == "localhost" ? std::string("127.0.0.1") : url.host;
  if (inet_pton(AF_INET, host.c_str(), &ep.addr.sin_addr) != 1) {
    throw std::runtime_error("target host must be a numeric IPv4 address: " + url.host);
  }
  ep.loopback = (ntohl(ep.addr.sin_addr.s_addr) >> 24) == 127;
  ep.request = "GET " + url.path + " HTTP/1.1\r\nHost: " + url.authority()
               + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: cGxleHVzLWJlbmNoLWtleQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n";
  if (!subprotocol.empty()) {
    ep.request += "Sec-WebSocket-Protocol: " + subprotocol + "\r\n";
  }
  ep.request += "\r\n";
  return ep;
}

// -- connection -------------------------------------------------------------------------

void connection::queue(ws_op op, std::string_view payload) {
  if (out_off > 0 && out_off == out.size()) {
    out.clear();
    out_off = 0;
  }
  append_client_frame(out, op, payload, next_mask(mask_state));
}

void connection::send(ws_op op, std::string_view payload) {
  queue(op, payload);
  flush();
}

void connection::flush() {
  if (fd < 0 || state == conn_state::connecting || state == conn_state::queued) {
    return;
  }
  while (out_off < out.size()) {
    auto n = ::send(fd, out.data() + out_off, out.size() - out_off, MSG_NOSIGNAL);
    if (n > 0) {
      out_off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!want_write) {
        want_write = true;
        loop->update_interest(*this);
      }
      return;
    }
    loop->finish(*this, n < 0 ? std::strerror(errno) : "send returned 0");
    return;
  }
  out.clear();
  out_off = 0;
  if (want_write) {
    want_write = false;
    loop->update_interest(*this);
  }
}

void connection::close(uint16_t code) {
  if (state != conn_state::open) {
    if (state != conn_state::closing && state != conn_state::closed) {
      loop->finish(*this, "closed before open");
    }
    return;
  }
  std::string frame;
  append_close_frame(frame, code, next_mask(mask_state));
  out.append(frame);
  close_sent = true;
  state = conn_state::closing;
  flush();
}

void connection::abort() {
  if (fd >= 0) {
    linger lg{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
  loop->finish(*this, "aborted");
}

void connection::pause_reading() {
  if (reading) {
    reading = false;
    loop->update_interest(*this);
  }
}

void connection::resume_reading() {
  if (!reading) {
    reading = true;
    loop->update_interest(*this);
  }
}

void conn_events::on_pong(connection&, std::string_view, int64_t) {
  // nop
}

// -- event_loop -------------------------------------------------------------------------

event_loop::event_loop(conn_events& ev, std::size_t max_pending)
  : ev_(ev), max_pending_(max_pending == 0 ? 1 : max_pending), scratch_(scratch_bytes) {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  timerfd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (epfd_ < 0 || timerfd_ < 0) {
    throw std::runtime_error(std::string("epoll/timerfd: ") + std::strerror(errno));
  }
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.ptr = nullptr; // the timer
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, timerfd_, &e);
}

event_loop::~event_loop() {
  abort_all();
  ::close(timerfd_);
  ::close(epfd_);
}

connection& event_loop::open(const endpoint& ep, int rcvbuf, uint32_t source_ip) {
  auto c = std::make_unique<connection>();
  c->loop = this;
  c->ep = &ep;
  c->rcvbuf = rcvbuf;
  c->source_ip = source_ip;
  c->mask_state ^= static_cast<uint32_t>(conns_.size() * 2654435761u) | 1u;
  c->t_queued = now_ns();
  auto& ref = *c;
  conns_.push_back(std::move(c));
  queued_.push_back(&ref);
  return ref;
}

void event_loop::wake_at(int64_t at_ns) {
  itimerspec its{};
  its.it_value.tv_sec = at_ns / ns_per_s;
  its.it_value.tv_nsec = at_ns % ns_per_s;
  if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) {
    its.it_value.tv_nsec = 1;
  }
  ::timerfd_settime(timerfd_, TFD_TIMER_ABSTIME, &its, nullptr);
}

void event_loop::start_connect(connection& c) {
  c.t_connect = now_ns();
  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    c.error = std::string("socket: ") + std::strerror(errno);
    c.failed = true;
    c.state = conn_state::closed;
    ev_.on_closed(c, now_ns());
    return;
  }
  int one = 1;
  ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (c.rcvbuf > 0) {
    ::setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &c.rcvbuf, sizeof(c.rcvbuf));
  }
  if (c.source_ip != 0) {
    // Without IP_BIND_ADDRESS_NO_PORT, bind() picks the port before the destination is
    // known and each address then holds at most ~28k sockets in total.
    ::setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = c.source_ip;
    ::bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof(src));
  }
  c.state = conn_state::connecting;
  ++in_progress_;
  epoll_event e{};
  e.events = EPOLLOUT;
  e.data.ptr = &c;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &e);
  auto r = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&c.ep->addr), sizeof(c.ep->addr));
  if (r < 0 && errno != EINPROGRESS) {
    finish(c, std::strerror(errno));
  }
}

void event_loop::update_interest(connection& c) {
  if (c.fd < 0) {
    return;
  }
  epoll_event e{};
  e.events = (c.reading ? EPOLLIN : 0u) | (c.want_write ? EPOLLOUT : 0u);
  e.data.ptr = &c;
  ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &e);
}

void event_loop::finish(connection& c, const char* why) {
  if (c.state == conn_state::closed) {
    return;
  }
  if (c.state == conn_state::connecting || c.state == conn_state::upgrading) {
    --in_progress_;
    c.failed = true;
  }
  if (c.fd >= 0) {
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
  }
  if (c.close_code == 0) {
    c.close_code = 1006;
  }
  if (why != nullptr && c.error.empty() && !(c.close_received && c.close_sent)) {
    c.error = why;
  }
  c.state = conn_state::closed;
  // clear(), not a swap: a caller up the stack may still be reading from these buffers.
  c.in.clear();
  c.out.clear();
  c.out_off = 0;
  ev_.on_closed(c, now_ns());
}

void event_loop::abort_all() {
  queued_.clear();
  for (auto& c : conns_) {
    if (c->fd >= 0) {
      linger lg{1, 0};
      ::setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
      ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
      ::close(c->fd);
      c->fd = -1;
      c->state = conn_state::closed;
    }
  }
  in_progress_ = 0;
}

void event_loop::run_once(int timeout_ms) {
  while (!queued_.empty() && in_progress_ < max_pending_) {
    auto* c = queued_.front();
    queued_.pop_front();
    start_connect(*c);
  }
  epoll_event events[max_events];
  int n = ::epoll_wait(epfd_, events, max_events, timeout_ms);
  for (int i = 0; i < n; ++i) {
    auto* c = static_cast<connection*>(events[i].data.ptr);
    if (c == nullptr) {
      uint64_t expirations;
      while (::read(timerfd_, &expirations, sizeof(expirations)) > 0) {
      }
      continue;
    }
    if (c->fd < 0) {
      continue;
    }
    auto ev = events[i].events;
    if (c->state == conn_state::connecting) {
      on_writable(*c);
      continue;
    }
    if ((ev & EPOLLOUT) != 0) {
      c->flush();
    }
    if (c->fd >= 0 && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
      on_readable(*c);
    }
  }
}

void event_loop::on_writable(connection& c) {
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    finish(c, std::strerror(err));
    return;
  }
  c.state = conn_state::upgrading;
  c.out.assign(c.ep->request);
  c.out_off = 0;
  c.want_write = false;
  update_interest(c);
  c.flush();
}

void event_loop::on_readable(connection& c) {
  char* buf = scratch_.data();
  auto n = ::recv(c.fd, buf, scratch_.size(), 0);
  int64_t now = now_ns();
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return;
    }
    finish(c, n == 0 ? "eof" : std::strerror(errno));
    return;
  }
  auto len = static_cast<std::size_t>(n);
  if (c.state == conn_state::upgrading) {
    c.in.append(buf, len);
    if (!handle_upgrade(c, now) || c.in.empty() || c.fd < 0) {
      return;
    }
    // Frames that came with the 101 answer.
    auto used = parse_frames(c, c.in.data(), c.in.size(), now);
    if (c.fd >= 0) {
      c.in.erase(0, used);
    }
    return;
  }
  if (c.in.empty()) {
    auto used = parse_frames(c, buf, len, now);
    if (c.fd >= 0 && used < len) {
      c.in.assign(buf + used, len - used);
    }
    return;
  }
  c.in.append(buf, len);
  auto used = parse_frames(c, c.in.data(), c.in.size(), now);
  if (c.fd >= 0) {
    c.in.erase(0, used);
  }
}

bool event_loop::handle_upgrade(connection& c, int64_t now) {
  auto end = c.in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c.in.size() > max_http_answer) {
      finish(c, "upgrade answer too long");
    }
    return false;
  }
  // "HTTP/1.1 101 Switching Protocols"
  c.http_status = c.in.size() > 12 ? std::atoi(c.in.c_str() + 9) : 0;
  if (c.http_status != 101) {
    c.error = "http " + std::to_string(c.http_status);
    finish(c, nullptr);
    return false;
  }
  c.in.erase(0, end + 4);
  --in_progress_;
  c.state = conn_state::open;
  c.t_open = now;
  ev_.on_open(c, now);
  return c.fd >= 0;
}

std::size_t event_loop::parse_frames(connection& c, char* data, std::size_t len, int64_t now) {
  std::size_t used = 0;
  while (used < len && c.fd >= 0) {
    ws_frame_view f;
    int r = parse_server_frame(data + used, len - used, f);
    if (r == 0) {
      break;
    }
    if (r < 0) {
      finish(c, "protocol error in server frame");
      break;
    }
    used += f.size;
    dispatch(c, f, now);
  }
  return used;
}

void event_loop::dispatch(connection& c, const ws_frame_view& f, int64_t now) {
  switch (f.op) {
    case ws_op::text:
    case ws_op::binary:
      if (f.fin) {
        ev_.on_message(c, f.payload, now);
      } else {
        c.frag_op = f.op;
        c.frag.assign(f.payload);
      }
      break;
    case ws_op::continuation:
      c.frag.append(f.payload);
      if (f.fin) {
        std::string msg;
        msg.swap(c.frag);
        ev_.on_message(c, msg, now);
      }
      break;
    case ws_op::ping:
      if (c.state == conn_state::open) {
        c.send(ws_op::pong, f.payload);
      }
      break;
    case ws_op::pong:
      ev_.on_pong(c, f.payload, now);
      break;
    case ws_op::close: {
      c.close_received = true;
      c.close_code = f.payload.size() >= 2
                       ? static_cast<uint16_t>((static_cast<unsigned char>(f.payload[0]) << 8)
                                               | static_cast<unsigned char>(f.payload[1]))
                       : 1005;
      if (f.payload.size() > 2) {
        c.error.assign(f.payload.substr(2));
      }
      if (!c.close_sent && c.state == conn_state::open) {
        std::string frame;
        append_close_frame(frame, c.close_code == 1005 ? 1000 : c.close_code,
                           next_mask(c.mask_state));
        c.out.append(frame);
        c.close_sent = true;
        c.flush();
      }
      finish(c, nullptr);
      break;
    }
  }
}

long raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return -1;
  }
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::getrlimit(RLIMIT_NOFILE, &rl);
  return static_cast<long>(rl.rlim_cur);
}

uint32_t loopback_source(std::size_t i, std::size_t n) {
  if (n == 0) {
    return 0;
  }
  return htonl((127u << 24) | static_cast<uint32_t>(1 + i % n));
}

} // namespace plexus::bench
