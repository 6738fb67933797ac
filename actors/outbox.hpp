#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/frame.hpp"
#include "actors/settings.hpp"
#include "actors/wire_format.hpp"

namespace plexus::actors {

/// The domain's view of a client connection: where a session's replies and a room's
/// fan-out go. The net layer implements it for WebSocket connections, tests with a vector,
/// and embedded actors with a mailbox. Rooms hand frames here directly, with no actor
/// message per delivery.
class outbox_sink;

class outbox {
public:
  virtual ~outbox() = default;

  /// Queues a frame for delivery. Thread-safe, never blocks on I/O. Returns false when
  /// the outbox refuses it at once: the connection is closed, or the frame would take its
  /// queue past the limit and `policy` is `disconnect` (the outbox then closes itself with
  /// 4009). An outbox that hands frames to another thread (a WebSocket connection pushed
  /// from outside its I/O thread) returns true, and applies the same rules there.
  virtual bool push(const frame_ptr& f,
                    slow_consumer_policy policy = slow_consumer_policy::disconnect)
    = 0;

  /// Closes the connection after what is already queued, with a WebSocket close code.
  virtual void close(uint16_t code, const std::string& reason) = 0;

  /// The encoding this connection speaks.
  virtual wire_format format() const = 0;

  /// True when the connection negotiated permessage-deflate.
  virtual bool deflate() const = 0;

  /// Where this outbox's frames are queued when a room fans out: outboxes with the same
  /// sink take one hand-off per broadcast between them (see outbox_sink). Null: push each.
  virtual outbox_sink* sink() const {
    return nullptr;
  }
};

using outbox_ptr = std::shared_ptr<outbox>;

/// Outboxes of one sink, as a room hands them over. Immutable once handed over: the room
/// builds a new list when its subscribers change, and the sink reads the old one meanwhile.
using outbox_list = std::shared_ptr<const std::vector<outbox_ptr>>;

/// What queues frames for many outboxes at once: one per I/O thread, which owns the queues
/// of its connections. A broadcast then costs the room one call per sink instead of one
/// locked push per subscriber, and the subscribers' queues are only ever touched by the
/// thread that writes them.
class outbox_sink {
public:
  virtual ~outbox_sink() = default;

  /// Pushes `f` to every outbox of `targets` (all of them this sink's), in order with the
  /// other pushes to each, as `push(f, policy)` on each would. Thread-safe, never blocks on
  /// I/O.
  virtual void push_all(frame_ptr f, slow_consumer_policy policy, outbox_list targets) = 0;
};

} // namespace plexus::actors
