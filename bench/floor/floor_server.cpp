// plexus-bench-floor: the least a pub/sub WebSocket server on this machine can do for a
// fan-out, as a floor to measure plexus (and the issue's targets) against.
//
// One thread, one epoll loop, level-triggered, no framework: each publish is framed once
// and appended to every subscriber's output buffer; after each loop iteration every
// connection with output gets one write() (the "cork per iteration" model of uWebSockets).
// It speaks the ws-broadcast subset plexus-bench uses (subscribe/subscribed, publish ->
// message), no welcome. It borrows plexus's frame-header encoder and accept key, nothing
// else. It checks nothing a real server must (origins, UTF-8, limits): it
// exists only to show what the kernel's TCP path costs, so it is never a product.
//
//   plexus-bench-floor PORT
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>

#include "net/handshake.hpp"
#include "net/ws_frame.hpp"

namespace {

struct conn {
  int fd = -1;
  bool upgraded = false;
  bool want_out = false; // EPOLLOUT armed
  bool dirty = false;    // in the flush list
  std::string in;
  std::string out;
  std::size_t out_off = 0;
};

/// An unmasked server frame (FIN set): plexus's header encoder, the bytes are the same.
void append_frame(std::string& out, uint8_t opcode, std::string_view payload) {
  uint8_t header[plexus::net::ws::max_server_header];
  auto n = plexus::net::ws::write_header(header, static_cast<plexus::net::ws::opcode>(opcode), true,
                                         false, payload.size());
  out.append(reinterpret_cast<const char*>(header), n);
  out += payload;
}

/// The text between `"key":"` and the next quote ("" when absent).
std::string_view json_str(std::string_view m, std::string_view key) {
  std::string pat = "\"" + std::string{key} + "\":\"";
  auto i = m.find(pat);
  if (i == std::string_view::npos) {
    return {};
  }
  i += pat.size();
  auto j = m.find('"', i);
  return j == std::string_view::npos ? std::string_view{} : m.substr(i, j - i);
}

class floor_server {
public:
  explicit floor_server(int listen_fd) : lfd_(listen_fd), ep_(epoll_create1(0)) {
    add(lfd_, EPOLLIN);
  }

  void run() {
    std::vector<epoll_event> events(1024);
    for (;;) {
      int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), -1);
      for (int i = 0; i < n; ++i) {
        int fd = events[static_cast<std::size_t>(i)].data.fd;
        if (fd == lfd_) {
          accept_all();
          continue;
        }
        auto it = conns_.find(fd);
        if (it == conns_.end()) {
          continue;
        }
        auto ev = events[static_cast<std::size_t>(i)].events;
        if ((ev & EPOLLIN) != 0 && !read_some(*it->second)) {
          drop(fd);
          continue;
        }
        if ((ev & EPOLLOUT) != 0) {
          mark(*it->second);
        }
      }
      flush_all();
    }
  }

