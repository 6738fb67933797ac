#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace plexus::net::ws {

/// Result of inflating one message.
enum class inflate_status {
  ok,
  too_big, // output would pass the limit: a decompression bomb is stopped here
  error,   // corrupt deflate data
};

/// permessage-deflate decompression of client messages (RFC 7692), bounded: output is
/// produced in chunks and stops as soon as it would pass `limit`, so a tiny frame that
/// inflates to gigabytes costs at most `limit` bytes.
class inflater {
public:
  /// `window_bits` 8..15 as negotiated (client_max_window_bits).
  explicit inflater(int window_bits);
  ~inflater();
  inflater(const inflater&) = delete;
  inflater& operator=(const inflater&) = delete;

  /// Inflates a complete message's compressed payload (the 00 00 ff ff tail is appended
  /// here) into `out`. With `reset_after`, the LZ77 context is dropped afterwards
  /// (client_no_context_takeover).
  inflate_status inflate_message(std::string_view in, std::size_t limit, std::string& out,
                                 bool reset_after);

private:
  struct impl;
  int window_bits_;
  std::unique_ptr<impl> impl_; // created on first use: an unused inflater costs no zlib state
};

// Compression of outgoing messages is in actors/deflate.hpp: rooms compress each
// broadcast once, before fan-out.

} // namespace plexus::net::ws
