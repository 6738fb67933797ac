#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace plexus::actors {

/// Who may publish into a namespace's channels.
enum class publish_rule : uint8_t {
  any,         // every connected client
  subscribers, // only clients subscribed to the channel
  server,      // only the HTTP API and embedded actors
};

/// What a room does with a subscriber whose send queue is over its limit.
enum class slow_consumer_policy : uint8_t {
  disconnect,  // close with 4009: the client reconnects and recovers from history
  drop_oldest, // drop queued messages, oldest first, until the new one fits
  conflate,    // keep only the newest message per conflation key (market data)
};

/// Settings of one `[[namespace]]` block: what the rooms of that namespace do.
struct namespace_settings {
  /// Namespace name: the part of a channel name before the first ':'; "" is the default namespace.
  std::string name;
  /// Track and publish room membership; costs one presence entry per subscriber.
  bool presence = true;
  /// Send presence_diff joins/leaves to members; off keeps large rooms quiet.
  bool join_leave = true;
  /// Messages kept for recovery; 100 covers a few seconds of a busy chat room.
  std::size_t history_size = 100;
  /// Messages older than this are not replayed; 5 minutes covers a phone switching networks.
  uint32_t history_ttl_s = 300;
  /// Subscribers-only publishing is the safe default for chat rooms.
  publish_rule publish = publish_rule::subscribers;
  /// Above this many members a room sends presence_count instead of full diffs,
  /// so a 20k-member room does not flood its members with n^2 frames.
  std::size_t presence_max_members = 1000;
  /// Disconnecting is the default: the client recovers from history on reconnect.
  slow_consumer_policy slow_consumer = slow_consumer_policy::disconnect;
};

/// Settings of channels whose namespace has no `[[namespace]]` block: plain pub/sub,
/// no presence and no history, so unconfigured channels cost nothing beyond fan-out.
namespace_settings default_namespace_settings();

/// The `[presence]` section.
struct presence_settings {
  /// Sent to clients in `welcome`: how often they should show signs of life.
  uint32_t heartbeat_interval_ms = 60000;
  /// A member silent for this long is shown as gone: three missed heartbeats.
  uint32_t stale_threshold_ms = 180000;
};

/// The per-connection part of the `[limits]` section.
struct session_limits {
  /// 100 frames/s sustained is far above what a human-driven client sends.
  uint32_t messages_per_minute = 6000;
  /// Bounds the per-connection subscription table (memory and fan-out cost).
  uint32_t max_subscriptions = 1000;
};

/// Everything the domain actors need, passed by const& at spawn time.
struct domain_settings {
  std::string node_name;
  presence_settings presence;
  session_limits limits;
  std::vector<namespace_settings> namespaces;
  namespace_settings fallback = default_namespace_settings();
  /// websocket.compression_min_bytes: rooms deflate broadcast frames at least this big.
  std::size_t deflate_min_bytes = 256;
  /// How long a request between actors may take before the client gets `internal`.
  uint32_t request_timeout_ms = 10000;

  /// The settings of the namespace a channel belongs to (fallback if none matches).
  const namespace_settings& namespace_of(const std::string& channel) const;
};

const char* to_string(publish_rule x);
const char* to_string(slow_consumer_policy x);

} // namespace plexus::actors
