#include "bench/harness/peer.hpp"

#include <cstring>

namespace plexus::bench {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool contains(std::string_view s, std::string_view needle, std::size_t window) {
  auto n = std::min(s.size(), window);
  return ::memmem(s.data(), n, needle.data(), needle.size()) != nullptr;
}

} // namespace

std::optional<peer_kind> parse_peer(const std::string& name) {
  if (name == "plexus") {
    return peer_kind::plexus;
  }
  if (name == "ws-broadcast" || name == "ws") {
    return peer_kind::ws_broadcast;
  }
  if (name == "nchan") {
    return peer_kind::nchan;
  }
  if (name == "socketio" || name == "socket.io") {
    return peer_kind::socketio;
  }
  if (name == "floor") {
    return peer_kind::floor;
  }
  return std::nullopt;
}

const char* to_string(peer_kind p) {
  switch (p) {
    case peer_kind::plexus:
      return "plexus";
    case peer_kind::ws_broadcast:
      return "ws-broadcast";
    case peer_kind::nchan:
      return "nchan";
    case peer_kind::socketio:
      return "socketio";
    case peer_kind::floor:
      return "floor";
  }
  return "?";
}

ws_url peer::url_for(const ws_url& target, const std::string& channel, bool publisher) const {
  switch (kind_) {
    case peer_kind::plexus:
    case peer_kind::ws_broadcast:
    case peer_kind::floor:
      return target;
    case peer_kind::nchan:
      return target.with_path((publisher ? "/pub/" : "/sub/") + channel);
    case peer_kind::socketio:
      return target.with_path("/socket.io/?EIO=4&transport=websocket");
  }
  return target;
}

std::string peer::subprotocol() const {
  return kind_ == peer_kind::plexus ? "plexus.json" : "";
}

std::string peer::on_open_frame() const {
  return kind_ == peer_kind::socketio ? "40" : "";
}

std::string peer::subscribe_frame(const std::string& channel, int64_t id) const {
  if (kind_ == peer_kind::socketio) {
    // Event with ack id: 42<id>["subscribe","<channel>"] -> 43<id>[...]
    return "42" + std::to_string(id) + "[\"subscribe\",\"" + channel + "\"]";
  }
  return "{\"type\":\"subscribe\",\"channel\":\"" + channel + "\",\"id\":" + std::to_string(id)
         + "}";
}

void peer::append_publish(std::string& out, const std::string& channel,
                          std::string_view data) const {
  switch (kind_) {
    case peer_kind::plexus:
    case peer_kind::ws_broadcast:
    case peer_kind::floor:
      out += "{\"type\":\"publish\",\"channel\":\"";
      out += channel;
      out += "\",\"data\":";
      out += data;
      out += '}';
      return;
    case peer_kind::nchan:
      out += data;
      return;
    case peer_kind::socketio:
      out += "42[\"publish\",\"";
      out += channel;
      out += "\",";
      out += data;
      out += ']';
      return;
  }
}

msg_kind peer::classify(std::string_view m) const {
  switch (kind_) {
    case peer_kind::nchan:
      return msg_kind::message; // subscribers get the raw payloads, nothing else
    case peer_kind::socketio:
      if (starts_with(m, "42[\"message\"")) {
        return msg_kind::message;
      }
      if (m == "2") {
        return msg_kind::ping;
      }
      if (starts_with(m, "43")) {
        return msg_kind::subscribed;
      }
      if (starts_with(m, "40")) {
        return msg_kind::welcome;
      }
      if (starts_with(m, "44")) {
        return msg_kind::error;
      }
      return msg_kind::other;
    case peer_kind::plexus:
    case peer_kind::ws_broadcast:
    case peer_kind::floor:
      break;
  }
  // Servers write "type" first; look a little further for encoders that do not.
  if (starts_with(m, "{\"type\":\"message\"")) {
    return msg_kind::message;
  }
  if (contains(m, "\"type\":\"message\"", 64)) {
    return msg_kind::message;
  }
  if (contains(m, "\"type\":\"subscribed\"", 64)) {
    return msg_kind::subscribed;
  }
  if (contains(m, "\"type\":\"presence_diff\"", 64)) {
    return msg_kind::presence_diff;
  }
  if (contains(m, "\"type\":\"welcome\"", 64)) {
    return msg_kind::welcome;
  }
  if (contains(m, "\"type\":\"ack\"", 64)) {
    return msg_kind::ack;
  }
  if (contains(m, "\"type\":\"error\"", 64)) {
    return msg_kind::error;
  }
  return msg_kind::other;
}

std::optional<int64_t> find_int(std::string_view msg, std::string_view key) {
  const auto* p
    = static_cast<const char*>(::memmem(msg.data(), msg.size(), key.data(), key.size()));
  if (p == nullptr) {
    return std::nullopt;
  }
  const char* end = msg.data() + msg.size();
  p += key.size();
  bool neg = p < end && *p == '-';
  p += neg ? 1 : 0;
  if (p >= end || *p < '0' || *p > '9') {
    return std::nullopt;
  }
  int64_t v = 0;
  while (p < end && *p >= '0' && *p <= '9') {
    v = v * 10 + (*p - '0');
    ++p;
  }
  return neg ? -v : v;
}

namespace {

/// Parses a non-negative decimal at `p`; advances `p`. False when there is no digit.
bool parse_uint(const char*& p, const char* end, int64_t& v) {
  if (p >= end || *p < '0' || *p > '9') {
    return false;
  }
  v = 0;
  while (p < end && *p >= '0' && *p <= '9') {
    v = v * 10 + (*p - '0');
    ++p;
  }
  return true;
}

} // namespace

bool find_stamp(std::string_view msg, int64_t& t, int64_t& s) {
  const char* p = msg.data();
  const char* end = p + msg.size();
  while (true) {
    p = static_cast<const char*>(std::memchr(p, 't', static_cast<std::size_t>(end - p)));
    if (p == nullptr || end - p < 4) {
      return false;
    }
    if (p > msg.data() && p[-1] == '"' && p[1] == '"' && p[2] == ':') {
      break;
    }
    ++p;
  }
  p += 3;
  if (!parse_uint(p, end, t)) {
    return false;
  }
  static constexpr std::string_view s_key = ",\"s\":";
  if (end - p > static_cast<std::ptrdiff_t>(s_key.size())
      && std::memcmp(p, s_key.data(), s_key.size()) == 0) {
    p += s_key.size();
    return parse_uint(p, end, s);
  }
  auto rest = find_int(std::string_view(p, static_cast<std::size_t>(end - p)), "\"s\":");
  if (!rest) {
    return false;
  }
  s = *rest;
  return true;
}

std::string_view find_str(std::string_view msg, std::string_view key, std::size_t from) {
  if (from >= msg.size()) {
    return {};
  }
  const auto* p = static_cast<const char*>(
    ::memmem(msg.data() + from, msg.size() - from, key.data(), key.size()));
  if (p == nullptr) {
    return {};
  }
  p += key.size();
  const auto* end = static_cast<const char*>(
    std::memchr(p, '"', static_cast<std::size_t>(msg.data() + msg.size() - p)));
  if (end == nullptr) {
    return {};
  }
  return std::string_view(p, static_cast<std::size_t>(end - p));
}

} // namespace plexus::bench
