#pragma once

#include <optional>
#include <string>

#include "net/http_types.hpp"

namespace plexus::net {

/// The file under `dir` for a GET of `path` ("/" -> index.html), or nullopt when there is
/// none. Paths that try to leave `dir` (.., symlinks out) are treated as missing.
std::optional<http_response> serve_static(const std::string& dir, const std::string& path);

/// Content-Type for a file name by extension.
std::string content_type_for(const std::string& name);

} // namespace plexus::net
