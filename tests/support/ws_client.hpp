#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/ws_frame.hpp"

namespace plexus::test {

using namespace std::chrono_literals;

/// A frame as the test client received it (server frames are unmasked).
struct received_frame {
  net::ws::opcode op = net::ws::opcode::text;
  bool fin = true;
  bool rsv1 = false;
  std::string payload;
  uint16_t close_code() const; // for close frames; 1005 when empty
};

/// The HTTP answer to an upgrade request.
struct http_answer {
  int status = 0;
  std::map<std::string, std::string> headers; // names lowercased
  std::string body;
  std::string header(const std::string& name) const;
};

/// An HTTP response head (status line and headers, up to the blank line) as an answer
/// without a body; header names lowercased.
http_answer parse_http_head(const std::string& head);

/// Options of an upgrade request.
struct ws_request {
  std::string path = "/ws";
  std::string subprotocol;                                  // Sec-WebSocket-Protocol, "" = none
  std::string extensions;                                   // Sec-WebSocket-Extensions, "" = none
  std::vector<std::pair<std::string, std::string>> headers; // extra headers
  int rcvbuf = 0; // SO_RCVBUF before connecting (0 = default): small makes a slow reader
};

/// A blocking WebSocket client over a real TCP socket on 127.0.0.1, for tests. Every read
/// has a deadline; nothing sleeps.
class ws_client {
public:
  ~ws_client();

  /// Connects and upgrades. On a non-101 answer, returns a client whose `answer()` holds
  /// the refusal and which is not open.
  static std::unique_ptr<ws_client> connect(uint16_t port, const ws_request& req = {},
                                            std::chrono::milliseconds timeout = 5s);

  bool open() const {
    return open_;
  }
  const http_answer& answer() const {
    return answer_;
  }

  /// Sends a masked frame.
  void send_frame(net::ws::opcode op, std::string_view payload, bool fin = true, bool rsv1 = false);
  void send_text(std::string_view s) {
    send_frame(net::ws::opcode::text, s);
  }
  void send_binary(std::string_view s) {
    send_frame(net::ws::opcode::binary, s);
  }
  /// Sends raw bytes (hand-built frames, garbage).
  void send_raw(std::string_view bytes);
  void send_close(uint16_t code, std::string_view reason = {});

  /// The next frame, answering pings automatically unless `auto_pong` is off.
  std::optional<received_frame> read_frame(std::chrono::milliseconds timeout = 5s);
  /// The next data frame's payload (skipping control frames); nullopt on timeout/close.
  std::optional<std::string> read_message(std::chrono::milliseconds timeout = 5s);
  /// Reads data messages until one satisfies `pred`; returns it.
  std::optional<std::string> read_until(const std::function<bool(const std::string&)>& pred,
                                        std::chrono::milliseconds timeout = 5s);
  /// The next data message whose JSON `type` equals `type`.
  std::optional<std::string> read_type(std::string_view type,
                                       std::chrono::milliseconds timeout = 5s);

  /// Waits for the server to close: the close frame's code, or 1006 when the TCP
  /// connection ended without one; nullopt on timeout.
  std::optional<uint16_t> wait_closed(std::chrono::milliseconds timeout = 5s);

  bool auto_pong = true;
  /// Pings received so far (when auto_pong answered them).
  int pings_seen = 0;

  int fd() const {
    return fd_;
  }
  /// Resets the TCP connection (RST), as a crashed client would.
  void reset();

private:
  bool fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  bool open_ = false;
  http_answer answer_;
  std::string buf_;
};

/// A plain HTTP request to 127.0.0.1:port; the answer (status 0 on failure).
http_answer http_request(uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body = {},
                         const std::vector<std::pair<std::string, std::string>>& headers = {},
                         std::chrono::milliseconds timeout = 5s);

/// A string field of a JSON object text ("" when absent or not a string).
std::string json_string(std::string_view json, std::string_view key);
/// An integer field (nullopt when absent or not an integer).
std::optional<int64_t> json_int(std::string_view json, std::string_view key);
/// A boolean field.
std::optional<bool> json_bool(std::string_view json, std::string_view key);
/// A field's raw JSON text (minified), "" when absent.
std::string json_raw(std::string_view json, std::string_view key);
/// Number of elements of an array field (0 when absent).
std::size_t json_array_size(std::string_view json, std::string_view key);

/// Waits until `pred()` holds or the deadline passes (polling every 2 ms, for state that
/// offers no event to wait on, such as a metric).
bool wait_until(std::chrono::milliseconds timeout, const std::function<bool()>& pred);

} // namespace plexus::test
