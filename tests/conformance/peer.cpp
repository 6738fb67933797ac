#include "tests/conformance/peer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "net/utf8.hpp"
#include "net/ws_frame.hpp"
#include "tests/support/ws_test_frames.hpp"

namespace plexus::test::conformance {

namespace {

using clock_type = std::chrono::steady_clock;

/// Inflated server messages are bounded too (a broken server must not take the test down).
constexpr std::size_t max_inflated = 64u << 20;

event make(event::kind k, std::string payload, bool bin = false) {
  event e;
  e.what = k;
  e.payload = std::move(payload);
  e.binary = bin;
  return e;
}

} // namespace

const char* to_string(endpoint ep) {
  return ep == endpoint::echo ? "/ws/echo" : "/ws";
}

event text(std::string payload) {
  return make(event::kind::message, std::move(payload), false);
}
event binary(std::string payload) {
  return make(event::kind::message, std::move(payload), true);
}
event ping(std::string payload) {
  return make(event::kind::ping, std::move(payload));
}
event pong(std::string payload) {
  return make(event::kind::pong, std::move(payload));
}
event timeout(std::string tag) {
  return make(event::kind::timeout, std::move(tag));
}

std::string describe(const std::vector<event>& events) {
  static const char* names[] = {"message", "ping", "pong", "timeout"};
  std::string s = "[";
  for (const auto& e : events) {
    if (s.size() > 1) {
      s += ", ";
    }
    s += names[static_cast<int>(e.what)];
    if (e.what == event::kind::message) {
      s += e.binary ? "(binary " : "(text ";
    } else {
      s += "(";
    }
    s += std::to_string(e.payload.size()) + " bytes";
    if (e.payload.size() <= 24 && net::valid_utf8(e.payload)) {
      s += ": " + e.payload;
    }
    s += ")";
  }
  return s + "]";
}

peer::~peer() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::unique_ptr<peer> peer::connect(uint16_t port, const options& opts) {
  std::string r = std::string{"GET "} + to_string(opts.ep)
                  + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port)
                  + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  if (!opts.extensions.empty()) {
    r += "Sec-WebSocket-Extensions: " + opts.extensions + "\r\n";
  }
  if (!opts.subprotocol.empty()) {
    r += "Sec-WebSocket-Protocol: " + opts.subprotocol + "\r\n";
  }
  return connect_raw(port, r + "\r\n", opts.ep);
}

