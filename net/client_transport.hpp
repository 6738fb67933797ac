#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "net/client_url.hpp"

namespace boost::asio {
class io_context;
}

namespace plexus::net {

/// What one connection attempt asks for.
struct transport_request {
  ws_url url;
  /// Sec-WebSocket-Protocol offered: "plexus.json" or "plexus.msgpack".
  std::string subprotocol;
  /// Sent as `Authorization: Bearer <token>` when not empty (kept out of URLs and logs).
  std::string token;
  /// Offer permessage-deflate.
  bool compression = true;
  /// TCP connect plus upgrade must finish within this.
  std::chrono::milliseconds timeout{10000};
  /// Largest message accepted from the server.
  std::size_t max_message_bytes = 16u << 20;
};

/// How a connection (or an attempt) ended.
struct transport_end {
  /// The WebSocket was open (upgrade done) before it ended.
  bool was_open = false;
  /// Close code from the server's close frame; 1006 when an open connection ended without
  /// one; 0 when it never opened.
  uint16_t close_code = 0;
  /// The close reason, or a description of the error.
  std::string reason;
  /// HTTP status of a refused upgrade; 0 otherwise.
  int http_status = 0;
  /// `Retry-After` (seconds) and `X-Plexus-Alternate` of a refused upgrade.
  std::string retry_after;
  std::string alternate;
};

/// One WebSocket connection of the client, over Boost.Beast. Everything, the handlers
/// included, runs on the thread that runs the io_context given to start() (the client's io
/// thread); none of the functions may be called from another thread.
class client_transport {
public:
  struct handlers {
    /// The upgrade succeeded; `subprotocol` is the one the server chose ("" = none).
    std::function<void(const std::string& subprotocol)> on_open;
    /// One complete data message.
    std::function<void(std::string_view data)> on_message;
    /// Any frame arrived, control frames (ping/pong) included: the peer is alive.
    std::function<void()> on_activity;
    /// Called exactly once, when the connection or attempt is over.
    std::function<void(const transport_end&)> on_end;
  };

  virtual ~client_transport() = default;

  /// Starts resolving, connecting and upgrading.
  static std::shared_ptr<client_transport> start(boost::asio::io_context& io, transport_request req,
                                                 handlers h);

  /// Queues one message (text or binary frame). Messages queued before on_open are sent
  /// right after it; messages sent after close()/abort() are dropped.
  virtual void send(std::string data, bool binary) = 0;
  /// Starts the closing handshake (after what is queued); on_end follows when the server
  /// answers, or after a short grace when it does not.
  virtual void close(uint16_t code, std::string reason) = 0;
  /// Drops the connection now; on_end follows (posted, never from inside this call).
  virtual void abort(std::string why) = 0;
};

} // namespace plexus::net
