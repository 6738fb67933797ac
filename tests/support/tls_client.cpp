#include "tests/support/tls_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>

#include "tests/support/ws_test_frames.hpp"

namespace plexus::test {

namespace {

using clock_type = std::chrono::steady_clock;

int ms_left(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

/// Waits until `fd` is ready for `events`; false on timeout.
bool wait_fd(int fd, short events, clock_type::time_point deadline) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, ms_left(deadline)) > 0;
}

} // namespace

tls_client::~tls_client() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
  }
  if (ctx_ != nullptr) {
    SSL_CTX_free(ctx_);
  }
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::unique_ptr<tls_client> tls_client::connect(uint16_t port, const std::string& ca_file,
                                                std::chrono::milliseconds timeout) {
  auto c = std::unique_ptr<tls_client>(new tls_client());
  auto deadline = clock_type::now() + timeout;
  c->fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return c;
  }
  int one = 1;
  ::setsockopt(c->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(c->ctx_, ca_file.c_str(), nullptr);
  SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_NONE, nullptr); // checked below, to report it
  auto* ssl = SSL_new(c->ctx_);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
  SSL_set_fd(ssl, c->fd_);
  // The socket stays blocking; poll bounds each step of the handshake.
  for (;;) {
    auto rc = SSL_connect(ssl);
    if (rc == 1) {
      break;
    }
    auto err = SSL_get_error(ssl, rc);
    if ((err == SSL_ERROR_WANT_READ && wait_fd(c->fd_, POLLIN, deadline))
        || (err == SSL_ERROR_WANT_WRITE && wait_fd(c->fd_, POLLOUT, deadline))) {
      continue;
    }
    ERR_clear_error();
    SSL_free(ssl);
    return c;
  }
  c->ssl_ = ssl;
  c->verified_ = SSL_get_verify_result(ssl) == X509_V_OK;
  return c;
}

std::string tls_client::protocol() const {
  return ssl_ != nullptr ? SSL_get_version(ssl_) : "";
}

void tls_client::write_all(std::string_view data) {
  while (!data.empty() && ssl_ != nullptr) {
    auto n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
    if (n <= 0) {
      return; // the server is gone; the test sees it on the next read
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool tls_client::fill(clock_type::time_point deadline) {
  if (ssl_ == nullptr || eof_) {
    return false;
  }
  // Bytes already decrypted by OpenSSL are not visible to poll().
  if (SSL_pending(ssl_) == 0 && !wait_fd(fd_, POLLIN, deadline)) {
    return false;
  }
  char tmp[16384];
  auto n = SSL_read(ssl_, tmp, sizeof(tmp));
  if (n <= 0) {
    auto err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ) {
      return clock_type::now() < deadline; // a partial record: poll again
    }
    ERR_clear_error();
    eof_ = true;
    return false;
  }
  buf_.append(tmp, static_cast<std::size_t>(n));
  return true;
}

http_answer tls_client::request(const std::string& method, const std::string& target,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::chrono::milliseconds timeout) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& h : headers) {
    r += h.first + ": " + h.second + "\r\n";
  }
  write_all(r + "\r\n");
  auto deadline = clock_type::now() + timeout;
  std::size_t head_end;
  while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) {
      return {};
    }
  }
  auto a = parse_http_head(buf_.substr(0, head_end + 2));
  buf_.erase(0, head_end + 4);
  auto len_text = a.header("content-length");
  std::size_t len = len_text.empty() ? 0 : std::stoul(len_text);
  while (buf_.size() < len && fill(deadline)) {
  }
  a.body = buf_.substr(0, std::min(len, buf_.size()));
  buf_.erase(0, a.body.size());
  return a;
}

bool tls_client::upgrade(const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::chrono::milliseconds timeout) {
  auto all = headers;
  all.emplace_back("Upgrade", "websocket");
  all.emplace_back("Connection", "Upgrade");
  all.emplace_back("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
  all.emplace_back("Sec-WebSocket-Version", "13");
  answer_ = request("GET", path, all, timeout);
  return answer_.status == 101;
}

void tls_client::send_frame(net::ws::opcode op, std::string_view payload) {
  write_all(client_frame(op, payload));
}

std::optional<received_frame> tls_client::read_frame(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    if (buf_.size() >= 2) {
      auto b0 = static_cast<uint8_t>(buf_[0]);
      uint64_t len = static_cast<uint8_t>(buf_[1]) & 0x7f;
      std::size_t header = 2;
      if (len == 126) {
        header = buf_.size() >= 4 ? 4 : 0;
        len = header ? (static_cast<uint8_t>(buf_[2]) << 8) | static_cast<uint8_t>(buf_[3]) : 0;
      } else if (len == 127) {
        header = buf_.size() >= 10 ? 10 : 0;
        len = 0;
        for (int i = 0; header && i < 8; ++i) {
          len = (len << 8) | static_cast<uint8_t>(buf_[2 + i]);
        }
      }
      if (header > 0 && buf_.size() >= header + len) {
        received_frame f;
        f.fin = (b0 & 0x80) != 0;
        f.rsv1 = (b0 & 0x40) != 0;
        f.op = static_cast<net::ws::opcode>(b0 & 0x0f);
        f.payload = buf_.substr(header, len);
        buf_.erase(0, header + len);
        if (f.op == net::ws::opcode::ping) {
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

std::optional<std::string> tls_client::read_type(std::string_view type,
                                                 std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    auto f = read_frame(std::chrono::milliseconds(ms_left(deadline)));
    if (!f || f->op == net::ws::opcode::close) {
      return std::nullopt;
    }
    if ((f->op == net::ws::opcode::text || f->op == net::ws::opcode::binary)
        && json_string(f->payload, "type") == type) {
      return f->payload;
    }
  }
}

std::optional<uint16_t> tls_client::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    auto f = read_frame(std::chrono::milliseconds(ms_left(deadline)));
    if (f) {
      if (f->op == net::ws::opcode::close) {
        return f->close_code();
      }
      continue;
    }
    if (eof_) {
      return 1006;
    }
    if (clock_type::now() >= deadline) {
      return std::nullopt;
    }
  }
}

} // namespace plexus::test
