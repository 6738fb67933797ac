#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/deflate.hpp"
#include "tests/support/ws_client.hpp"

namespace plexus::test::conformance {

/// Which of the node's WebSocket endpoints a case runs against.
enum class endpoint {
  echo,    // /ws/echo: data messages come back unchanged
  session, // /ws: data messages are client frames; each gets one reply (ack, error, pong)
};

const char* to_string(endpoint ep);

/// What the peer saw, in order (Autobahn's `received` list).
struct event {
  enum class kind { message, ping, pong, timeout };
  kind what = kind::message;
  std::string payload; // message, ping/pong payload, or the checkpoint tag of a timeout
  bool binary = false;

  bool operator==(const event& o) const {
    return what == o.what && payload == o.payload && binary == o.binary;
  }
};

event text(std::string payload);
event binary(std::string payload);
event ping(std::string payload);
event pong(std::string payload);
event timeout(std::string tag);
std::string describe(const std::vector<event>& events);

/// A scripted WebSocket client over a real socket, playing the part of Autobahn's fuzzing
/// client: it sends exactly the bytes a case gives it, reassembles (and inflates) what the
/// server sends, answers pings, echoes the server's close frame, and notes who closed what.
/// Blocking, one thread; every wait is bounded.
class peer {
public:
  struct options {
    endpoint ep = endpoint::echo;
    std::string extensions;  // Sec-WebSocket-Extensions offer, "" = none
    std::string subprotocol; // Sec-WebSocket-Protocol, "" = none
  };

  ~peer();
  /// Connects and upgrades; on /ws the welcome message is consumed. Check `open()`.
  static std::unique_ptr<peer> connect(uint16_t port, const options& opts);
  /// Connects and sends `request` verbatim (handshake cases); reads the answer's head.
  static std::unique_ptr<peer> connect_raw(uint16_t port, const std::string& request,
                                           endpoint ep = endpoint::echo);

  bool open() const {
    return answer_.status == 101;
  }
  const http_answer& answer() const {
    return answer_;
  }
  /// The agreed permessage-deflate parameters ("" when not agreed).
  std::string extensions() const {
    return answer_.header("sec-websocket-extensions");
  }

  /// Writes `bytes` (one write; TCP_NODELAY). Ignored once the server closed the TCP
  /// connection.
  void send(std::string_view bytes);
  /// Writes `bytes` in pieces of `chop` bytes, one write each (Autobahn's "chopped" sends).
  void send_chopped(std::string_view bytes, std::size_t chop);
  /// Handles what arrives for `d` (returns early when the TCP connection ends).
  void wait(std::chrono::milliseconds d);
  /// Autobahn's continueLater tag: records `timeout(tag)` unless the server already failed
  /// the connection (sent a close frame or closed TCP).
  void checkpoint(std::string tag);
  /// Starts the closing handshake from the client side.
  void close(uint16_t code = 1000, std::string_view reason = {});
  /// Starts it with a hand-made (possibly invalid) close frame.
  void close_raw(std::string_view frame_bytes);
  /// Reads until the TCP connection ends or `timeout` passes (then the peer drops it);
  /// once `received` has `expected_events` events and `close_after` is set, starts the
  /// closing handshake itself (Autobahn's finishWhenDone).
  void finish(std::size_t expected_events, bool close_after, std::chrono::milliseconds timeout);
  /// True once the server sent a close frame or ended the TCP connection.
  bool server_failed() const {
    return close_received || tcp_closed;
  }

  std::vector<event> received;
  std::optional<uint16_t> remote_close_code; // of the server's close frame (1005: empty)
  std::string remote_close_reason;
  bool close_sent = false;
  bool close_received = false;
  bool closed_by_me = false;  // the client sent its close frame first
  bool tcp_closed = false;    // the server ended the TCP connection (EOF or reset)
  bool timed_out = false;     // the peer gave up waiting and dropped the connection
  std::string protocol_error; // the server broke the protocol (unmasked data is fine)

private:
  peer() = default;
  /// Reads what is available until `deadline`; false when the connection ended or the
  /// deadline passed.
  bool pump(std::chrono::steady_clock::time_point deadline);
  void handle_frames();
  void on_frame(uint8_t b0, std::string payload);

  int fd_ = -1;
  endpoint ep_ = endpoint::echo;
  http_answer answer_;
  std::string buf_;
  bool skip_welcome_ = false;
  // A fragmented server message being reassembled.
  bool in_message_ = false;
  bool message_binary_ = false;
  bool message_compressed_ = false;
  std::string message_;
  std::unique_ptr<net::ws::inflater> inflater_;
  bool inflate_reset_ = true; // server_no_context_takeover (always offered back by plexus)
};

} // namespace plexus::test::conformance
