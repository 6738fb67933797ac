#pragma once

// Values of configuration keys between their source (a TOML node or flag text) and the
// settings field: types, rendering, range and rule checks. Internal to config loading.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace plexus::engine::config_table {

/// The kind of value a key takes; decides TOML type checks, flag parsing and rendering.
enum class value_type : uint8_t {
  boolean,
  integer,
  string,
  string_list,
  choice, // a string from a fixed list
};

/// A value between its source and the settings field.
using raw_value = std::variant<bool, int64_t, std::string, std::vector<std::string>>;

/// Extra rule for a string (or each list element): returns "" when `text` is fine, else the
/// reason it is not.
using text_check = std::string (*)(std::string_view text);

/// Type name for docs and messages ("integer", "string list", ...).
std::string_view type_name(value_type t);

/// `s` as a TOML basic string, quotes included.
std::string quote(std::string_view s);

/// The value as a TOML literal (`true`, `30000`, `"x"`, `["a", "b"]`).
std::string render(const raw_value& v);

/// The allowed values in words ("125..67108864", "any, subscribers, server", ...).
std::string allowed_text(value_type t, int64_t min, int64_t max,
                         const std::vector<std::string_view>& choices, std::string_view allowed);

/// "" when `v` is acceptable for a key with these constraints, else the reason.
std::string check_value(value_type t, int64_t min, int64_t max,
                        const std::vector<std::string_view>& choices, text_check check,
                        const raw_value& v);

/// The candidate closest to `word` (a likely typo of it, or `word` is its prefix), or ""
/// when none is close.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

} // namespace plexus::engine::config_table
