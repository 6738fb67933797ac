#include "net/ws_reader.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "net/deflate.hpp"
#include "net/ws_frame.hpp"

// Reading one frame:
//
//   header --(complete header, valid)--> payload --(frame_remaining_ == 0)--> header
//     |                                     |
//     +-- incomplete: kept in pending_      +-- data: unmasked in place; delivered from
//                                               the caller's buffer when the whole
//                                               unfragmented message is there, else
//                                               appended to message_ (text checked as
//                                               it arrives)
//                                           +-- control: from the caller's buffer, or
//                                               gathered in pending_ (<= 125 bytes)
//
// Any violation -> on_protocol_error, finished_; a close frame -> on_close, finished_.

namespace plexus::net::ws {

namespace detail {

struct frame_header {
  bool fin = false;
  bool rsv1 = false;
  bool rsv2 = false;
  bool rsv3 = false;
  bool masked = false;
  uint8_t opcode = 0;
  uint64_t length = 0;
  uint8_t mask[4] = {};
};

} // namespace detail

namespace {

// 2 bytes + 8 bytes of 64-bit length + 4 bytes of mask.
constexpr std::size_t max_client_header = 14;

constexpr uint16_t close_protocol_error = 1002;
constexpr uint16_t close_invalid_payload = 1007;
constexpr uint16_t close_too_big = 1009;

// Decodes a frame header from `n` bytes; returns its size, or 0 when `n` is too short.
std::size_t decode_header(const uint8_t* p, std::size_t n, detail::frame_header& fh) {
  if (n < 2) {
    return 0;
  }
  uint8_t len7 = p[1] & 0x7F;
  fh.masked = (p[1] & 0x80) != 0;
  std::size_t length_bytes = len7 == 126 ? 2 : (len7 == 127 ? 8 : 0);
  std::size_t size = 2 + length_bytes + (fh.masked ? 4 : 0);
  if (n < size) {
    return 0;
  }
  fh.fin = (p[0] & 0x80) != 0;
  fh.rsv1 = (p[0] & 0x40) != 0;
  fh.rsv2 = (p[0] & 0x20) != 0;
  fh.rsv3 = (p[0] & 0x10) != 0;
  fh.opcode = p[0] & 0x0F;
  if (length_bytes == 0) {
    fh.length = len7;
  } else {
    fh.length = 0;
    for (std::size_t i = 0; i < length_bytes; ++i) {
      fh.length = (fh.length << 8) | p[2 + i];
    }
  }
  if (fh.masked) {
    std::memcpy(fh.mask, p + 2 + length_bytes, 4);
  }
  return size;
}

bool is_control(uint8_t op) {
  return (op & 0x08) != 0;
}

bool known_opcode(uint8_t op) {
  switch (static_cast<opcode>(op)) {
    case opcode::continuation:
    case opcode::text:
    case opcode::binary:
    case opcode::close:
    case opcode::ping:
    case opcode::pong:
      return true;
  }
  return false;
}

// Compressed input a message may declare: deflate can expand data it cannot compress
// (stored blocks add ~5 bytes per block, fixed Huffman codes up to 9/8), so a payload
// that inflates to at most `max` bytes may be slightly bigger than `max` on the wire.
uint64_t compressed_limit(std::size_t max) {
  uint64_t m = max;
  uint64_t cap = std::numeric_limits<uint64_t>::max();
  if (m > (cap - 64) / 9 * 8) {
    return cap;
  }
  return m + m / 8 + 64;
}

void release(std::string& s) {
  std::string().swap(s);
}

} // namespace

reader::reader(const reader_options& opts) : opts_(opts) {
}

reader::~reader() = default;

std::size_t reader::buffered_bytes() const {
  return pending_.size() + message_.size();
}

void reader::feed(uint8_t* data, std::size_t n, reader_handler& h) {
  while (!finished_) {
    if (!in_frame_) {
      if (n == 0) {
        return;
      }
      detail::frame_header fh;
      std::size_t used = 0;
      if (pending_.empty()) {
        used = decode_header(data, n, fh);
        if (used == 0) {
          pending_.assign(reinterpret_cast<const char*>(data), n);
          return;
        }
      } else {
        std::size_t had = pending_.size();
        std::size_t take = std::min(n, max_client_header - had);
        pending_.append(reinterpret_cast<const char*>(data), take);
        std::size_t size
          = decode_header(reinterpret_cast<const uint8_t*>(pending_.data()), pending_.size(), fh);
        if (size == 0) {
          return; // every byte (take == n) is kept in pending_
        }
        used = size - had;
        pending_.clear();
      }
      data += used;
      n -= used;
      if (!start_frame(fh, h)) {
        return;
      }
    }
    // Runs for an empty payload too: a zero-length frame completes here.
    std::size_t k = frame_remaining_ < n ? static_cast<std::size_t>(frame_remaining_) : n;
    on_payload(data, k, h);
    data += k;
    n -= k;
    if (in_frame_) {
      return; // n == 0: the rest of this frame's payload comes with the next feed
    }
  }
}

bool reader::start_frame(const detail::frame_header& fh, reader_handler& h) {
  if (fh.rsv2 || fh.rsv3) {
    fail(close_protocol_error, "reserved bit set", h);
    return false;
  }
  uint8_t op = fh.opcode;
  if (!known_opcode(op)) {
    fail(close_protocol_error, "reserved opcode", h);
    return false;
  }
  if (!fh.masked) {
    fail(close_protocol_error, "client frame not masked", h);
    return false;
  }
  if ((fh.length >> 63) != 0) {
    fail(close_protocol_error, "invalid payload length", h);
    return false;
  }
  if (is_control(op)) {
    if (fh.rsv1) {
      fail(close_protocol_error, "RSV1 set on a control frame", h);
      return false;
    }
    if (!fh.fin) {
      fail(close_protocol_error, "fragmented control frame", h);
      return false;
    }
    if (fh.length > 125) {
      fail(close_protocol_error, "control frame payload over 125 bytes", h);
      return false;
    }
  } else {
    if (static_cast<opcode>(op) == opcode::continuation) {
      if (!in_message_) {
        fail(close_protocol_error, "continuation frame without a message", h);
        return false;
      }
      if (fh.rsv1) {
        fail(close_protocol_error, "RSV1 set on a continuation frame", h);
        return false;
      }
    } else {
      if (in_message_) {
        fail(close_protocol_error, "new message before the previous one ended", h);
        return false;
      }
      if (fh.rsv1 && !opts_.deflate) {
        fail(close_protocol_error, "RSV1 set without permessage-deflate", h);
        return false;
      }
      in_message_ = true;
      message_text_ = static_cast<opcode>(op) == opcode::text;
      message_compressed_ = fh.rsv1;
      message_declared_ = 0;
      utf8_.reset();
    }
    // Checked on the declared length, before a byte of the payload is buffered.
    uint64_t limit = message_compressed_ ? compressed_limit(opts_.max_message_bytes)
                                         : uint64_t{opts_.max_message_bytes};
    if (fh.length > limit - message_declared_) {
      fail(close_too_big, "message too big", h);
      return false;
    }
    message_declared_ += fh.length;
  }
  in_frame_ = true;
  frame_fin_ = fh.fin;
  frame_opcode_ = op;
  std::memcpy(frame_mask_, fh.mask, 4);
  frame_remaining_ = fh.length;
  frame_offset_ = 0;
  return true;
}

void reader::on_payload(uint8_t* data, std::size_t n, reader_handler& h) {
  unmask(data, n, frame_mask_, static_cast<std::size_t>(frame_offset_ & 3));
  bool whole = frame_offset_ == 0 && n == frame_remaining_;
  frame_offset_ += n;
  frame_remaining_ -= n;
  std::string_view chunk(reinterpret_cast<const char*>(data), n);
  if (is_control(frame_opcode_)) {
    if (whole) {
      in_frame_ = false;
      on_control(chunk, h);
      return;
    }
    pending_.append(chunk);
    if (frame_remaining_ == 0) {
      in_frame_ = false;
      on_control(pending_, h);
      release(pending_);
    }
    return;
  }
  if (whole && frame_fin_ && static_cast<opcode>(frame_opcode_) != opcode::continuation) {
    // The common case: a whole unfragmented message in the caller's buffer, no copy.
    in_frame_ = false;
    finish_message(chunk, false, h);
    return;
  }
  if (message_text_ && !message_compressed_ && !utf8_.feed(data, n)) {
    fail(close_invalid_payload, "invalid UTF-8 in text message", h);
    return;
  }
  message_.append(chunk);
  if (frame_remaining_ != 0) {
    return;
  }
  in_frame_ = false;
  if (frame_fin_) {
    finish_message(message_, true, h);
  }
}

void reader::on_control(std::string_view payload, reader_handler& h) {
  switch (static_cast<opcode>(frame_opcode_)) {
    case opcode::ping:
      h.on_ping(payload);
      return;
    case opcode::pong:
      h.on_pong(payload);
      return;
    case opcode::close:
      break;
    default:
      return; // start_frame admits no other control opcode
  }
  if (payload.size() == 1) {
    fail(close_protocol_error, "close frame with a 1-byte payload", h);
    return;
  }
  uint16_t code = 1005;
  std::string_view reason;
  if (!payload.empty()) {
    code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8)
                                 | static_cast<uint8_t>(payload[1]));
    if (!valid_close_code(code)) {
      fail(close_protocol_error, "invalid close code", h);
      return;
    }
    reason = payload.substr(2);
    if (!valid_utf8(reason)) {
      fail(close_invalid_payload, "close reason is not UTF-8", h);
      return;
    }
  }
  finished_ = true;
  h.on_close(code, reason);
  release_all();
}

