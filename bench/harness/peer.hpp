#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bench/harness/url.hpp"

namespace plexus::bench {

/// Which server the harness talks to. Every peer gets the same scenario; only the
/// handful of frames below differ.
enum class peer_kind : uint8_t {
  plexus,       // PROTOCOL.md: welcome, subscribe/subscribed, publish, message
  ws_broadcast, // bench/peers/ws-broadcast.js: the same JSON frames, no welcome
  nchan,        // nginx + nchan: subscribe = connect to /sub/<channel>, raw payloads
  socketio,     // socket.io over raw engine.io websocket framing (EIO=4)
  floor,        // bench/floor: the ws_broadcast frames from a minimal epoll server
};

std::optional<peer_kind> parse_peer(const std::string& name);
const char* to_string(peer_kind p);

/// What an incoming message is, as far as a scenario cares.
enum class msg_kind : uint8_t {
  welcome,       // plexus welcome / socket.io namespace connect: ready to send
  subscribed,    // the subscription is live
  message,       // a channel delivery
  presence_diff, // plexus presence_diff
  ack,           // publish acknowledged
  error,         // an error frame
  ping,          // socket.io/engine.io ping: answer with pong_frame()
  other,
};

/// The peer-specific frames and paths; stateless.
class peer {
public:
  explicit peer(peer_kind k) : kind_(k) {
  }

  peer_kind kind() const {
    return kind_;
  }

  /// The URL a subscriber of `channel` (or, with `publisher`, a publisher into it)
  /// connects to, given the user's --target.
  ws_url url_for(const ws_url& target, const std::string& channel, bool publisher) const;

  /// The WebSocket subprotocol to offer ("" = none).
  std::string subprotocol() const;

  /// Frames to send right after the upgrade ("" = none; socket.io's namespace connect).
  std::string on_open_frame() const;

  /// True when a connection can send as soon as it is open; false when it must wait for
  /// a msg_kind::welcome first.
  bool ready_on_open() const {
    return kind_ == peer_kind::ws_broadcast || kind_ == peer_kind::nchan
           || kind_ == peer_kind::floor;
  }

  /// True when a subscription needs a subscribe frame (nchan subscribes by path).
  bool needs_subscribe_frame() const {
    return kind_ != peer_kind::nchan;
  }

  /// The subscribe frame for `channel` with request id `id`.
  std::string subscribe_frame(const std::string& channel, int64_t id) const;

  /// Appends a publish of JSON value `data` into `channel` (no ack requested).
  void append_publish(std::string& out, const std::string& channel, std::string_view data) const;

  /// Classifies a server message by looking at its first bytes only (no JSON parse).
  msg_kind classify(std::string_view msg) const;

  /// The answer to a msg_kind::ping.
  std::string pong_frame() const {
    return "3";
  }

private:
  peer_kind kind_;
};

/// Finds the integer after `key` (e.g. "\"t\":") in `msg` with memmem: how a delivery's
/// send timestamp and sequence number are read without parsing JSON. nullopt if absent.
std::optional<int64_t> find_int(std::string_view msg, std::string_view key);

/// Finds the publisher's stamp `"t":<ns>,"s":<seq>` in a delivery: memchr for 't' and
/// a check of its neighbours, then `s` read right behind `t` — cheaper than two memmem
/// calls, which showed as a fifth of the generator's time. False when absent.
bool find_stamp(std::string_view msg, int64_t& t, int64_t& s);

/// Finds the string value after `key` (e.g. "\"session\":\"") up to the next quote.
std::string_view find_str(std::string_view msg, std::string_view key, std::size_t from = 0);

} // namespace plexus::bench
