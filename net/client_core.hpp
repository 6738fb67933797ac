#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/client.hpp"
#include "net/client_codec.hpp"
#include "net/client_transport.hpp"
#include "net/client_url.hpp"

namespace plexus::net {

/// What other threads may read about a client: its state and last welcome.
struct client_status {
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  client_state state = client_state::closed;
  std::optional<welcome_event> welcome;
};

/// The client's state machine. Lives on the client's io thread: every member function,
/// and every handler it calls, runs there (the public `client` posts to it).
class client::core {
public:
  using clock = std::chrono::steady_clock;

  core(boost::asio::io_context& io, client_status& status, client_options opts,
       client_handlers handlers, ws_url home);
  ~core();

  void connect();
  void close();
  /// Ends everything now (client destruction): drops the connection, fails every pending
  /// request with `closed`, cancels timers. No handler runs after it.
  void shutdown();

  void subscribe(std::string channel, subscribe_options opts,
                 result_callback<subscribed_event> done);
  void unsubscribe(std::string channel, result_callback<done> done);
  void publish(std::string channel, payload data, result_callback<uint64_t> done);
  void presence(std::string channel, result_callback<presence_event> done);
  void set_status(std::string status, std::optional<payload> meta, result_callback<done> done);
  void ping(result_callback<done> done);
  std::vector<channel_position> positions() const;

private:
  /// A request waiting for its reply. `complete` gets the reply frame, or an error.
  struct pending {
    std::function<void(const server_frame*, const error_event*)> complete;
    clock::time_point deadline;
    bool sent = false;
    /// Re-applied after a reconnect instead of failing with `disconnected`.
    bool survives_drop = false;
    std::string frame;            // the encoded request, kept until sent
    std::string presence_channel; // presence requests: `presence_count` replies lack the id
  };

  struct subscription {
    channel_handlers handlers;
    std::optional<uint64_t> offset; // last offset seen (resume point)
    std::string epoch;
    std::optional<int64_t> request_id; // subscribe in flight
    bool confirmed = false;            // a `subscribed` has arrived at least once
    bool resubscribe = false;          // the request in flight is an automatic one
    std::vector<result_callback<subscribed_event>> waiters;
    clock::time_point deadline;
    /// Set while a re-subscribe that fills a gap in the live stream is in flight: live
    /// messages are dropped meanwhile (the replay brings them).
    std::optional<clock::time_point> gap_since;
  };

  // -- connection life ----------------------------------------------------------------
  void set_state(client_state s);
  void start_attempt();
  void on_open(uint64_t generation, const std::string& subprotocol);
  void on_data(uint64_t generation, std::string_view bytes);
  void on_end(uint64_t generation, const transport_end& e);
  void on_welcome(const welcome_event& w);
  void schedule_retry(const transport_end& e);
  void give_up(const std::string& code, const std::string& why);
  void arm_tick();
  void on_tick();

  // -- frames -------------------------------------------------------------------------
  void handle(server_frame& f);
  void on_subscribed(subscribed_frame& s);
  void on_message(message_event& m);
  void on_presence(presence_frame& p);
  void on_diff(const presence_diff_event& d);
  /// Completes request `id` with frame `f` (or `p`, a presence reply) or error `err`.
  void on_reply(int64_t id, const server_frame* f, const error_event* err,
                const presence_frame* p = nullptr);
  void on_reconnect_frame(const reconnect_frame& r);

  // -- requests -----------------------------------------------------------------------
  int64_t next_id();
  /// Registers a request; sends it now when open, else when the connection opens.
  pending& request(int64_t id, std::string frame, bool survives_drop,
                   std::function<void(const server_frame*, const error_event*)> complete);
  void send_subscribe(const std::string& channel, subscription& sub);
  void send_status();
  void send_frame(std::string bytes);
  void fail_all(const std::string& code, const std::string& why);
  bool open() const {
    return state_ == client_state::open && welcomed_;
  }

  boost::asio::io_context& io_;
  client_status& shared_;
  client_options opts_;
  client_handlers h_;
  ws_url home_;
  std::optional<ws_url> redirect_;         // one-shot: next attempt goes there
  std::optional<uint64_t> redirect_after_; // a `reconnect` frame asked for this delay

  std::shared_ptr<client_transport> transport_;
  uint64_t generation_ = 0; // of transport_; stale callbacks compare and drop out
  client_state state_ = client_state::closed;
  bool started_ = false;  // connect() was called and close() not since
  bool stopping_ = false; // close() in progress or shut down
  bool welcomed_ = false;
  bool fatal_ = false; // the last connection ended in a way a retry cannot fix
  uint32_t attempts_ = 0;
  uint32_t alternate_hops_ = 0;
  std::chrono::milliseconds heartbeat_{0};
  clock::time_point attempt_started_;
  clock::time_point last_rx_;
  clock::time_point last_tx_;

  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer tick_timer_;
  bool ticking_ = false;
  std::mt19937_64 rng_;

  int64_t last_id_ = 0;
  std::map<int64_t, pending> pending_;
  std::deque<int64_t> unsent_; // requests made while not open, in call order
  std::map<std::string, subscription> subs_;
  std::optional<std::pair<std::string, std::optional<payload>>> presence_status_; // to re-apply
  std::vector<std::pair<result_callback<done>, clock::time_point>> status_waiters_;
  std::optional<int64_t> status_request_;
};

} // namespace plexus::net
