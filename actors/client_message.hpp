#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "actors/errc.hpp"
#include "actors/payload.hpp"

namespace plexus::actors {

// Client -> server frames (PROTOCOL.md "Frames"), decoded and validated by the codec.
// Field checks that need no state (types, ranges, channel name syntax) happen in the
// codec; checks that need state (permissions, subscriptions) happen in the actors.

struct subscribe_request {
  std::string channel;
  std::optional<uint64_t> since; // last offset the client saw
  std::optional<std::string> epoch;
};

struct unsubscribe_request {
  std::string channel;
};

struct publish_request {
  std::string channel;
  payload data;
};

struct presence_request {
  std::string channel;
};

struct status_request {
  std::string status;
  std::optional<payload> meta;
};

struct ping_request {};

struct refresh_request {
  std::string token;
};

using client_body = std::variant<subscribe_request, unsubscribe_request, publish_request,
                                 presence_request, status_request, ping_request,
                                 refresh_request>;

/// One decoded client frame. `id`, when present, asks for a reply carrying it.
struct client_message {
  std::optional<int64_t> id;
  client_body body;
};

/// Why a frame could not be decoded. `id` is set when the frame was readable enough to
/// carry one, so the error reply can name the request it answers.
struct decode_error {
  errc code = errc::bad_request;
  std::string message;
  std::optional<int64_t> id;
};

/// Largest `meta` object accepted in a `status` frame (PROTOCOL: oversized -> bad_request).
constexpr std::size_t max_meta_bytes = 1024;

/// Longest status string.
constexpr std::size_t max_status_length = 64;

} // namespace plexus::actors
