#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "actors/frame.hpp"
#include "actors/settings.hpp"
#include "actors/wire_format.hpp"

namespace plexus::actors {

/// The domain's view of a client connection: where a session's replies and a room's
/// fan-out go. The net layer implements it for WebSocket connections, tests with a vector,
/// and embedded actors with a mailbox. Rooms hand frames here directly, with no actor
/// message per delivery.
class outbox {
public:
  virtual ~outbox() = default;

  /// Queues a frame for delivery. Thread-safe, never blocks on I/O. Returns false when
  /// the connection is closed, or when the frame would take its queue past the limit
  /// and `policy` is `disconnect` (the outbox then closes itself with 4009).
  virtual bool push(const frame_ptr& f,
                    slow_consumer_policy policy = slow_consumer_policy::disconnect)
    = 0;

  /// Closes the connection after what is already queued, with a WebSocket close code.
  virtual void close(uint16_t code, const std::string& reason) = 0;

  /// The encoding this connection speaks.
  virtual wire_format format() const = 0;

  /// True when the connection negotiated permessage-deflate.
  virtual bool deflate() const = 0;
};

using outbox_ptr = std::shared_ptr<outbox>;

} // namespace plexus::actors
