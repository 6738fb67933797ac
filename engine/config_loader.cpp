#include "engine/config_loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <toml++/toml.h>

#include "engine/config_table.hpp"

namespace plexus::engine {

namespace ck = config_table;

namespace {

std::string where(const toml::source_region& r, std::string_view source) {
  return std::string{source} + ":" + std::to_string(r.begin.line) + ":"
         + std::to_string(r.begin.column);
}

toml::table parse_document(std::string_view text, std::string_view source) {
#if TOML_EXCEPTIONS
  try {
    return toml::parse(text, std::string{source});
  } catch (const toml::parse_error& e) {
    throw config_error{where(e.source(), source)
                       + ": TOML syntax error: " + std::string{e.description()}};
  }
#else
  auto result = toml::parse(text, std::string{source});
  if (!result) {
    throw config_error{where(result.error().source(), source)
                       + ": TOML syntax error: " + std::string{result.error().description()}};
  }
  return std::move(result).table();
#endif
}

/// "a string (\"64k\")", "a table", ...: what the file holds where something else was expected.
std::string describe(const toml::node& n, bool sensitive) {
  auto with_value = [&](std::string what, const std::string& value) {
    return sensitive ? what : what + " (" + value + ")";
  };
  switch (n.type()) {
    case toml::node_type::string:
      return with_value("a string", ck::render(std::string{*n.value<std::string>()}));
    case toml::node_type::integer:
      return with_value("an integer", std::to_string(*n.value<int64_t>()));
    case toml::node_type::floating_point: {
      std::ostringstream out;
      out << *n.value<double>();
      return with_value("a floating-point number", out.str());
    }
    case toml::node_type::boolean:
      return with_value("a boolean", *n.value<bool>() ? "true" : "false");
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

/// The value of `n` as the key's type, or nullopt with `problem` set.
std::optional<ck::raw_value> from_toml(const toml::node& n, ck::value_type type, bool sensitive,
                                       std::string& problem) {
  switch (type) {
    case ck::value_type::boolean:
      if (auto b = n.value_exact<bool>()) {
        return *b;
      }
      problem = "expected true or false, got " + describe(n, sensitive);
      return std::nullopt;
    case ck::value_type::integer:
      if (auto i = n.value_exact<int64_t>()) {
        return *i;
      }
      problem = "expected an integer, got " + describe(n, sensitive);
      return std::nullopt;
    case ck::value_type::string:
    case ck::value_type::choice:
      if (auto s = n.value_exact<std::string>()) {
        return *s;
      }
      problem = "expected a string, got " + describe(n, sensitive);
      return std::nullopt;
    case ck::value_type::string_list:
      break;
  }
  auto array = n.as_array();
  if (!array) {
    problem = "expected an array of strings, got " + describe(n, sensitive);
    return std::nullopt;
  }
  std::vector<std::string> items;
  for (std::size_t i = 0; i < array->size(); ++i) {
    auto s = (*array)[i].value_exact<std::string>();
    if (!s) {
      problem = "element " + std::to_string(i + 1) + ": expected a string, got "
                + describe((*array)[i], sensitive);
      return std::nullopt;
    }
    items.push_back(*s);
  }
  return items;
}

/// Sets one key from its TOML node; `label` names it in messages.
template <class Target>
void apply_key(Target& target, const ck::key_spec<Target>& k, const toml::node& n,
               const std::string& label, std::string_view source) {
  std::string problem;
  auto v = from_toml(n, k.type, k.sensitive, problem);
  if (!v) {
    throw config_error{where(n.source(), source) + ": " + label + ": " + problem};
  }
  if (auto why = ck::check_value(k, *v); !why.empty()) {
    throw config_error{where(n.source(), source) + ": " + label + " = "
                       + ck::render_for_message(k, *v) + ": " + why};
  }
  k.write(target, *v);
}

template <class Target>
std::vector<std::string> names_of(const std::vector<ck::key_spec<Target>>& keys) {
  std::vector<std::string> names;
  for (const auto& k : keys) {
    names.emplace_back(k.name);
  }
  return names;
}

/// Sections holding a key named `key`, as `section.key`.
std::string elsewhere(std::string_view key) {
  std::string found;
  for (const auto& k : ck::section_keys()) {
    if (k.name == key) {
      found += (found.empty() ? "" : " or ") + std::string{k.section} + "." + std::string{key};
    }
  }
  for (const auto& k : ck::namespace_keys()) {
    if (k.name == key) {
      found += (found.empty() ? "" : " or ") + std::string{"namespace."} + std::string{key};
    }
  }
  return found;
}

[[noreturn]] void unknown_key(std::string_view section, std::string_view key,
                              const std::vector<std::string>& known, const std::string& at) {
  auto msg = at + ": unknown key " + std::string{section} + "." + std::string{key};
  if (auto guess = ck::closest(key, known); !guess.empty()) {
    msg += "; did you mean " + std::string{section} + "." + guess + "?";
  } else if (auto other = elsewhere(key); !other.empty()) {
    msg += "; did you mean " + other + "? (it belongs to another section)";
  } else {
    std::string list;
    for (const auto& name : known) {
      list += (list.empty() ? "" : ", ") + name;
    }
    msg += "; keys of " + std::string{section} + ": " + list;
  }
  throw config_error{msg};
}

[[noreturn]] void unknown_section(std::string_view name, const std::string& at) {
  std::vector<std::string> known;
  for (const auto& s : ck::sections()) {
    known.emplace_back(s.name);
  }
  auto msg = at + ": unknown section [" + std::string{name} + "]";
  if (auto guess = ck::closest(name, known); !guess.empty()) {
    msg += "; did you mean [" + guess + "]?";
  } else if (auto other = elsewhere(name); !other.empty()) {
    msg += "; keys go inside a section: did you mean " + other + "?";
  } else {
    std::string list;
    for (const auto& s : known) {
      list += (list.empty() ? "" : ", ") + s;
    }
    msg += "; sections: " + list;
  }
  throw config_error{msg};
}

void apply_section(config& cfg, std::string_view section, const toml::table& table,
                   std::string_view source) {
  std::vector<const ck::key_spec<config>*> keys;
  for (const auto& k : ck::section_keys()) {
    if (k.section == section) {
      keys.push_back(&k);
    }
  }
  for (auto&& [key, node] : table) {
    const ck::key_spec<config>* spec = nullptr;
    std::vector<std::string> known;
    for (auto k : keys) {
      known.emplace_back(k->name);
      if (k->name == key.str()) {
        spec = k;
      }
    }
    if (!spec) {
      unknown_key(section, key.str(), known, where(key.source(), source));
    }
    apply_key(cfg, *spec, node, std::string{section} + "." + std::string{key.str()}, source);
  }
}

void apply_namespace_block(config& cfg, const toml::table& block, std::size_t index,
                           std::map<std::string, std::string>& seen, std::string_view source) {
  const auto& keys = ck::namespace_keys();
  const auto& name_key = keys.front();
  auto block_at = where(block.source(), source);
  auto name_node = block.get("name");
  if (!name_node) {
    throw config_error{block_at + ": [[namespace]] block " + std::to_string(index + 1)
                       + " has no name; name is required (\"\" = channels without a "
                         "namespace)"};
  }
  actors::namespace_settings named;
  apply_key(named, name_key, *name_node, "namespace.name", source);
  const auto& name = named.name;
  if (auto first = seen.find(name); first != seen.end()) {
    throw config_error{where(name_node->source(), source) + ": duplicate [[namespace]] "
                       + ck::render(name) + " (first defined at " + first->second + ")"};
  }
  seen.emplace(name, where(name_node->source(), source));
  auto existing = cfg.namespaces.begin();
  while (existing != cfg.namespaces.end() && existing->name != name) {
    ++existing;
  }
  auto settings = existing != cfg.namespaces.end() ? *existing
                  : name.empty()                   ? actors::default_namespace_settings()
                                                   : actors::namespace_settings{};
  settings.name = name;
  for (auto&& [key, node] : block) {
    if (key.str() == name_key.name) {
      continue;
    }
    auto spec
      = std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.name == key.str(); });
    if (spec == keys.end()) {
      unknown_key(ck::namespace_section, key.str(), names_of(keys), where(key.source(), source));
    }
    apply_key(settings, *spec, node,
              "namespace." + std::string{key.str()} + " (namespace " + ck::render(name) + ")",
              source);
  }
  if (existing != cfg.namespaces.end()) {
    *existing = std::move(settings);
  } else {
    cfg.namespaces.push_back(std::move(settings));
  }
}

void apply_namespaces(config& cfg, const toml::node& node, std::string_view source) {
  auto array = node.as_array();
  if (!array || (!array->empty() && !array->is_array_of_tables())) {
    throw config_error{where(node.source(), source)
                       + ": namespace must be written as [[namespace]] blocks (an array of "
                         "tables), got "
                       + describe(node, false)};
  }
  std::map<std::string, std::string> seen;
  for (std::size_t i = 0; i < array->size(); ++i) {
    apply_namespace_block(cfg, *(*array)[i].as_table(), i, seen, source);
  }
}

std::string escape_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

} // namespace

void apply_toml(config& cfg, std::string_view toml_text, std::string_view source_name) {
  auto root = parse_document(toml_text, source_name);
  // Work on a copy so a refused file leaves `cfg` as it was.
  auto result = cfg;
  for (auto&& [key, node] : root) {
    auto name = key.str();
    auto at = where(key.source(), source_name);
    auto section = std::find_if(ck::sections().begin(), ck::sections().end(),
                                [&](const auto& s) { return s.name == name; });
    if (section == ck::sections().end()) {
      unknown_section(name, at);
    }
    if (section->array_of_tables) {
      apply_namespaces(result, node, source_name);
      continue;
    }
    auto table = node.as_table();
    if (!table) {
      throw config_error{at + ": " + std::string{name} + " must be a [" + std::string{name}
                         + "] section, got " + describe(node, false)};
    }
    apply_section(result, name, *table, source_name);
  }
  cfg = std::move(result);
}

void apply_toml_file(config& cfg, const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    throw config_error{"cannot read config file " + path + ": " + std::strerror(errno)};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    throw config_error{"cannot read config file " + path + ": " + std::strerror(errno)};
  }
  apply_toml(cfg, text.str(), path);
}

