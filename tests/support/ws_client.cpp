#include "tests/support/ws_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <stdexcept>
#include <thread>

#include <simdjson.h>

#include "tests/support/ws_test_frames.hpp"

namespace plexus::test {

namespace {

using clock_type = std::chrono::steady_clock;

int connect_tcp(uint16_t port, int rcvbuf = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    throw std::runtime_error("socket() failed");
  }
  if (rcvbuf > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    throw std::runtime_error("connect() to 127.0.0.1:" + std::to_string(port) + " failed");
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return; // the peer is gone; the test sees it on the next read
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// Reads more bytes into `buf` until the deadline; false on timeout or EOF.
bool read_more(int fd, std::string& buf, clock_type::time_point deadline, bool& eof) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
  if (left.count() < 0) {
    return false;
  }
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
    return false;
  }
  char tmp[65536];
  auto n = ::recv(fd, tmp, sizeof(tmp), 0);
  if (n <= 0) {
    eof = true;
    return false;
  }
  buf.append(tmp, static_cast<std::size_t>(n));
  return true;
}

/// Reads an HTTP response (head, plus Content-Length body) from fd; leftover stays in buf.
http_answer read_http(int fd, std::string& buf, clock_type::time_point deadline) {
  bool eof = false;
  std::size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!read_more(fd, buf, deadline, eof)) {
      return {};
    }
  }
  auto answer = parse_http_head(buf.substr(0, head_end + 2));
  buf.erase(0, head_end + 4);
  auto len_str = answer.header("content-length");
  std::size_t len = len_str.empty() ? 0 : std::stoul(len_str);
  while (buf.size() < len && read_more(fd, buf, deadline, eof)) {
  }
  answer.body = buf.substr(0, std::min(len, buf.size()));
  buf.erase(0, answer.body.size());
  return answer;
}

std::string random_key() {
  std::mt19937 gen{std::random_device{}()};
  unsigned char raw[16];
  for (auto& b : raw) {
    b = static_cast<unsigned char>(gen());
  }
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (int i = 0; i < 16; i += 3) {
    uint32_t v = raw[i] << 16;
    if (i + 1 < 16) {
      v |= raw[i + 1] << 8;
    }
    if (i + 2 < 16) {
      v |= raw[i + 2];
    }
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < 16 ? table[(v >> 6) & 63] : '=';
    out += i + 2 < 16 ? table[v & 63] : '=';
  }
  return out;
}

} // namespace

http_answer parse_http_head(const std::string& head) {
  http_answer a;
  auto line_end = head.find("\r\n");
  auto status_line = head.substr(0, line_end);
  auto sp = status_line.find(' ');
  if (sp != std::string::npos) {
    a.status = std::atoi(status_line.c_str() + sp + 1);
  }
  auto pos = line_end + 2;
  while (pos < head.size()) {
    auto end = head.find("\r\n", pos);
    if (end == std::string::npos || end == pos) {
      break;
    }
    auto line = head.substr(pos, end - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      auto name = line.substr(0, colon);
      for (auto& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') {
        value.erase(0, 1);
      }
      a.headers[name] = value;
    }
    pos = end + 2;
  }
  return a;
}

uint16_t received_frame::close_code() const {
  if (payload.size() < 2) {
    return 1005;
  }
  return static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8)
                               | static_cast<uint8_t>(payload[1]));
}

std::string http_answer::header(const std::string& name) const {
  auto i = headers.find(name);
  return i == headers.end() ? std::string{} : i->second;
}

ws_client::~ws_client() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::unique_ptr<ws_client> ws_client::connect(uint16_t port, const ws_request& req,
                                              std::chrono::milliseconds timeout) {
  auto c = std::unique_ptr<ws_client>(new ws_client());
  c->fd_ = connect_tcp(port, req.rcvbuf);
  std::string r = "GET " + req.path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port)
                  + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                  + random_key() + "\r\nSec-WebSocket-Version: 13\r\n";
  if (!req.subprotocol.empty()) {
    r += "Sec-WebSocket-Protocol: " + req.subprotocol + "\r\n";
  }
  if (!req.extensions.empty()) {
    r += "Sec-WebSocket-Extensions: " + req.extensions + "\r\n";
  }
  for (const auto& h : req.headers) {
    r += h.first + ": " + h.second + "\r\n";
  }
  r += "\r\n";
  write_all(c->fd_, r);
  c->answer_ = read_http(c->fd_, c->buf_, clock_type::now() + timeout);
  c->open_ = c->answer_.status == 101;
  return c;
}

void ws_client::send_frame(net::ws::opcode op, std::string_view payload, bool fin, bool rsv1) {
  write_all(fd_, client_frame(op, payload, fin, rsv1));
}

void ws_client::send_raw(std::string_view bytes) {
  write_all(fd_, bytes);
}

void ws_client::send_close(uint16_t code, std::string_view reason) {
  write_all(fd_, client_close(code, reason));
}

bool ws_client::fill(clock_type::time_point deadline) {
  bool eof = false;
  return read_more(fd_, buf_, deadline, eof);
}

