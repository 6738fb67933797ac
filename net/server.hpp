#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/context.hpp"
#include "actors/session.hpp"
#include "net/auth.hpp"
#include "net/http_types.hpp"
#include "net/io_worker.hpp"
#include "net/settings.hpp"
#include "net/tls.hpp"
#include "net/upgrade.hpp"

namespace plexus::net {

/// The actors a server hands connections to.
struct server_deps {
  caf::actor_system* sys = nullptr;
  caf::actor registry;
  caf::actor tracker;
  actors::context ctx;
};

/// The node's HTTP + WebSocket front: I/O workers, the listening socket, routes and the
/// upgrade path. Owned by the engine's node.
class server {
public:
  server(server_settings settings, server_deps deps);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Routes; add before start().
  route_table& routes() {
    return routes_;
  }

  /// Loads the token keys and the TLS certificate, binds `settings.listen` (port 0 picks a
  /// free one), starts the workers and accepts. Returns the bound port. Throws
  /// std::runtime_error naming the option (`node.listen`, `auth.jwt_*`, `tls.*`) on failure.
  uint16_t start();

  /// Stops accepting, closes every connection with 1001 (after what is queued), waits
  /// up to `grace` for them to finish, then stops the workers.
  void stop(std::chrono::milliseconds grace);

  /// Sends `f` to every open connection, then closes each with `code` (drain).
  void close_all(uint16_t code, const std::string& reason);
  /// Queues `make_frame()` (called once per connection, on its worker thread, so each
  /// can differ, e.g. a jittered `reconnect`) to every open connection, then closes each
  /// with `code` after what is queued (drain).
  void send_all_and_close(std::function<actors::frame_ptr()> make_frame, uint16_t code,
                          const std::string& reason);
  /// The same for at most `n` of the open connections (a rebalance sheds some); returns at
  /// once. Connections already closing are not counted.
  void send_some_and_close(std::size_t n, std::function<actors::frame_ptr()> make_frame,
                           uint16_t code, const std::string& reason);

  void set_draining(bool on) {
    draining_.store(on);
  }
  bool draining() const {
    return draining_.load();
  }

  /// Open WebSocket connections on this node.
  std::size_t connections() const;

  uint16_t port() const {
    return port_;
  }
  const server_settings& settings() const {
    return settings_;
  }
  const server_deps& deps() const {
    return deps_;
  }
  const authenticator& auth() const {
    return *auth_;
  }

  /// URL of another node with room, for 503s (set by the engine when clustered).
  std::function<std::string()> alternate_url;
  /// Resume token for a new session id (set by the engine; default "<node>.<session>").
  std::function<std::string(const std::string& session_id)> make_resume;

  // -- used by HTTP sessions ----------------------------------------------------------

  /// Counts a new connection from `ip`; false when over connections_per_ip_per_second.
  bool admit_ip(const std::string& ip);
  /// Turns an accepted plan into a live connection (on `worker`'s thread); over TLS the
  /// connection lives in `tls` and `socket` is unused.
  void open_connection(boost::asio::ip::tcp::socket socket, io_worker& worker,
                       upgrade_plan plan, std::string initial, std::string peer,
                       std::unique_ptr<tls_transport> tls);
  /// The TLS context when `[tls]` is set (https and wss), else null.
  boost::asio::ssl::context* tls_context() const {
    return tls_.get();
  }
  /// Spawns the session actor of an anonymous connection on its first frame.
  caf::actor spawn_lazy_session(const std::shared_ptr<ws_connection>& conn, uint64_t seed);
  /// Everything plan_upgrade needs about this node right now.
  upgrade_context upgrade_state(const std::string& ip);

private:
  // net/server_accept.cpp: the accept loop and what it does at the descriptor limit.
  void prepare_accept();
  void do_accept();
  void end_accept();
  void on_fd_limit(const boost::system::error_code& ec);
  std::size_t shed_pending();

  server_settings settings_;
  server_deps deps_;
  actors::session_config session_config_for(const std::shared_ptr<ws_connection>& conn,
                                            std::string id, actors::identity who,
                                            const std::string& peer);

  std::unique_ptr<authenticator> auth_;
  connection_env env_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  route_table routes_;
  std::vector<std::unique_ptr<io_worker>> workers_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  /// Accepts pause on it after an error that would repeat at once (EMFILE, ENFILE...).
  std::unique_ptr<boost::asio::steady_timer> accept_pause_;
  /// A descriptor held back (on /dev/null) so that, out of descriptors, the node can still
  /// accept a waiting connection to answer it 503 and close it (worker 0's thread only).
  int reserve_fd_ = -1;
  struct fd_limit_state {
    bool active = false; // the last accept failed for lack of descriptors
    uint64_t refused_since_log = 0;
    uint64_t refused_total = 0;
    std::chrono::steady_clock::time_point last_log{};
  } fd_limit_; // worker 0's thread only
  std::size_t next_worker_ = 0;
  uint16_t port_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopping_{false};

  struct ip_window {
    int64_t second = 0;
    uint32_t count = 0;
  };
  std::mutex ip_mu_;
  std::unordered_map<std::string, ip_window> ip_windows_;
};

/// Starts serving HTTP on an accepted socket (defined with the Beast code).
void start_http_session(boost::asio::ip::tcp::socket socket, server& srv, io_worker& worker);

/// Registers the built-in routes: health, readiness, metrics and the server API.
void add_builtin_routes(server& srv);

/// A random id of `n` hex digits (sessions, anonymous users).
std::string random_id(std::size_t n);

} // namespace plexus::net
