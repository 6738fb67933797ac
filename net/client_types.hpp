#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "actors/payload.hpp"
#include "actors/presence_types.hpp"
#include "actors/wire_format.hpp"

namespace plexus::net {

// Values the C++ client (net/client.hpp) hands to the application. Every server frame of
// PROTOCOL.md has a struct here; field names are the protocol's.

/// An application value (`data` of a message, `meta` of a member): JSON text or one msgpack
/// object, converted with `actors::to_json` / `actors::to_msgpack` when needed.
using payload = actors::payload;
/// One session's presence entry: user, session, node, status, meta.
using member = actors::member;
using member_list = actors::member_list;
using actors::wire_format;

/// A JSON value for publish/status, e.g. `json(R"({"text":"hi"})")`.
inline payload json(std::string text) {
  return payload{wire_format::json, std::move(text)};
}

/// A msgpack value (one complete msgpack object) for publish/status.
inline payload msgpack(std::string bytes) {
  return payload{wire_format::msgpack, std::move(bytes)};
}

/// Connection state as the application sees it:
///
///   closed --connect()--> connecting --welcome--> open
///                             |                     |
///                             | fails               | drops, silent server, `reconnect`
///                             v                     v
///                        reconnecting <-------------+
///                             |  backoff, then next attempt; welcome -> open
///                             v
///                          closed   (close(), attempts exhausted, or a refusal that
///                                    retrying cannot fix: 400/401/403, close 1008)
enum class client_state : uint8_t {
  connecting,
  open,
  reconnecting,
  closed,
};

/// "connecting", "open", "reconnecting" or "closed".
const char* to_string(client_state s);

/// `welcome {session, node, user, heartbeat_ms, resume}`.
struct welcome_event {
  std::string session;
  std::string node;
  std::string user;
  uint32_t heartbeat_ms = 0;
  std::string resume;
};

/// `subscribed {channel, offset, epoch, recovered?}`, for a first subscribe and for every
/// automatic re-subscribe after a reconnect (`resubscribed` true).
struct subscribed_event {
  std::string channel;
  uint64_t offset = 0;
  std::string epoch;
  /// Present when the subscribe carried `since`: false means messages were missed and
  /// cannot be replayed (history window passed, or a new epoch): the application resyncs.
  std::optional<bool> recovered;
  bool resubscribed = false;
};

/// `message {channel, data, offset, from?}`.
struct message_event {
  std::string channel;
  payload data;
  uint64_t offset = 0;
  std::string from; // publisher's user id; empty for server-side publishes
};

/// `presence {channel, members}`, or `presence_count {channel, count}` for rooms over
/// `presence_max_members` (then `members` is empty and `count` set).
struct presence_event {
  std::string channel;
  member_list members;
  std::optional<uint64_t> count;
};

/// `presence_diff {channel, joins, leaves, updates}`.
struct presence_diff_event {
  std::string channel;
  member_list joins;
  member_list leaves;
  member_list updates;
};

/// `error {id?, code, message}` (codes of PROTOCOL.md), or an error the client itself
/// reports: `timeout` (no reply within request_timeout), `disconnected` (the connection
/// dropped before the reply), `closed` (the client was closed or gave up), `invalid_data`
/// (malformed JSON/msgpack value), `connect_failed` (a refusal that ends reconnecting),
/// `protocol` (undecodable frame), `unsubscribed`, `not_subscribed`, `bad_request`.
struct error_event {
  std::optional<int64_t> id;
  std::string code;
  std::string message;
};

/// The live stream of `channel` skipped offsets: `expected` was due, `got` arrived. The
/// client re-subscribes with `since` = expected - 1 by itself (on_gap only informs).
struct gap_event {
  std::string channel;
  uint64_t expected = 0;
  uint64_t got = 0;
};

/// Why a connection ended, for logs and UIs (`on_disconnect`).
struct disconnect_info {
  /// WebSocket close code the server sent; 1006 when the connection ended without one;
  /// 0 when no connection was established.
  uint16_t close_code = 0;
  std::string reason;
  /// HTTP status of a refused upgrade (401, 503...); 0 otherwise.
  int http_status = 0;
  /// Whether the client will try again, and after how long.
  bool will_retry = false;
  uint64_t retry_in_ms = 0;
  /// The URL of the next attempt (an alternate node, or the configured URL).
  std::string next_url;
};

/// Success of a request that carries no value (unsubscribe, status, ping).
struct done {};

/// What a request (subscribe, publish, presence...) ends with: its value or an error.
/// Never throws; check `ok()` first.
template <class T>
class client_result {
public:
  client_result(T value) : v_(std::move(value)) {
  }
  client_result(error_event err) : v_(std::move(err)) {
  }

  bool ok() const {
    return v_.index() == 0;
  }
  /// The value; only when ok().
  const T& value() const {
    return std::get<0>(v_);
  }
  /// The error; only when !ok().
  const error_event& error() const {
    return std::get<1>(v_);
  }

private:
  std::variant<T, error_event> v_;
};

/// Completion callback of a request; runs on the client's io thread.
template <class T>
using result_callback = std::function<void(const client_result<T>&)>;

/// Per-channel handlers given to subscribe(). A handler set here replaces the client-wide
/// one (client_handlers) for this channel; one left empty falls back to it.
struct channel_handlers {
  std::function<void(const message_event&)> on_message;
  std::function<void(const presence_event&)> on_presence;
  std::function<void(const presence_diff_event&)> on_presence_diff;
};

/// Client-wide handlers. All run on the client's io thread, one at a time: keep them short,
/// do not block in them, and do not destroy the client from inside one. Calling the
/// client's methods from a handler is fine.
struct client_handlers {
  std::function<void(client_state)> on_state;
  std::function<void(const welcome_event&)> on_welcome;
  std::function<void(const message_event&)> on_message;
  /// Presence snapshots the server pushes after a subscribe to a presence namespace.
  std::function<void(const presence_event&)> on_presence;
  std::function<void(const presence_diff_event&)> on_presence_diff;
  /// Every `subscribed`, including automatic re-subscribes.
  std::function<void(const subscribed_event&)> on_subscribed;
  /// A (re)subscribe came back with `recovered: false`: the application must resync
  /// that channel (load state from elsewhere); messages were missed.
  std::function<void(const subscribed_event&)> on_resync;
  /// Errors no pending request claims (no id, or an unknown id), and connect failures
  /// that end reconnecting.
  std::function<void(const error_event&)> on_error;
  /// Every end of a connection or failed attempt, with what happens next.
  std::function<void(const disconnect_info&)> on_disconnect;
  /// A gap in a channel's live stream (a message lost between nodes); the client fills it
  /// by re-subscribing with `since` (replayed, or on_resync when history cannot).
  std::function<void(const gap_event&)> on_gap;
};

} // namespace plexus::net
