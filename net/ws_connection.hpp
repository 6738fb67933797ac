#pragma once

#include <atomic>
#include <functional>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <caf/actor.hpp>

#include "actors/metrics.hpp"
#include "actors/outbox.hpp"
#include "actors/rate_limiter.hpp"
#include "net/settings.hpp"
#include "net/ws_frame.hpp"
#include "net/ws_reader.hpp"

namespace plexus::net {

class io_worker;
class tls_transport;

/// What a connection is for.
enum class ws_mode : uint8_t {
  session, // /ws: frames go to a session actor
  echo,    // /ws/echo: messages come back unchanged (conformance suites)
};

class ws_connection;

/// What every connection of a server shares: one instance owned by the server, pointed to
/// by each connection (rather than copied into each: idle connections are most of a
/// node's memory).
struct connection_env {
  const websocket_settings* websocket = nullptr;
  actors::metrics* stats = nullptr;
  std::string node_name;
  uint32_t messages_per_minute = 6000;
  /// How often a connection that answers app-level pings itself tells its session that the
  /// client is alive (presence heartbeats need one per interval, not one per ping).
  std::chrono::milliseconds touch_interval{1000};
  /// Spawns the session actor of a connection that was opened without one (anonymous
  /// clients get theirs on their first frame); `seed` names the session and the user.
  std::function<caf::actor(const std::shared_ptr<ws_connection>&, uint64_t seed)> spawn_session;
};

/// Everything a connection is created with after a successful upgrade.
struct ws_options {
  ws_mode mode = ws_mode::session;
  actors::wire_format format = actors::wire_format::json;
  ws::reader_options reader;
  const connection_env* env = nullptr;
  std::string peer; // "ip:port", for logs
};

/// One WebSocket connection after the upgrade, on one io_worker thread.
///
/// Inbound: socket -> ws::reader -> rate limit -> codec -> anon_send to the session actor.
/// Outbound: anyone (rooms, the session) pushes shared frames; from other threads they go
/// through the worker's inbox (io_worker), which moves them into this connection's queue on
/// the worker thread, so the queues need no lock. The worker writes everything queued in as
/// few writev calls as possible, each frame's header built on the fly (server frames are
/// unmasked, so every subscriber gets the same payload bytes).
///
/// Over TLS (a `tls_transport` given at construction) the same queues feed a second,
/// asynchronous path: reads go through the SSL stream into a per-connection buffer, and
/// each write coalesces the queued frames into one buffer for SSL_write. The plain path
/// only tests a pointer per readiness event.
///
/// States:
///
///   open --(we close: error, slow consumer, shutdown)--> closing: close frame queued
///   open --(peer's close frame)--> close echoed --> closed
///   closing --(peer's close or EOF, or close_timeout)--> closed
///   any --(socket error, heartbeat timeout)--> closed
/// Decrypted bytes per TLS read. Kept per connection because a TLS read completes later,
/// unlike the plain path's synchronous read into a per-thread buffer; small because every
/// idle TLS connection holds it (a 16 KiB record is delivered in a few reads).
constexpr std::size_t tls_read_buffer_size = 4 * 1024;

class ws_connection : public actors::outbox,
                      public ws::reader_handler,
                      public std::enable_shared_from_this<ws_connection> {
public:
  /// `tls` set: the connection is read and written through it, and `socket` is unused.
  /// Otherwise the connection takes the socket's descriptor off Asio (see io_worker).
  ws_connection(boost::asio::ip::tcp::socket socket, io_worker& worker, ws_options opts,
                std::unique_ptr<tls_transport> tls);
  ~ws_connection() override;

  /// Queues `handshake` (the 101 response) and then `welcome` (when set). Called before the
  /// session actor is spawned: frames it pushes at once (the personal channel's
  /// `subscribed`) must not overtake the welcome. Worker thread only.
  void greet(std::string handshake, actors::frame_ptr welcome);
  /// Starts writing and reading; `initial` holds bytes that arrived behind the upgrade
  /// request. Without a `session`, one is spawned through the env on the first data frame,
  /// named by `lazy_seed`. Worker thread only.
  void start(std::string initial, caf::actor session, uint64_t lazy_seed = 0);

  // -- actors::outbox (any thread) --------------------------------------------------

  /// On the worker thread the frame is queued at once (the result says whether); from
  /// another thread it is handed to the worker and true is returned.
  bool push(const actors::frame_ptr& f, actors::slow_consumer_policy policy) override;
  void close(uint16_t code, const std::string& reason) override;
  actors::wire_format format() const override {
    return format_;
  }
  bool deflate() const override {
    return deflate_;
  }
  actors::outbox_sink* sink() const override;

  // -- worker thread only -------------------------------------------------------------

  /// Queues `f` under the slow-consumer policy and marks the connection for the worker's
  /// next round of flushes. False when refused (closing, or cut as a slow consumer).
  bool enqueue(const actors::frame_ptr& f, actors::slow_consumer_policy policy);
  /// Writes what is queued (called by the worker for connections it marked dirty).
  void flush();
  /// Readiness of the plain socket (epoll flags), from the worker's epoll set.
  void on_events(uint32_t events);
  /// Heartbeat and timeout checks, called by the worker's periodic sweep.
  void sweep(std::chrono::steady_clock::time_point now);
  /// Starts a server-initiated close (shutdown, drain, policy).
  void start_close(uint16_t code, const std::string& reason, bool after_queued);
  /// Closes the socket at once and tells the session (shutdown after the workers stopped).
  void abort() {
    finish_close();
  }
  std::size_t worker_slot = 0; // position in the worker's connection list
  bool dirty = false;          // in the worker's list of connections to flush

  const std::string& peer() const {
    return opts_.peer;
  }

  bool is_open() const {
    return state_ == state::open;
  }

private:
  // -- ws::reader_handler --
  void on_message(bool text, std::string_view payload) override;
  void on_ping(std::string_view payload) override;
  void on_pong(std::string_view payload) override;
  void on_close(uint16_t code, std::string_view reason) override;
  void on_protocol_error(uint16_t close_code, std::string_view reason) override;

  enum class state : uint8_t { open, closing, closed };

  /// A queued outgoing frame; `op` text/binary means "the payload for my format".
  struct out_item {
    actors::frame_ptr f;
    ws::opcode op;
    bool raw = false; // bytes in f->json written as-is (the handshake response)
  };

  void on_readable();
  void handle_message(bool text, std::string_view payload);
  void queue_control(ws::opcode op, std::string payload);
  void append(out_item item, std::size_t size); // to queue_, then marks the connection dirty
  /// The bytes `f` takes in this connection's queue (its payload in our encoding).
  std::size_t queued_size(const actors::frame& f) const;
  /// Text for JSON connections, binary for msgpack ones.
  ws::opcode data_opcode() const {
    return format_ == actors::wire_format::json ? ws::opcode::text : ws::opcode::binary;
  }
  void wait_writable();
  bool write_some_items();
  void read_tls();
  bool write_tls();
  void finish_close();
  void count_out(std::size_t bytes);

  // -- Hot: what queuing a frame and a flush touch, kept in a few cache lines. A fan-out
  // round visits thousands of connections, and each line of each is a cache miss.
  io_worker& worker_;
  const connection_env* env_;
  std::vector<out_item> queue_;   // pushed frames, in order
  std::vector<out_item> control_; // pongs, pings, close: ahead of queued data
  std::vector<out_item> writing_; // being written
  std::size_t queued_bytes_ = 0;
  std::size_t write_offset_ = 0; // bytes of writing_ already on the wire
  actors::wire_format format_;
  bool deflate_;
  bool accepting_ = true;          // false once closing: pushes are refused
  bool lagging_ = false;           // over the queue limit since the queue last drained
  bool close_after_queue_ = false; // a close frame waits behind queue_
  bool write_waiting_ = false;
  state state_ = state::open;
  bool close_sent_ = false;
  // TLS only: the stream with its buffers; null on plain connections.
  std::unique_ptr<tls_transport> tls_;
  int fd_ = -1; // plain connections: the socket, ours (taken off Asio), in the worker's epoll

  // -- The rest: reading, heartbeats, the session.
  ws_options opts_;
  ws::reader reader_;
  actors::rate_limiter limiter_;
  caf::actor session_;
  uint64_t lazy_seed_ = 0;    // names the session to spawn on the first frame (when none yet)
  std::string pending_close_; // the payload of the close frame behind queue_
  bool close_received_ = false;
  bool ping_outstanding_ = false;
  bool rate_limit_logged_ = false; // this burst over the limit was logged
  std::chrono::steady_clock::time_point last_rx_;
  std::chrono::steady_clock::time_point ping_sent_{};
  std::chrono::steady_clock::time_point close_deadline_{};
  std::chrono::steady_clock::time_point last_touch_{}; // last liveness note to the session
};

} // namespace plexus::net
