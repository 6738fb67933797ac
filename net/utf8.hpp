#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace plexus::net {

/// Incremental UTF-8 validator (a DFA): feed a text message in pieces and learn as soon as
/// a byte makes it invalid (fail-fast), not only at the end.
class utf8_validator {
public:
  /// Feeds more bytes; false as soon as the input so far cannot be valid UTF-8.
  bool feed(const uint8_t* data, std::size_t n);
  bool feed(std::string_view s) {
    return feed(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  /// True when everything fed so far ends on a complete code point.
  bool complete() const {
    return state_ == 0;
  }
  void reset() {
    state_ = 0;
  }

private:
  uint32_t state_ = 0;
};

/// True when `s` is entirely valid UTF-8.
bool valid_utf8(std::string_view s);

} // namespace plexus::net
