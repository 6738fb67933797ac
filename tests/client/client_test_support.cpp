#include "tests/client/client_test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/handshake.hpp"
#include "net/ws_frame.hpp"

namespace plexus::test {

net::client_handlers recorder::handlers() {
  net::client_handlers h;
  h.on_state = [this](net::client_state s) {
    {
      std::lock_guard<std::mutex> lock(mu);
      states.push_back(s);
    }
    cv_.notify_all();
  };
  h.on_welcome = push(welcomes);
  h.on_message = push(messages);
  h.on_presence = push(presences);
  h.on_presence_diff = push(diffs);
  h.on_subscribed = push(subscribed);
  h.on_resync = push(resyncs);
  h.on_error = push(errors);
  h.on_disconnect = push(disconnects);
  return h;
}

bool recorder::wait(std::chrono::milliseconds timeout, const std::function<bool()>& pred) {
  std::unique_lock<std::mutex> lock(mu);
  return cv_.wait_for(lock, timeout, pred);
}

bool recorder::saw_state(net::client_state s) {
  std::lock_guard<std::mutex> lock(mu);
  for (auto x : states) {
    if (x == s) {
      return true;
    }
  }
  return false;
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

net::client_options local_options(uint16_t port, net::wire_format f) {
  net::client_options o;
  o.url = "ws://127.0.0.1:" + std::to_string(port) + "/ws";
  o.format = f;
  o.reconnect.base = 20ms;
  o.reconnect.cap = 200ms;
  o.connect_timeout = 3s;
  o.request_timeout = 5s;
  return o;
}

fake_node::fake_node(std::function<void(const sender&)> on_open) : on_open_(std::move(on_open)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::listen(listen_fd_, 16);
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this]() {
    while (!stop_.load()) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      fds_.push_back(fd);
      conns_.emplace_back([this, fd]() { serve(fd); });
    }
  });
}

fake_node::~fake_node() {
  stop_.store(true);
  acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) {
      ::shutdown(fd, SHUT_RDWR);
    }
  }
  for (auto& t : conns_) {
    t.join();
  }
  for (int fd : fds_) {
    ::close(fd);
  }
  ::close(listen_fd_);
}

void fake_node::serve(int fd) {
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      return;
    }
    req.append(buf, static_cast<std::size_t>(n));
  }
  std::string key;
  auto at = req.find("Sec-WebSocket-Key:");
  if (at == std::string::npos) {
    at = req.find("sec-websocket-key:");
  }
  if (at != std::string::npos) {
    auto start = req.find_first_not_of(' ', at + 18);
    key = req.substr(start, req.find("\r\n", start) - start);
  }
  std::string res = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: "
                    + net::ws::accept_key(key) + "\r\nSec-WebSocket-Protocol: plexus.json\r\n\r\n";
  ::send(fd, res.data(), res.size(), MSG_NOSIGNAL);
  upgrades_.fetch_add(1);
  on_open_([fd](const std::string& text) {
    auto frame = net::ws::make_frame(net::ws::opcode::text, text);
    ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
  });
  // What the client sends is parsed only far enough to answer its close frame.
  std::string in;
  while (!stop_.load()) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      return;
    }
    in.append(buf, static_cast<std::size_t>(n));
    while (in.size() >= 2) {
      auto b = [&](std::size_t i) { return static_cast<uint8_t>(in[i]); };
      std::size_t len = b(1) & 0x7F;
      std::size_t at = 2;
      if (len == 126 && in.size() >= 4) {
        len = (std::size_t{b(2)} << 8) | b(3);
        at = 4;
      } else if (len == 126 || len == 127) {
        break; // incomplete, or larger than any frame this fake expects
      }
      at += (b(1) & 0x80) ? 4 : 0;
      if (in.size() < at + len) {
        break;
      }
      if ((b(0) & 0x0F) == 0x8) {
        auto frame = net::ws::make_frame(net::ws::opcode::close, net::ws::close_payload(1000, ""));
        ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
      in.erase(0, at + len);
    }
  }
}

} // namespace plexus::test
