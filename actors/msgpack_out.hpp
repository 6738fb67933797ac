#pragma once

#include <cstddef>
#include <string>

namespace plexus::actors {

/// A `msgpack::packer` stream that appends to a std::string, so frames and payloads are
/// packed straight into their final buffer (a `msgpack::sbuffer` would need a copy).
class string_sink {
public:
  explicit string_sink(std::string& out) : out_(out) {
  }

  void write(const char* data, std::size_t size) {
    out_.append(data, size);
  }

private:
  std::string& out_;
};

// msgpack-c 4.1's packer writes a float whose value is integral (3.0, -0.0, 1e16) as an
// integer, so a value would change type on its way through the server and -0.0 would lose
// its sign. These always write the float format.

/// Appends a msgpack float64 (0xcb).
void append_msgpack_float64(std::string& out, double d);

/// Appends a msgpack float32 (0xca).
void append_msgpack_float32(std::string& out, float f);

} // namespace plexus::actors