private:
  void add(int fd, uint32_t ev) {
    epoll_event e{};
    e.events = ev;
    e.data.fd = fd;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &e);
  }

  void accept_all() {
    for (;;) {
      int fd = accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK);
      if (fd < 0) {
        return;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<conn>();
      c->fd = fd;
      conns_.emplace(fd, std::move(c));
      add(fd, EPOLLIN);
    }
  }

  bool read_some(conn& c) {
    char buf[65536];
    auto n = ::read(c.fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      return false;
    }
    if (n < 0) {
      return true;
    }
    c.in.append(buf, static_cast<std::size_t>(n));
    return c.upgraded ? read_frames(c) : read_upgrade(c);
  }

  bool read_upgrade(conn& c) {
    auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) {
      return c.in.size() < 8192;
    }
    std::string_view head{c.in.data(), end};
    auto k = head.find("Sec-WebSocket-Key:");
    if (k == std::string_view::npos) {
      k = head.find("sec-websocket-key:");
    }
    if (k == std::string_view::npos) {
      return false;
    }
    auto v = head.substr(k + 18);
    v = v.substr(0, v.find("\r\n"));
    while (!v.empty() && v.front() == ' ') {
      v.remove_prefix(1);
    }
    c.out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: "
             + plexus::net::ws::accept_key(v) + "\r\n\r\n";
    c.upgraded = true;
    c.in.erase(0, end + 4);
    mark(c);
    return read_frames(c);
  }

  /// Parses every complete (masked, unfragmented) client frame in `c.in`.
  bool read_frames(conn& c) {
    std::size_t pos = 0;
    for (;;) {
      auto* p = reinterpret_cast<unsigned char*>(&c.in[pos]);
      auto avail = c.in.size() - pos;
      if (avail < 2) {
        break;
      }
      uint8_t opcode = p[0] & 0x0f;
      uint64_t len = p[1] & 0x7f;
      std::size_t hdr = 2;
      if (len == 126) {
        if (avail < 4) {
          break;
        }
        len = (uint64_t{p[2]} << 8) | p[3];
        hdr = 4;
      } else if (len == 127) {
        if (avail < 10) {
          break;
        }
        len = 0;
        for (int i = 0; i < 8; ++i) {
          len = (len << 8) | p[2 + i];
        }
        hdr = 10;
      }
      if ((p[1] & 0x80) == 0 || len > (1u << 20)) {
        return false; // clients must mask; the floor takes no big frames
      }
      if (avail < hdr + 4 + len) {
        break;
      }
      const unsigned char* mask = p + hdr;
      auto* payload = p + hdr + 4;
      for (uint64_t i = 0; i < len; ++i) {
        payload[i] ^= mask[i & 3];
      }
      std::string_view msg{reinterpret_cast<char*>(payload), static_cast<std::size_t>(len)};
      if (opcode == 0x8) {
        return false;
      }
      if (opcode == 0x9) {
        append_frame(c.out, 0xA, msg);
        mark(c);
      } else if (opcode == 0x1) {
        on_text(c, msg);
      }
      pos += hdr + 4 + len;
    }
    c.in.erase(0, pos);
    return true;
  }

  void on_text(conn& c, std::string_view m) {
    auto type = json_str(m, "type");
    auto channel = std::string{json_str(m, "channel")};
    if (type == "subscribe") {
      subs_[channel].push_back(c.fd);
      auto id = m.find("\"id\":");
      std::string ids = "null";
      if (id != std::string_view::npos) {
        auto s = m.substr(id + 5);
        ids = std::string{s.substr(0, s.find_first_of(",}"))};
      }
      append_frame(c.out, 0x1,
                   R"({"type":"subscribed","id":)" + ids + R"(,"channel":")" + channel
                     + R"(","offset":)" + std::to_string(offsets_[channel]) + "}");
      mark(c);
    } else if (type == "publish") {
      auto d = m.find("\"data\":");
      auto last = m.rfind('}');
      if (d == std::string_view::npos || last == std::string_view::npos || last < d + 7) {
        return;
      }
      auto data = m.substr(d + 7, last - d - 7);
      auto offset = ++offsets_[channel];
      frame_.clear();
      append_frame(frame_, 0x1,
                   R"({"type":"message","channel":")" + channel + R"(","data":)" + std::string{data}
                     + R"(,"offset":)" + std::to_string(offset) + "}");
      for (int fd : subs_[channel]) {
        auto it = conns_.find(fd);
        if (it != conns_.end()) {
          it->second->out += frame_;
          mark(*it->second);
        }
      }
    }
  }

  void mark(conn& c) {
    if (!c.dirty) {
      c.dirty = true;
      dirty_.push_back(c.fd);
    }
  }

  /// One write per connection with output: everything it has queued this iteration.
  void flush_all() {
    auto list = std::move(dirty_);
    dirty_.clear();
    for (int fd : list) {
      auto it = conns_.find(fd);
      if (it == conns_.end()) {
        continue;
      }
      auto& c = *it->second;
      c.dirty = false;
      auto left = c.out.size() - c.out_off;
      if (left > 0) {
        auto n = ::write(fd, c.out.data() + c.out_off, left);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
          drop(fd);
          continue;
        }
        if (n > 0) {
          c.out_off += static_cast<std::size_t>(n);
        }
      }
      if (c.out_off == c.out.size()) {
        c.out.clear();
        c.out_off = 0;
      }
      bool pending = !c.out.empty();
      if (pending != c.want_out) {
        c.want_out = pending;
        epoll_event e{};
        e.events = EPOLLIN | (pending ? EPOLLOUT : 0u);
        e.data.fd = fd;
        epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &e);
      }
    }
  }

  void drop(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) {
      return;
    }
    for (auto& kv : subs_) {
      auto& v = kv.second;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == fd) {
          v[i] = v.back();
          v.pop_back();
          break;
        }
      }
    }
    epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns_.erase(it);
  }

  int lfd_;
  int ep_;
  std::unordered_map<int, std::unique_ptr<conn>> conns_;
  std::unordered_map<std::string, std::vector<int>> subs_;
  std::unordered_map<std::string, uint64_t> offsets_;
  std::vector<int> dirty_;
  std::string frame_;
};

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    spdlog::error("[floor] usage: plexus-bench-floor PORT");
    return 2;
  }
  int port = std::atoi(argv[1]);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(lfd, 4096) != 0) {
    spdlog::error("[floor] cannot listen on 127.0.0.1:{}: {}", port, std::strerror(errno));
    return 1;
  }
  spdlog::info("[floor] listening on 127.0.0.1:{}", port);
  floor_server{lfd}.run();
}