void reader::finish_message(std::string_view payload, bool buffered, reader_handler& h) {
  in_message_ = false;
  if (message_compressed_) {
    if (!inflater_) {
      inflater_ = std::make_unique<inflater>(opts_.client_max_window_bits);
    }
    auto status = inflater_->inflate_message(payload, opts_.max_message_bytes, inflated_,
                                             opts_.client_no_context_takeover);
    release(message_);
    if (opts_.client_no_context_takeover) {
      // No context carries over, so the ~40 KB of zlib state need not outlive the message.
      inflater_.reset();
    }
    if (status == inflate_status::too_big) {
      fail(close_too_big, "message too big after inflation", h);
      return;
    }
    if (status == inflate_status::error) {
      // 1007: the payload is not what the negotiated extension says it is.
      fail(close_invalid_payload, "invalid permessage-deflate data", h);
      return;
    }
    if (message_text_ && !valid_utf8(inflated_)) {
      fail(close_invalid_payload, "invalid UTF-8 in text message", h);
      return;
    }
    h.on_message(message_text_, inflated_);
    release(inflated_);
    return;
  }
  if (message_text_) {
    bool valid = buffered ? utf8_.complete() : valid_utf8(payload);
    if (!valid) {
      fail(close_invalid_payload, "invalid UTF-8 in text message", h);
      return;
    }
  }
  h.on_message(message_text_, payload);
  if (buffered) {
    release(message_);
  }
}

void reader::fail(uint16_t close_code, std::string_view reason, reader_handler& h) {
  finished_ = true;
  release_all();
  h.on_protocol_error(close_code, reason);
}

void reader::release_all() {
  release(pending_);
  release(message_);
  release(inflated_);
  inflater_.reset();
  in_frame_ = false;
  in_message_ = false;
}

} // namespace plexus::net::ws
