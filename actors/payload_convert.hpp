#pragma once

#include <string>

#include "actors/payload.hpp"

namespace plexus::actors {

// The append forms of `to_json` / `to_msgpack`, for builders that write a payload into a
// larger buffer (a server frame) without a temporary string per conversion.

/// Appends the JSON text of `p` to `out` (raw when `p` is JSON already).
void append_json(std::string& out, const payload& p);

/// Appends the msgpack encoding of `p` to `out` (raw when `p` is msgpack already).
void append_msgpack(std::string& out, const payload& p);

/// Appends `p` in format `f`.
void append_as(std::string& out, const payload& p, wire_format f);

} // namespace plexus::actors
