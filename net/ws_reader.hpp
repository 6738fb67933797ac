#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/utf8.hpp"

namespace plexus::net::ws {

class inflater;

namespace detail {
struct frame_header;
} // namespace detail

/// What the reader reports. Called synchronously from `feed`; views are valid only
/// during the call.
class reader_handler {
public:
  virtual ~reader_handler() = default;
  /// A complete data message (reassembled, inflated, UTF-8 checked when text).
  virtual void on_message(bool text, std::string_view payload) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  virtual void on_pong(std::string_view payload) = 0;
  /// The peer's close frame: `code` 1005 when it carried none.
  virtual void on_close(uint16_t code, std::string_view reason) = 0;
  /// The peer broke the protocol; the connection must be closed with `close_code`
  /// (1002 protocol, 1007 invalid UTF-8, 1009 too big). `feed` stops after this.
  virtual void on_protocol_error(uint16_t close_code, std::string_view reason) = 0;
};

struct reader_options {
  /// Largest message (after reassembly and after inflation) accepted; larger -> 1009.
  std::size_t max_message_bytes = 65536;
  /// permessage-deflate was negotiated: RSV1 on the first frame means compressed.
  bool deflate = false;
  /// The client agreed to reset its compressor per message, so our inflater can be
  /// released between messages (saves ~40 KB per idle compressed connection).
  bool client_no_context_takeover = false;
  /// LZ77 window the client compresses with (8..15).
  int client_max_window_bits = 15;
};

/// The inbound half of a server-side WebSocket connection (RFC 6455 + RFC 7692): consumes
/// raw bytes from the socket and reports messages and control frames. Enforces masking,
/// reserved bits, opcodes, control frame rules (<=125 bytes, not fragmented),
/// fragmentation order, fail-fast UTF-8 for text (also across fragments), close payload
/// validity, and size limits before allocating (a 2^63 length header is refused without
/// buffering anything). Holds no buffer while idle.
class reader {
public:
  explicit reader(const reader_options& opts);
  ~reader();
  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;

  /// Consumes `n` bytes at `data` (which may be modified in place: unmasking). Partial
  /// frames are kept until the next call. After `on_protocol_error` or `on_close`,
  /// further input is ignored. `h` must not call `feed` or destroy the reader from a
  /// callback.
  void feed(uint8_t* data, std::size_t n, reader_handler& h);

  /// True once a close frame or a protocol error was reported.
  bool finished() const {
    return finished_;
  }

  /// Bytes held for partial frames and fragmented messages (for memory accounting).
  std::size_t buffered_bytes() const;

private:
  // Implementation state; see ws_reader.cpp.
  bool start_frame(const detail::frame_header& fh, reader_handler& h);
  void on_payload(uint8_t* data, std::size_t n, reader_handler& h);
  void on_control(std::string_view payload, reader_handler& h);
  void finish_message(std::string_view payload, bool buffered, reader_handler& h);
  void fail(uint16_t close_code, std::string_view reason, reader_handler& h);
  void release_all();

  reader_options opts_;
  std::string pending_;  // an incomplete frame header, or an incomplete control frame's payload
  std::string message_;  // the current data message when it spans frames or feeds
  std::string inflated_; // a compressed message's output, only while it is delivered
  bool in_message_ = false;
  bool message_text_ = false;
  bool message_compressed_ = false;
  bool finished_ = false;
  utf8_validator utf8_;
  std::unique_ptr<inflater> inflater_;
  // The frame whose payload is being read (in_frame_), after its header.
  bool in_frame_ = false;
  bool frame_fin_ = false;
  uint8_t frame_opcode_ = 0;
  uint8_t frame_mask_[4] = {};
  uint64_t frame_remaining_ = 0;
  uint64_t frame_offset_ = 0;
  // Declared payload bytes of the current message's frames so far (the size limit).
  uint64_t message_declared_ = 0;
};

} // namespace plexus::net::ws