std::optional<received_frame> ws_client::read_frame(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    if (buf_.size() >= 2) {
      auto b0 = static_cast<uint8_t>(buf_[0]);
      auto b1 = static_cast<uint8_t>(buf_[1]);
      uint64_t len = b1 & 0x7f;
      std::size_t header = 2;
      if (len == 126 && buf_.size() >= 4) {
        len = (static_cast<uint8_t>(buf_[2]) << 8) | static_cast<uint8_t>(buf_[3]);
        header = 4;
      } else if (len == 127 && buf_.size() >= 10) {
        len = 0;
        for (int i = 0; i < 8; ++i) {
          len = (len << 8) | static_cast<uint8_t>(buf_[2 + i]);
        }
        header = 10;
      } else if (len >= 126) {
        header = 0; // need more bytes for the length
      }
      if (header > 0 && buf_.size() >= header + len) {
        received_frame f;
        f.fin = (b0 & 0x80) != 0;
        f.rsv1 = (b0 & 0x40) != 0;
        f.op = static_cast<net::ws::opcode>(b0 & 0x0f);
        f.payload = buf_.substr(header, len);
        buf_.erase(0, header + len);
        if (f.op == net::ws::opcode::ping && auto_pong) {
          ++pings_seen;
          send_frame(net::ws::opcode::pong, f.payload);
        }
        return f;
      }
    }
    if (!fill(deadline)) {
      return std::nullopt;
    }
  }
}

std::optional<std::string> ws_client::read_message(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    auto f = read_frame(std::max(left, std::chrono::milliseconds(0)));
    if (!f || f->op == net::ws::opcode::close) {
      if (f) {
        buf_.insert(0, net::ws::make_frame(net::ws::opcode::close, f->payload));
      }
      return std::nullopt;
    }
    if (f->op == net::ws::opcode::text || f->op == net::ws::opcode::binary) {
      return f->payload;
    }
  }
}

std::optional<std::string>
ws_client::read_until(const std::function<bool(const std::string&)>& pred,
                      std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    auto m = read_message(std::max(left, std::chrono::milliseconds(0)));
    if (!m) {
      return std::nullopt;
    }
    if (pred(*m)) {
      return m;
    }
  }
}

std::optional<std::string> ws_client::read_type(std::string_view type,
                                                std::chrono::milliseconds timeout) {
  std::string t{type};
  return read_until([t](const std::string& m) { return json_string(m, "type") == t; }, timeout);
}

std::optional<uint16_t> ws_client::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    auto f = read_frame(left);
    if (f) {
      if (f->op == net::ws::opcode::close) {
        return f->close_code();
      }
      continue;
    }
    // No frame: either timeout or EOF. Distinguish with a zero-timeout poll.
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {
      char c;
      if (::recv(fd_, &c, 1, MSG_PEEK) <= 0) {
        return 1006;
      }
      continue;
    }
    if (clock_type::now() >= deadline) {
      return std::nullopt;
    }
  }
}

void ws_client::reset() {
  linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  ::close(fd_);
  fd_ = -1;
}

http_answer http_request(uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::chrono::milliseconds timeout) {
  int fd = -1;
  try {
    fd = connect_tcp(port);
  } catch (...) {
    return {};
  }
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port)
                  + "\r\nConnection: close\r\n";
  for (const auto& h : headers) {
    r += h.first + ": " + h.second + "\r\n";
  }
  if (!body.empty() || method == "POST") {
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size())
         + "\r\n";
  }
  r += "\r\n" + body;
  write_all(fd, r);
  std::string buf;
  auto a = read_http(fd, buf, clock_type::now() + timeout);
  ::close(fd);
  return a;
}

namespace {

bool parse(std::string_view json, simdjson::dom::parser& p, simdjson::dom::element& doc) {
  simdjson::padded_string s{json};
  return p.parse(s).get(doc) == simdjson::SUCCESS;
}

} // namespace

std::string json_string(std::string_view json, std::string_view key) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  std::string_view v;
  if (!parse(json, p, doc) || doc[key].get(v) != simdjson::SUCCESS) {
    return {};
  }
  return std::string{v};
}

std::optional<int64_t> json_int(std::string_view json, std::string_view key) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  int64_t v;
  if (!parse(json, p, doc) || doc[key].get(v) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return v;
}

std::optional<bool> json_bool(std::string_view json, std::string_view key) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  bool v;
  if (!parse(json, p, doc) || doc[key].get(v) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return v;
}

std::string json_raw(std::string_view json, std::string_view key) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  simdjson::dom::element v;
  if (!parse(json, p, doc) || doc[key].get(v) != simdjson::SUCCESS) {
    return {};
  }
  return simdjson::minify(v);
}

std::size_t json_array_size(std::string_view json, std::string_view key) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  simdjson::dom::array a;
  if (!parse(json, p, doc) || doc[key].get(a) != simdjson::SUCCESS) {
    return 0;
  }
  return a.size();
}

bool wait_until(std::chrono::milliseconds timeout, const std::function<bool()>& pred) {
  auto deadline = clock_type::now() + timeout;
  while (!pred()) {
    if (clock_type::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

} // namespace plexus::test
