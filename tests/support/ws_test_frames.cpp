#include "tests/support/ws_test_frames.hpp"

#include <algorithm>

namespace plexus::test {

namespace {

std::string header_bytes(uint8_t first_byte, uint64_t length, bool masked) {
  std::string out;
  out.push_back(static_cast<char>(first_byte));
  uint8_t mask_bit = masked ? 0x80 : 0x00;
  if (length < 126) {
    out.push_back(static_cast<char>(mask_bit | length));
  } else if (length <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(length >> 8));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) {
      out.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
    }
  }
  return out;
}

void append_mask(std::string& out, uint32_t mask_key) {
  for (int i = 3; i >= 0; --i) {
    out.push_back(static_cast<char>((mask_key >> (8 * i)) & 0xFF));
  }
}

} // namespace

std::string client_frame_raw(uint8_t first_byte, std::string_view payload, uint32_t mask_key,
                             bool masked) {
  std::string out = header_bytes(first_byte, payload.size(), masked);
  if (!masked) {
    out.append(payload);
    return out;
  }
  append_mask(out, mask_key);
  uint8_t key[4] = {static_cast<uint8_t>(mask_key >> 24), static_cast<uint8_t>(mask_key >> 16),
                    static_cast<uint8_t>(mask_key >> 8), static_cast<uint8_t>(mask_key)};
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<char>(static_cast<uint8_t>(payload[i]) ^ key[i % 4]));
  }
  return out;
}

std::string client_frame(net::ws::opcode op, std::string_view payload, bool fin, bool rsv1,
                         uint32_t mask_key) {
  auto first
    = static_cast<uint8_t>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<uint8_t>(op));
  return client_frame_raw(first, payload, mask_key);
}

std::string client_header(uint8_t first_byte, uint64_t length, uint32_t mask_key) {
  std::string out = header_bytes(first_byte, length, true);
  append_mask(out, mask_key);
  return out;
}

std::string client_close(uint16_t code, std::string_view reason) {
  return client_frame(net::ws::opcode::close, net::ws::close_payload(code, reason));
}

std::string to_string(const ws_event& e) {
  static const char* names[] = {"message", "ping", "pong", "close", "error"};
  std::string s = names[static_cast<int>(e.what)];
  if (e.what == ws_event::kind::message) {
    s += e.text ? "(text" : "(binary";
  } else {
    s += "(" + std::to_string(e.code);
  }
  s += ", " + std::to_string(e.payload.size()) + " bytes: ";
  s += e.payload.substr(0, 40);
  return s + ")";
}

void recording_handler::on_message(bool text, std::string_view payload) {
  events.push_back({ws_event::kind::message, text, 0, std::string(payload)});
}

void recording_handler::on_ping(std::string_view payload) {
  events.push_back({ws_event::kind::ping, false, 0, std::string(payload)});
}

void recording_handler::on_pong(std::string_view payload) {
  events.push_back({ws_event::kind::pong, false, 0, std::string(payload)});
}

void recording_handler::on_close(uint16_t code, std::string_view reason) {
  events.push_back({ws_event::kind::close, false, code, std::string(reason)});
}

void recording_handler::on_protocol_error(uint16_t close_code, std::string_view reason) {
  events.push_back({ws_event::kind::error, false, close_code, std::string(reason)});
}

void feed_in_steps(net::ws::reader& r, std::string_view bytes, std::size_t step,
                   net::ws::reader_handler& h) {
  std::string copy(bytes);
  auto* p = reinterpret_cast<uint8_t*>(copy.data());
  for (std::size_t i = 0; i < copy.size(); i += step) {
    r.feed(p + i, std::min(step, copy.size() - i), h);
  }
}

} // namespace plexus::test
