#pragma once

#include <string>

#include "actors/wire_format.hpp"

namespace plexus::actors {

/// One application value (a publish's `data`, a status's `meta`) kept in the encoding it
/// arrived in: validated JSON text or one msgpack object. Converted only when a recipient
/// speaks the other format, and then once per message, not once per recipient.
struct payload {
  wire_format format = wire_format::json;
  std::string bytes = "null";

  bool operator==(const payload& other) const {
    return format == other.format && bytes == other.bytes;
  }
};

/// JSON text of the value (compact). Never fails: msgpack input was validated on decode;
/// types JSON lacks (bin, ext) become base64 strings / null.
std::string to_json(const payload& p);

/// msgpack encoding of the value. JSON input was validated on decode.
std::string to_msgpack(const payload& p);

/// The bytes in the requested format, converting only when needed.
std::string encode_as(const payload& p, wire_format f);

} // namespace plexus::actors