std::vector<key_info> config_keys() {
  std::vector<key_info> result;
  const config defaults;
  const actors::namespace_settings namespace_defaults;
  for (const auto& s : ck::sections()) {
    if (s.array_of_tables) {
      for (const auto& k : ck::namespace_keys()) {
        auto def
          = k.name == "name" ? std::string{"(required)"} : ck::render(k.read(namespace_defaults));
        result.push_back({std::string{k.section}, std::string{k.name},
                          std::string{ck::type_name(k.type)}, def, ck::allowed_text(k),
                          std::string{k.description}, false});
      }
      continue;
    }
    for (const auto& k : ck::section_keys()) {
      if (k.section == s.name) {
        result.push_back({std::string{k.section}, std::string{k.name},
                          std::string{ck::type_name(k.type)}, ck::render(k.read(defaults)),
                          ck::allowed_text(k), std::string{k.description}, true});
      }
    }
  }
  return result;
}

std::string config_reference_markdown() {
  std::ostringstream out;
  out << "# plexus configuration reference\n\n"
         "<!-- Generated from the key table in engine/config_table.cpp: regenerate with\n"
         "     `plexus --print-config-reference > docs/configuration.md`. The engine tests\n"
         "     fail when this file and the table disagree. -->\n\n"
         "A node takes its settings from built-in defaults, then the TOML file given with\n"
         "`--config FILE`, then `--section.key VALUE` flags, each overriding the one before.\n"
         "Start-up refuses unknown sections and keys, values of the wrong type and values\n"
         "outside the allowed range, naming the key, as well as combinations that cannot\n"
         "work (for example `tls.cert_file` without `tls.key_file`).\n\n"
         "On the command line booleans take a value (`--websocket.compression false`) and\n"
         "lists take a comma-separated value or repeated flags\n"
         "(`--cluster.seeds 10.0.0.1:9100,10.0.0.2:9100`; `\"\"` empties a list).\n"
         "`[[namespace]]` blocks can only be written in the TOML file.\n"
         "`examples/quickstart.toml` is a commented example.\n";
  std::string current;
  for (const auto& k : config_keys()) {
    if (k.section != current) {
      current = k.section;
      auto section = std::find_if(ck::sections().begin(), ck::sections().end(),
                                  [&](const auto& s) { return s.name == current; });
      auto header = section->array_of_tables ? "[[" + current + "]]" : "[" + current + "]";
      out << "\n## `" << header << "`\n\n" << section->description << "\n";
      if (section->array_of_tables) {
        out << "\nEvery key but `name` is optional; a block for a new namespace starts from "
               "the defaults below.\nA block named `\"\"` configures the default namespace: "
               "every channel no other block claims\n(channels without a namespace, and "
               "channels of a namespace without a block). Keys it\nomits keep the built-in "
               "defaults of such channels:\n";
        const auto fallback = actors::default_namespace_settings();
        std::string sep;
        for (const auto& nk : ck::namespace_keys()) {
          if (nk.name != "name") {
            out << sep << "`" << nk.name << " = " << ck::render(nk.read(fallback)) << "`";
            sep = ", ";
          }
        }
        out << ".\n";
      }
      out << "\n| key | type | default | allowed | description |\n"
             "| --- | --- | --- | --- | --- |\n";
    }
    out << "| `" << k.key << "` | " << k.type << " | `" << escape_cell(k.default_text) << "` | "
        << escape_cell(k.allowed) << " | " << escape_cell(k.description) << " |\n";
  }
  return out.str();
}

} // namespace plexus::engine
