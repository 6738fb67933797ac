#pragma once

#include <string_view>

namespace plexus::actors {

/// Longest channel name a client may use.
constexpr std::size_t max_channel_length = 128;

/// True when `name` is 1-128 characters of `A-Z a-z 0-9 _ - . : @ /`.
bool valid_channel_name(std::string_view name);

/// The namespace of a channel: the part before the first ':', or "" when there is none.
std::string_view channel_namespace(std::string_view name);

/// For `user:<id>` channels, the id; "" for every other channel.
std::string_view personal_channel_owner(std::string_view name);

/// True when `name` matches `pattern`, where a trailing '*' matches any suffix.
bool channel_matches(std::string_view pattern, std::string_view name);

} // namespace plexus::actors
