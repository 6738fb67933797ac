#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "actors/errc.hpp"
#include "actors/frame.hpp"
#include "actors/payload.hpp"
#include "actors/presence_types.hpp"

namespace plexus::actors {

// Builders for every server -> client frame of PROTOCOL.md. Each encodes the frame once
// per format `e` asks for (and its deflated variants), into one shared immutable frame.
// Field order in JSON is the order of the parameters; optional fields are omitted when
// empty, except `meta` of members, which is null when absent.

struct welcome_info {
  std::string_view session;
  std::string_view node;
  std::string_view user;
  uint32_t heartbeat_ms = 0;
  std::string_view resume;
};

frame_ptr make_welcome(const welcome_info& w, const encodings& e);

/// `{"type":"subscribed","id"?,"channel","offset","epoch","recovered"?}`
frame_ptr make_subscribed(std::optional<int64_t> id, std::string_view channel, uint64_t offset,
                          std::string_view epoch, std::optional<bool> recovered,
                          const encodings& e);

/// `{"type":"message","channel","data","offset","from"?}`; `from` omitted when empty.
frame_ptr make_message(std::string_view channel, const payload& data, uint64_t offset,
                       std::string_view from, const encodings& e);

/// `{"type":"ack","id","offset"?}`
frame_ptr make_ack(int64_t id, std::optional<uint64_t> offset, const encodings& e);

/// `{"type":"error","id"?,"code","message"}`
frame_ptr make_error(std::optional<int64_t> id, errc code, std::string_view message,
                     const encodings& e);

/// `{"type":"pong","id"?}`
frame_ptr make_pong(std::optional<int64_t> id, const encodings& e);

/// `{"type":"presence","id"?,"channel","members":[member...]}`; a member is
/// `{"user","session","node","status","meta"}`.
frame_ptr make_presence(std::optional<int64_t> id, std::string_view channel,
                        const member_list& members, const encodings& e);

/// `{"type":"presence_diff","channel","joins":[...],"leaves":[...],"updates":[...]}`
frame_ptr make_presence_diff(std::string_view channel, const member_list& joins,
                             const member_list& leaves, const member_list& updates,
                             const encodings& e);

/// `{"type":"presence_count","id"?,"channel","count"}`; the id when it answers a `presence`
/// request for a room over presence_max_members.
frame_ptr make_presence_count(std::optional<int64_t> id, std::string_view channel, uint64_t count,
                              const encodings& e);

/// `{"type":"presence_count","channel","count"}` (pushed by a room, no id).
frame_ptr make_presence_count(std::string_view channel, uint64_t count, const encodings& e);

/// `{"type":"refresh_required","expires_in_ms"}`
frame_ptr make_refresh_required(uint64_t expires_in_ms, const encodings& e);

/// `{"type":"reconnect","url"?,"after_ms"}`; `url` omitted when empty.
frame_ptr make_reconnect(std::string_view url, uint64_t after_ms, const encodings& e);

} // namespace plexus::actors
