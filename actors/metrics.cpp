#include "actors/metrics.hpp"

#include <cstdio>

namespace plexus::actors {

const char* to_string(rejection r) {
  switch (r) {
    case rejection::bad_request:
      return "bad_request";
    case rejection::unknown_type:
      return "unknown_type";
    case rejection::invalid_channel:
      return "invalid_channel";
    case rejection::permission_denied:
      return "permission_denied";
    case rejection::not_subscribed:
      return "not_subscribed";
    case rejection::rate_limited:
      return "rate_limited";
    case rejection::too_large:
      return "too_large";
    case rejection::internal:
      return "internal";
    case rejection::too_many_subscriptions:
      return "too_many_subscriptions";
    case rejection::unauthorized:
      return "unauthorized";
    case rejection::bad_origin:
      return "bad_origin";
    case rejection::ip_rate:
      return "ip_rate";
    case rejection::node_full:
      return "node_full";
    case rejection::draining:
      return "draining";
    case rejection::bad_upgrade:
      return "bad_upgrade";
    case rejection::not_found:
      return "not_found";
    case rejection::bad_api_key:
      return "bad_api_key";
    case rejection::handshake_timeout:
      return "handshake_timeout";
    case rejection::protocol_error:
      return "protocol_error";
    case rejection::invalid_utf8:
      return "invalid_utf8";
    case rejection::message_too_big:
      return "message_too_big";
    case rejection::rate_limit_close:
      return "rate_limit_close";
    case rejection::heartbeat_timeout:
      return "heartbeat_timeout";
    case rejection::token_expired:
      return "token_expired";
    case rejection::method_not_allowed:
      return "method_not_allowed";
    case rejection::cluster_peer:
      return "cluster_peer";
    case rejection::fd_limit:
      return "fd_limit";
    case rejection::count_:
      break;
  }
  return "unknown";
}

rejection rejection_for(errc code) {
  switch (code) {
    case errc::unknown_type:
      return rejection::unknown_type;
    case errc::invalid_channel:
      return rejection::invalid_channel;
    case errc::permission_denied:
      return rejection::permission_denied;
    case errc::not_subscribed:
      return rejection::not_subscribed;
    case errc::rate_limited:
      return rejection::rate_limited;
    case errc::too_large:
      return rejection::too_large;
    case errc::too_many_subscriptions:
      return rejection::too_many_subscriptions;
    case errc::internal:
      return rejection::internal;
    default:
      return rejection::bad_request;
  }
}

void histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i]) {
    ++i;
  }
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

namespace {

void append(std::string& out, const char* fmt, const char* name, double value) {
  char line[256];
  std::snprintf(line, sizeof(line), fmt, name, value);
  out += line;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

template <class T>
void scalar(std::string& out, const char* name, const char* type, const char* help,
            const std::atomic<T>& v) {
  header(out, name, type, help);
  append(out, "%s %.0f\n", name, static_cast<double>(v.load(std::memory_order_relaxed)));
}

} // namespace

void histogram::render(std::string& out, const char* name, const char* help) const {
  header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  char line[256];
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::snprintf(line, sizeof(line), "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i],
                  static_cast<unsigned long long>(cumulative));
    out += line;
  }
  cumulative += buckets_[bounds.size()].load(std::memory_order_relaxed);
  std::snprintf(line, sizeof(line), "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9f\n%s_count %llu\n",
                name, static_cast<unsigned long long>(cumulative), name,
                static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9, name,
                static_cast<unsigned long long>(count_.load(std::memory_order_relaxed)));
  out += line;
}

std::string metrics::render() const {
  std::string out;
  out.reserve(8192);
  scalar(out, "plexus_connections", "gauge", "Open WebSocket connections.", connections);
  scalar(out, "plexus_connections_total", "counter", "WebSocket connections accepted.",
         connections_total);
  scalar(out, "plexus_messages_in_total", "counter", "Client frames received.",
         messages_in_total);
  scalar(out, "plexus_messages_out_total", "counter", "Frames queued to clients.",
         messages_out_total);
  scalar(out, "plexus_bytes_out_total", "counter", "Bytes written to client sockets.",
         bytes_out_total);
  publish_latency.render(out, "plexus_publish_latency_seconds",
                         "Publish accepted to last local write queued.");
  scalar(out, "plexus_rooms", "gauge", "Rooms (channels) alive on this node.", rooms);
  scalar(out, "plexus_presence_members", "gauge", "Presence entries tracked on this node.",
         presence_members);
  header(out, "plexus_rejected_total", "counter", "Refused inputs by reason.");
  char line[160];
  for (std::size_t i = 0; i < rejected.size(); ++i) {
    std::snprintf(line, sizeof(line), "plexus_rejected_total{reason=\"%s\"} %llu\n",
                  to_string(static_cast<rejection>(i)),
                  static_cast<unsigned long long>(rejected[i].load(std::memory_order_relaxed)));
    out += line;
  }
  scalar(out, "plexus_slow_consumers_total", "counter",
         "Connections cut or conflated for not reading.", slow_consumers_total);
  header(out, "plexus_recovery_total", "counter", "Subscribes with since, by outcome.");
  std::snprintf(line, sizeof(line),
                "plexus_recovery_total{result=\"hit\"} %llu\nplexus_recovery_total{result=\"miss\"} "
                "%llu\n",
                static_cast<unsigned long long>(recovery_hits_total.load()),
                static_cast<unsigned long long>(recovery_misses_total.load()));
  out += line;
  header(out, "plexus_cluster_members", "gauge", "Cluster members by state.");
  std::snprintf(line, sizeof(line),
                "plexus_cluster_members{state=\"up\"} %lld\nplexus_cluster_members{state=\"suspect\"} "
                "%lld\nplexus_cluster_members{state=\"down\"} %lld\n",
                static_cast<long long>(cluster_members_up.load()),
                static_cast<long long>(cluster_members_suspect.load()),
                static_cast<long long>(cluster_members_down.load()));
  out += line;
  header(out, "plexus_cluster_messages_total", "counter", "Inter-node messages by direction.");
  std::snprintf(line, sizeof(line),
                "plexus_cluster_messages_total{direction=\"in\"} "
                "%llu\nplexus_cluster_messages_total{direction=\"out\"} %llu\n",
                static_cast<unsigned long long>(cluster_messages_in_total.load()),
                static_cast<unsigned long long>(cluster_messages_out_total.load()));
  out += line;
  scalar(out, "plexus_cluster_messages_dropped_total", "counter",
         "Inter-node messages dropped (peer queue full, unknown peer).",
         cluster_messages_dropped_total);
  scalar(out, "plexus_cluster_rooms_owned", "gauge", "Rooms this node owns.",
         cluster_rooms_owned);
  scalar(out, "plexus_cluster_room_moves_total", "counter",
         "Room hand-offs sent and room state taken over from another node.",
         cluster_room_moves_total);
  scalar(out, "plexus_cluster_epoch_changes_total", "counter",
         "Rooms whose stream restarted with a new epoch (clients resync).",
         cluster_epoch_changes_total);
  scalar(out, "plexus_cluster_stream_gaps_total", "counter",
         "Followers that found a gap in their owner's stream and resynced.",
         cluster_stream_gaps_total);
  return out;
}

} // namespace plexus::actors
