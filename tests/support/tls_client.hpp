#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/ws_client.hpp"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace plexus::test {

/// A blocking TLS client on 127.0.0.1 for tests (OpenSSL): https requests and wss
/// connections. The server certificate is verified against `ca_file` (the test's
/// self-signed certificate) including the IP address 127.0.0.1.
class tls_client {
public:
  ~tls_client();

  /// Opens TCP and runs the TLS handshake; `handshake_ok()` tells whether it worked.
  static std::unique_ptr<tls_client> connect(uint16_t port, const std::string& ca_file,
                                             std::chrono::milliseconds timeout = 5s);

  bool handshake_ok() const {
    return ssl_ != nullptr;
  }
  /// The certificate chain verified (X509_V_OK).
  bool verified() const {
    return verified_;
  }
  /// The negotiated protocol, e.g. "TLSv1.3".
  std::string protocol() const;

  /// Sends an HTTP request and reads the answer (Content-Length bodies).
  http_answer request(const std::string& method, const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& headers = {},
                      std::chrono::milliseconds timeout = 5s);
  /// Sends a WebSocket upgrade for `path`; true when the answer is 101.
  bool upgrade(const std::string& path = "/ws",
               const std::vector<std::pair<std::string, std::string>>& headers = {},
               std::chrono::milliseconds timeout = 5s);
  const http_answer& answer() const {
    return answer_;
  }

  /// Sends a masked frame.
  void send_frame(net::ws::opcode op, std::string_view payload);
  void send_text(std::string_view s) {
    send_frame(net::ws::opcode::text, s);
  }
  /// The next frame (pings answered automatically); nullopt on timeout or EOF.
  std::optional<received_frame> read_frame(std::chrono::milliseconds timeout = 5s);
  /// The next text/binary payload whose JSON `type` is `type`.
  std::optional<std::string> read_type(std::string_view type,
                                       std::chrono::milliseconds timeout = 5s);
  /// The close code the server sent (1006 on EOF without one), nullopt on timeout.
  std::optional<uint16_t> wait_closed(std::chrono::milliseconds timeout = 5s);

private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  void write_all(std::string_view data);

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool verified_ = false;
  bool eof_ = false;
  http_answer answer_;
  std::string buf_;
};

} // namespace plexus::test
