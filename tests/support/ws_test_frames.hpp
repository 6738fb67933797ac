#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/ws_frame.hpp"
#include "net/ws_reader.hpp"

namespace plexus::test {

/// A client -> server frame as a browser sends it: masked with `mask_key`, with the
/// shortest length encoding. `first_byte` gives full control of FIN, RSV bits and opcode.
std::string client_frame_raw(uint8_t first_byte, std::string_view payload,
                             uint32_t mask_key = 0x37fa213d, bool masked = true);

/// A masked client frame from its parts.
std::string client_frame(net::ws::opcode op, std::string_view payload, bool fin = true,
                         bool rsv1 = false, uint32_t mask_key = 0x37fa213d);

/// Only the header of a masked client frame declaring `length` payload bytes (for length
/// edge cases, such as 2^63, whose payload is never sent).
std::string client_header(uint8_t first_byte, uint64_t length, uint32_t mask_key = 0x37fa213d);

/// A close frame payload + frame, masked.
std::string client_close(uint16_t code, std::string_view reason = {});

/// What a reader reported, in order.
struct ws_event {
  enum class kind { message, ping, pong, close, error };
  kind what;
  bool text = false;
  uint16_t code = 0;
  std::string payload; // the message, ping/pong payload or close/error reason

  bool operator==(const ws_event& o) const {
    return what == o.what && text == o.text && code == o.code && payload == o.payload;
  }
};

/// Prints an event for test failure messages.
std::string to_string(const ws_event& e);

/// A reader_handler that records every event.
class recording_handler : public net::ws::reader_handler {
public:
  void on_message(bool text, std::string_view payload) override;
  void on_ping(std::string_view payload) override;
  void on_pong(std::string_view payload) override;
  void on_close(uint16_t code, std::string_view reason) override;
  void on_protocol_error(uint16_t close_code, std::string_view reason) override;

  std::vector<ws_event> events;
};

/// Feeds `bytes` to `r` in pieces of `step` bytes (a copy: the reader unmasks in place).
void feed_in_steps(net::ws::reader& r, std::string_view bytes, std::size_t step,
                   net::ws::reader_handler& h);

} // namespace plexus::test
