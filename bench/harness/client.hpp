#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/harness/url.hpp"
#include "bench/harness/ws_codec.hpp"

namespace plexus::bench {

class event_loop;

/// Where connections go: an address and the prebuilt HTTP upgrade request for one path.
/// Built once and shared by every connection to it.
struct endpoint {
  ws_url url;
  sockaddr_in addr{};
  std::string request;
  bool loopback = false;

  /// Resolves `url` (numeric IPv4 or "localhost") and builds the upgrade request, offering
  /// `subprotocol` when not empty. Throws std::runtime_error on a bad host.
  static endpoint make(const ws_url& url, const std::string& subprotocol);
};

/// Connection life cycle:
///
///   queued --(slot free)--> connecting --(writable)--> upgrading --(101)--> open
///   open --(close())--> closing --(server close frame or EOF)--> closed
///   open --(server close frame: echoed)--> closed
///   any --(socket error, EOF, non-101 answer)--> closed (failed if never open)
enum class conn_state : uint8_t { queued, connecting, upgrading, open, closing, closed };

/// One client WebSocket connection, owned by its event_loop and touched only on its thread.
/// Scenarios keep their per-connection data in the plain fields at the end.
struct connection {
  // -- I/O state, managed by the loop ------------------------------------------------
  int fd = -1;
  conn_state state = conn_state::queued;
  event_loop* loop = nullptr;
  const endpoint* ep = nullptr;
  int rcvbuf = 0;          // SO_RCVBUF set before connect; 0 = kernel default
  uint32_t source_ip = 0;  // bound before connect (network order); 0 = any
  std::string in;          // bytes of a partial frame (or the HTTP answer) kept between reads
  std::string out;         // bytes not yet accepted by the socket
  std::size_t out_off = 0; // of `out`, already written
  std::string frag;        // a fragmented message being reassembled
  ws_op frag_op = ws_op::text;
  uint32_t mask_state = 0x9E3779B9;
  bool reading = true;     // false: EPOLLIN off (a consumer that stopped reading)
  bool want_write = false; // EPOLLOUT on
  bool close_sent = false;
  bool close_received = false;
  bool failed = false;     // closed before the upgrade completed
  int http_status = 0;     // of the upgrade answer
  uint16_t close_code = 0; // from the server's close frame; 1006 when none came
  std::string error;       // why it failed or closed abnormally
  int64_t t_queued = 0;
  int64_t t_connect = 0; // connect() called
  int64_t t_open = 0;    // 101 received

  // -- scenario data ---------------------------------------------------------------
  uint32_t id = 0;
  uint32_t group = 0; // room, target index, ...
  int role = 0;
  bool ready = false; // subscribed / welcomed, as the scenario defines
  bool slow = false;
  int64_t t_sent = 0; // a request in flight (echo)
  uint64_t received = 0;
  std::string session;

  /// Frames `payload` and queues it; call flush() to write (or use send()).
  void queue(ws_op op, std::string_view payload);
  /// queue() + flush().
  void send(ws_op op, std::string_view payload);
  void send_text(std::string_view payload) {
    send(ws_op::text, payload);
  }
  /// Writes what is queued, as far as the socket takes it.
  void flush();
  /// Starts the closing handshake with `code`.
  void close(uint16_t code = 1000);
  /// Closes the socket at once (RST, no TIME_WAIT), without a closing handshake.
  void abort();
  /// Stops / resumes reading (a slow consumer).
  void pause_reading();
  void resume_reading();
};

/// What a scenario hears from its connections, always on the loop's thread.
class conn_events {
public:
  virtual ~conn_events() = default;
  /// The upgrade completed.
  virtual void on_open(connection& c, int64_t now) = 0;
  /// A complete text or binary message; `now` is when the read that carried it returned.
  /// `msg` points into a buffer valid during the call only.
  virtual void on_message(connection& c, std::string_view msg, int64_t now) = 0;
  /// A pong control frame (answers to our pings).
  virtual void on_pong(connection& c, std::string_view payload, int64_t now);
  /// The connection is closed (see close_code, failed, error).
  virtual void on_closed(connection& c, int64_t now) = 0;
};

/// One epoll loop driving many connections: non-blocking connects (at most
/// `max_pending` at once, so a SYN backlog is never flooded), HTTP upgrades and frames.
/// Reads land in one shared scratch buffer; only a partial frame at the end of a read is
/// copied into the connection, so steady-state reading allocates nothing.
class event_loop {
public:
  event_loop(conn_events& ev, std::size_t max_pending);
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  /// Queues a new connection to `ep`; it connects when a slot is free.
  connection& open(const endpoint& ep, int rcvbuf = 0, uint32_t source_ip = 0);

  /// Starts queued connects, waits up to `timeout_ms` (or the wake_at time) for events and
  /// handles them.
  void run_once(int timeout_ms);

  /// Makes run_once return no later than `at_ns` (CLOCK_MONOTONIC), with µs precision.
  void wake_at(int64_t at_ns);

  /// Connections still queued, connecting or upgrading.
  std::size_t pending() const {
    return queued_.size() + in_progress_;
  }

  std::vector<std::unique_ptr<connection>>& connections() {
    return conns_;
  }

  /// Closes every socket at once.
  void abort_all();

  // -- used by connection --
  void update_interest(connection& c);
  void finish(connection& c, const char* why);

private:
  void start_connect(connection& c);
  void on_writable(connection& c);
  void on_readable(connection& c);
  bool handle_upgrade(connection& c, int64_t now);
  std::size_t parse_frames(connection& c, char* data, std::size_t len, int64_t now);
  void dispatch(connection& c, const ws_frame_view& f, int64_t now);

  conn_events& ev_;
  int epfd_ = -1;
  int timerfd_ = -1;
  std::size_t max_pending_;
  std::size_t in_progress_ = 0;
  std::deque<connection*> queued_;
  std::vector<std::unique_ptr<connection>> conns_;
  std::vector<char> scratch_;
};

/// Raises the soft open-file limit to the hard one; returns the new soft limit.
long raise_fd_limit();

/// The source address number `i` of `n` for loopback targets: 127.0.0.(1 + i % n), so
/// tens of thousands of connections (and their TIME_WAITs) spread over several addresses'
/// ephemeral ports and per-address connection limits. 0 when `n` is 0.
uint32_t loopback_source(std::size_t i, std::size_t n);

} // namespace plexus::bench
