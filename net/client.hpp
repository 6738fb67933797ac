#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/client_backoff.hpp"
#include "net/client_types.hpp"

namespace plexus::net {

/// Settings of a client. Every default is what a long-running service wants.
struct client_options {
  /// `ws://host:port/ws` of a node (or of a load balancer in front of nodes). A URL without
  /// a path connects to `/ws`. `wss://` is not supported yet.
  std::string url;
  /// Token sent as `Authorization: Bearer` (empty: anonymous, where the node allows it).
  std::string token;
  /// When set, called (on the io thread) before every connection attempt and when the
  /// server sends `refresh_required`; its token replaces `token`. For expiring JWTs.
  std::function<std::string()> token_provider;
  /// `plexus.json` (text frames) or `plexus.msgpack` (binary frames).
  wire_format format = wire_format::json;
  /// Offer permessage-deflate: chat-sized JSON compresses ~3x.
  bool compression = true;
  /// Reconnect strategy, base, cap and max attempts (exponential backoff, full jitter).
  backoff_settings reconnect;
  /// TCP connect + upgrade + welcome must finish within this: 10 s tolerates a slow mobile
  /// link, and a dead address is given up on in reasonable time.
  std::chrono::milliseconds connect_timeout{10000};
  /// A request without a reply after this fails with `timeout`: 10 s is far above any
  /// healthy round trip, so only a stuck server or a long outage trips it.
  std::chrono::milliseconds request_timeout{10000};
  /// Heartbeat interval; 0 = the `heartbeat_ms` of the server's welcome. The client sends
  /// a `ping` after this long without sending anything (which also keeps its presence
  /// fresh), and treats a server silent for twice this as gone (reconnects).
  std::chrono::milliseconds heartbeat{0};
  /// Largest message accepted from the server; 16 MiB is far above any frame a node sends.
  std::size_t max_message_bytes = 16u << 20;
  /// Send the session's resume token (from the last welcome) as `?resume=` on reconnects,
  /// so a load balancer can be sticky by it (docs/deploy.md); nodes ignore the parameter.
  bool resume_in_url = true;
};

/// Options of one subscribe().
struct subscribe_options {
  /// Resume from an offset the application saw before (e.g. saved across a restart of the
  /// program): missed messages are replayed, or the reply says `recovered: false`. Both
  /// or neither. Later re-subscribes use what the client itself saw.
  std::optional<uint64_t> since;
  std::string epoch;
  /// Handlers for this channel only (replacing the client-wide ones for it).
  channel_handlers handlers;
};

/// A plexus client: one WebSocket connection to a node, kept alive across drops, node
/// restarts and drains. Thread-safe: every method may be called from any thread (including
/// from inside a handler); the work happens on the client's own io thread, where all
/// handlers and result callbacks run.
///
///   plexus::net::client_options o;
///   o.url = "ws://127.0.0.1:8080/ws";
///   plexus::net::client c(o, handlers);
///   c.connect();
///   c.subscribe("room:lobby").get();                       // waits for `subscribed`
///   auto ack = c.publish("room:lobby", json(R"({"text":"hi"})")).get();
///   if (ack.ok()) { ack.value(); }                         // the message's offset
///
/// Requests made before the connection is open wait for it (up to request_timeout);
/// requests in flight when it drops fail with `disconnected` (the server may or may not
/// have applied them), except subscribe, unsubscribe and status, which the client
/// re-applies by itself after reconnecting. Every result callback runs exactly once.
class client {
public:
  /// Throws std::invalid_argument naming the option when `opts` is unusable (bad URL,
  /// backoff cap below base...). Does not connect yet.
  explicit client(client_options opts, client_handlers handlers = {});
  /// Closes (a clean close handshake, at most ~2 s) and joins the io thread. Must not be
  /// called from inside one of this client's handlers.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Starts connecting (state `connecting`); reconnects on its own from then on. Returns
  /// at once. Calling it again after close() starts over.
  void connect();
  /// Closes the connection cleanly and stops reconnecting (state `closed`); pending
  /// requests fail with `closed`. Returns at once.
  void close();

  /// The current state (from any thread).
  client_state state() const;
  /// Waits until the state is `s` or `timeout` passes; true when it is `s`.
  bool wait_for_state(client_state s, std::chrono::milliseconds timeout) const;
  /// The welcome of the current (or last) connection.
  std::optional<welcome_event> welcome() const;

  /// Subscribes to `channel`; the result is the first `subscribed` (after the connection
  /// opens, if it is not open yet). The subscription then outlives reconnects: the client
  /// re-subscribes with `since`/`epoch` and reports `recovered: false` through on_resync.
  void subscribe(std::string channel, subscribe_options opts,
                 result_callback<subscribed_event> done);
  std::future<client_result<subscribed_event>> subscribe(std::string channel,
                                                         subscribe_options opts = {});

  /// Leaves `channel`; it is no longer re-subscribed.
  void unsubscribe(std::string channel, result_callback<done> done);
  std::future<client_result<done>> unsubscribe(std::string channel);

  /// Publishes `data` to `channel`; the result is the message's offset (the server's ack).
  /// `data` in the other format than the connection's is converted; malformed data fails
  /// with `invalid_data` without being sent.
  void publish(std::string channel, payload data, result_callback<uint64_t> done);
  std::future<client_result<uint64_t>> publish(std::string channel, payload data);

  /// The members of `channel` (or their count, for rooms over presence_max_members).
  void presence(std::string channel, result_callback<presence_event> done);
  std::future<client_result<presence_event>> presence(std::string channel);

  /// Sets this connection's presence status ("online", "away", "busy", custom) and meta.
  /// Remembered and re-applied after every reconnect.
  void set_status(std::string status, std::optional<payload> meta, result_callback<done> done);
  std::future<client_result<done>> set_status(std::string status,
                                              std::optional<payload> meta = std::nullopt);

  /// An application-level round trip (`ping` -> `pong`).
  void ping(result_callback<done> done);
  std::future<client_result<done>> ping();

  /// Channels currently subscribed (or being subscribed), with the last offset and epoch
  /// seen: what the next re-subscribe will send as since/epoch. Blocks briefly on the
  /// io thread; do not call it from a handler.
  struct channel_position {
    std::string channel;
    std::optional<uint64_t> offset;
    std::string epoch;
  };
  std::vector<channel_position> positions() const;

  class core;

private:
  struct shared;
  std::shared_ptr<shared> shared_;
  std::unique_ptr<core> core_;
};

} // namespace plexus::net
