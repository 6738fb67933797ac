#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace plexus::actors {

// Small JSON text writers shared by the payload converter and the server frame builders.
// They append to a caller's buffer so a frame is written straight into its final string.

/// Appends `s` as a quoted JSON string. `"` and `\` are escaped, control characters become
/// `\b \f \n \r \t` or `\u00XX`, and every byte that is not part of a valid UTF-8 sequence
/// becomes U+FFFD, so the output is always valid UTF-8 (WebSocket text frames must be).
void append_json_string(std::string& out, std::string_view s);

/// Appends `d` as the shortest JSON number that reads back as the same double, always with
/// a '.' or an exponent ("3.0", not "3") so it stays a float. NaN and infinities, which JSON
/// cannot express, become `null`.
void append_json_double(std::string& out, double d);

/// Like `append_json_double`, with the shortest text that reads back as the same float
/// (a msgpack float32 of 0.1 prints as 0.1, not 0.10000000149011612).
void append_json_float(std::string& out, float f);

/// Appends a JSON integer.
void append_json_int(std::string& out, int64_t v);

/// Appends a JSON integer.
void append_json_uint(std::string& out, uint64_t v);

/// Appends standard base64 (RFC 4648 alphabet, with `=` padding) of `bytes`, unquoted.
void append_base64(std::string& out, std::string_view bytes);

} // namespace plexus::actors
