#include "actors/channel_name.hpp"

namespace plexus::actors {

namespace {

bool allowed_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c == '-' || c == '.' || c == ':' || c == '@' || c == '/';
}

} // namespace

bool valid_channel_name(std::string_view name) {
  if (name.empty() || name.size() > max_channel_length) {
    return false;
  }
  for (char c : name) {
    if (!allowed_char(c)) {
      return false;
    }
  }
  return true;
}

std::string_view channel_namespace(std::string_view name) {
  auto pos = name.find(':');
  return pos == std::string_view::npos ? std::string_view{} : name.substr(0, pos);
}

std::string_view personal_channel_owner(std::string_view name) {
  constexpr std::string_view prefix = "user:";
  if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix) {
    return name.substr(prefix.size());
  }
  return {};
}

bool channel_matches(std::string_view pattern, std::string_view name) {
  if (!pattern.empty() && pattern.back() == '*') {
    auto prefix = pattern.substr(0, pattern.size() - 1);
    return name.substr(0, prefix.size()) == prefix;
  }
  return pattern == name;
}

} // namespace plexus::actors
