#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "actors/frame.hpp"
#include "actors/payload.hpp"

namespace plexus::actors {

/// One published message as a room keeps it for recovery.
struct history_entry {
  uint64_t offset = 0;
  std::chrono::steady_clock::time_point at;
  payload data;
  std::string from;
  /// The frame as encoded at publish time, reused for replay when it has the format the
  /// recovering client speaks.
  frame_ptr encoded;
};

/// The last `capacity` messages of a room, none older than `ttl`. Offsets are consecutive.
class history {
public:
  using time_point = std::chrono::steady_clock::time_point;

  history(std::size_t capacity, std::chrono::seconds ttl) : capacity_(capacity), ttl_(ttl) {
  }

  void append(history_entry e);

  /// Drops entries older than the TTL.
  void expire(time_point now);

  /// True when every message after `since` up to `last_offset` is still here (so replay
  /// has no gap). Call expire() first.
  bool covers(uint64_t since, uint64_t last_offset) const;

  /// Entries with offset > since, oldest first (valid until the next append/expire).
  template <class F>
  void for_each_after(uint64_t since, F&& f) const {
    for (const auto& e : entries_) {
      if (e.offset > since) {
        f(e);
      }
    }
  }

  bool empty() const {
    return entries_.empty();
  }
  std::size_t size() const {
    return entries_.size();
  }
  /// When the newest entry expires, or nullopt-like time_point{} when empty.
  time_point newest_expiry() const;

private:
  std::size_t capacity_;
  std::chrono::seconds ttl_;
  std::deque<history_entry> entries_;
};

} // namespace plexus::actors