std::unique_ptr<peer> peer::connect_raw(uint16_t port, const std::string& request, endpoint ep) {
  auto p = std::unique_ptr<peer>(new peer());
  p->ep_ = ep;
  p->fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (p->fd_ < 0) {
    throw std::runtime_error("socket() failed");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(p->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw std::runtime_error("connect() failed");
  }
  int one = 1;
  ::setsockopt(p->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  p->send(request);
  auto deadline = clock_type::now() + std::chrono::seconds(5);
  std::size_t head_end;
  while ((head_end = p->buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!p->pump(deadline)) {
      return p;
    }
  }
  auto head = p->buf_.substr(0, head_end + 2);
  p->buf_.erase(0, head_end + 4);
  p->answer_ = parse_http_head(head);
  if (!p->open()) {
    return p;
  }
  auto ext = p->extensions();
  if (!ext.empty()) {
    // client_max_window_bits limits what we send; the server compresses with 15 bits.
    p->inflater_ = std::make_unique<net::ws::inflater>(15);
    p->inflate_reset_ = ext.find("server_no_context_takeover") != std::string::npos;
  }
  if (ep == endpoint::session) {
    // Every /ws connection starts with `welcome`; the cases are about what follows it. It
    // may have come with the answer's head.
    p->skip_welcome_ = true;
    p->handle_frames();
    auto welcome_deadline = clock_type::now() + std::chrono::seconds(5);
    while (p->skip_welcome_ && p->pump(welcome_deadline)) {
    }
  }
  return p;
}

void peer::send(std::string_view bytes) {
  while (!bytes.empty() && !tcp_closed) {
    auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return; // the server is gone: the next read sees it
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void peer::send_chopped(std::string_view bytes, std::size_t chop) {
  while (!bytes.empty()) {
    auto n = std::min(chop, bytes.size());
    send(bytes.substr(0, n));
    bytes.remove_prefix(n);
  }
}

void peer::wait(std::chrono::milliseconds d) {
  auto deadline = clock_type::now() + d;
  while (pump(deadline)) {
  }
}

void peer::checkpoint(std::string tag) {
  if (!server_failed()) {
    received.push_back(timeout(std::move(tag)));
  }
}

void peer::close(uint16_t code, std::string_view reason) {
  if (close_sent || tcp_closed) {
    return;
  }
  close_sent = true;
  closed_by_me = !close_received;
  send(client_close(code, reason));
}

void peer::close_raw(std::string_view frame_bytes) {
  if (close_sent || tcp_closed) {
    return;
  }
  close_sent = true;
  closed_by_me = !close_received;
  send(frame_bytes);
}

void peer::finish(std::size_t expected_events, bool close_after, std::chrono::milliseconds t) {
  auto deadline = clock_type::now() + t;
  for (;;) {
    if (close_after && !close_sent && !close_received && received.size() >= expected_events) {
      close(1000);
    }
    if (tcp_closed) {
      return;
    }
    if (!pump(deadline) && !tcp_closed) {
      if (clock_type::now() >= deadline) {
        timed_out = true; // Autobahn's killAfter: the peer drops the connection itself
        return;
      }
    }
  }
}

bool peer::pump(clock_type::time_point deadline) {
  if (tcp_closed) {
    return false;
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
  if (left.count() < 0) {
    return false;
  }
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
    return false;
  }
  char tmp[65536];
  auto n = ::recv(fd_, tmp, sizeof(tmp), 0);
  if (n <= 0) {
    tcp_closed = true;
    return false;
  }
  buf_.append(tmp, static_cast<std::size_t>(n));
  if (answer_.status == 101) {
    handle_frames();
  }
  return true;
}

void peer::handle_frames() {
  while (buf_.size() >= 2) {
    auto b0 = static_cast<uint8_t>(buf_[0]);
    auto b1 = static_cast<uint8_t>(buf_[1]);
    if ((b1 & 0x80) != 0) {
      protocol_error = "server frame is masked";
    }
    uint64_t len = b1 & 0x7f;
    std::size_t header = 2;
    if (len == 126) {
      if (buf_.size() < 4) {
        return;
      }
      len = (static_cast<uint8_t>(buf_[2]) << 8) | static_cast<uint8_t>(buf_[3]);
      header = 4;
    } else if (len == 127) {
      if (buf_.size() < 10) {
        return;
      }
      len = 0;
      for (int i = 0; i < 8; ++i) {
        len = (len << 8) | static_cast<uint8_t>(buf_[2 + i]);
      }
      header = 10;
    }
    if (buf_.size() < header + len) {
      return;
    }
    auto payload = buf_.substr(header, len);
    buf_.erase(0, header + len);
    on_frame(b0, std::move(payload));
  }
}

void peer::on_frame(uint8_t b0, std::string payload) {
  bool fin = (b0 & 0x80) != 0;
  bool rsv1 = (b0 & 0x40) != 0;
  auto op = static_cast<net::ws::opcode>(b0 & 0x0f);
  if (close_received) {
    // RFC 6455 5.5.1: no data frames after a close frame (control frames are not covered).
    if (op == net::ws::opcode::text || op == net::ws::opcode::binary
        || op == net::ws::opcode::continuation) {
      protocol_error = "server sent a data frame after its close frame";
    }
    return;
  }
  switch (op) {
    case net::ws::opcode::ping:
      received.push_back(ping(payload));
      if (!close_sent) {
        send(client_frame(net::ws::opcode::pong, payload));
      }
      return;
    case net::ws::opcode::pong:
      received.push_back(pong(std::move(payload)));
      return;
    case net::ws::opcode::close: {
      close_received = true;
      remote_close_code = payload.size() >= 2
                            ? static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8)
                                                    | static_cast<uint8_t>(payload[1]))
                            : 1005;
      remote_close_reason = payload.size() > 2 ? payload.substr(2) : std::string{};
      if (!close_sent) {
        close_sent = true;
        // Echo the code (RFC 6455 5.5.1); none when the server sent none.
        send(client_frame(net::ws::opcode::close,
                          payload.size() >= 2 ? payload.substr(0, 2) : std::string{}));
      }
      return;
    }
    case net::ws::opcode::text:
    case net::ws::opcode::binary:
      if (in_message_) {
        protocol_error = "server started a message inside another";
      }
      in_message_ = true;
      message_binary_ = op == net::ws::opcode::binary;
      message_compressed_ = rsv1;
      message_ = std::move(payload);
      break;
    case net::ws::opcode::continuation:
      if (!in_message_) {
        protocol_error = "server sent a continuation without a message";
        return;
      }
      message_ += payload;
      break;
    default:
      protocol_error = "server sent a reserved opcode";
      return;
  }
  if (!fin) {
    return;
  }
  in_message_ = false;
  std::string body = std::move(message_);
  message_.clear();
  if (message_compressed_) {
    if (!inflater_) {
      protocol_error = "server sent RSV1 without permessage-deflate";
      return;
    }
    std::string out;
    if (inflater_->inflate_message(body, max_inflated, out, inflate_reset_)
        != net::ws::inflate_status::ok) {
      protocol_error = "server sent a message that does not inflate";
      return;
    }
    body = std::move(out);
  }
  if (!message_binary_ && !net::valid_utf8(body)) {
    protocol_error = "server sent a text message that is not UTF-8";
  }
  if (skip_welcome_) {
    skip_welcome_ = false;
    return;
  }
  received.push_back(message_binary_ ? binary(std::move(body)) : text(std::move(body)));
}

} // namespace plexus::test::conformance
