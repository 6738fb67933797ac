#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/cluster_messages.hpp"
#include "actors/messages.hpp"
#include "cluster/member.hpp"

namespace plexus::cluster {

/// The one envelope version this build speaks; anything else is refused.
constexpr uint32_t wire_version = 1;

/// Bytes of the HMAC-SHA256 tag after each envelope.
constexpr std::size_t mac_size = 32;

enum class envelope_kind : uint8_t {
  gossip = 1,       // members: the sender's member table
  ping,             // probe: "are you alive?" (target = the receiver)
  ping_req,         // probe: "ping target for me" (indirect probe)
  ack,              // probe: the target's answer, with its member entry
  room,             // room: one-way message between rooms
  room_request,     // room: expects a room_reply with the same id
  room_reply,       // room: the answer to request `id`
  channels_request, // "list your rooms" (GET /v1/channels, cluster-wide)
  channels_reply,   // channels: the sender's rooms, answering request `id`
};

const char* to_string(envelope_kind k);

/// A failure-detector probe.
struct probe {
  std::string target;
  std::string origin; // the member that wants to know
  uint64_t nonce = 0;
  std::optional<member_info> entry; // ack: the target's row
};

/// One message between members. Which fields a kind uses is listed in envelope_kind.
struct envelope {
  envelope_kind kind = envelope_kind::gossip;
  std::string sender;
  uint64_t incarnation = 0;
  uint64_t id = 0;
  std::vector<member_info> members;
  struct probe probe;
  actors::room_wire room;
  actors::channel_list channels;
};

/// Packs `e` as msgpack ([version, kind, sender, incarnation, id, body]) and appends
/// HMAC-SHA256(secret, packed). An empty secret is still a key: members must agree on it.
std::string encode(const envelope& e, const std::string& secret);

/// Why an envelope was refused.
enum class wire_error : uint8_t { none, too_short, bad_mac, malformed, wrong_version };

const char* to_string(wire_error e);

/// A decoded envelope, or why not.
struct decoded {
  std::optional<envelope> env;
  wire_error error = wire_error::none;
  std::string detail; // for the log line
};

/// Checks the MAC (constant time) before looking at anything else, then unpacks. Never
/// throws: garbage, truncation and unknown versions come back as an error.
decoded decode(std::string_view bytes, const std::string& secret);

/// The first `hex_chars` hex digits of HMAC-SHA256(secret, data) (resume tokens).
std::string hmac_hex(const std::string& secret, std::string_view data, std::size_t hex_chars);

} // namespace plexus::cluster
