#pragma once

// The one table of configuration keys. Everything else is derived from it: TOML loading,
// `--section.key` flags, validate()'s per-key checks, --help and docs/configuration.md.
// Internal to the engine's config loading; the public face is engine/config_loader.hpp.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/settings.hpp"
#include "engine/config.hpp"
#include "engine/config_value.hpp"

namespace plexus::engine::config_table {

/// One key of one section, bound to the field of `Target` that it sets.
template <class Target>
struct key_spec {
  std::string_view section;
  std::string_view name;
  value_type type = value_type::string;
  int64_t min = 0;                       // integer keys only
  int64_t max = 0;                       // integer keys only
  std::vector<std::string_view> choices; // choice keys only
  text_check check = nullptr;            // string and list keys; per element for lists
  std::string_view allowed;              // human form of `check` ("" = any text)
  bool sensitive = false;                // never echo the value in messages
  std::string_view description;
  std::function<raw_value(const Target&)> read;
  std::function<void(Target&, const raw_value&)> write;
};

/// A section of the file, in the order of PROTOCOL.md.
struct section_info {
  std::string_view name;
  std::string_view description;
  bool array_of_tables = false; // [[namespace]]
};

/// All sections, `[node]` first.
const std::vector<section_info>& sections();

/// Every key of the plain sections (everything but `[[namespace]]`), grouped by section.
const std::vector<key_spec<config>>& section_keys();

/// The keys of one `[[namespace]]` block, `name` first.
const std::vector<key_spec<actors::namespace_settings>>& namespace_keys();

/// The section name of the `[[namespace]]` blocks.
constexpr std::string_view namespace_section = "namespace";

/// The value as shown in an error message: rendered, or `<hidden>` for sensitive keys.
template <class Target>
std::string render_for_message(const key_spec<Target>& k, const raw_value& v) {
  return k.sensitive ? std::string{"<hidden>"} : render(v);
}

/// allowed_text() of a key.
template <class Target>
std::string allowed_text(const key_spec<Target>& k) {
  return allowed_text(k.type, k.min, k.max, k.choices, k.allowed);
}

/// check_value() of a key.
template <class Target>
std::string check_value(const key_spec<Target>& k, const raw_value& v) {
  return check_value(k.type, k.min, k.max, k.choices, k.check, v);
}

} // namespace plexus::engine::config_table
