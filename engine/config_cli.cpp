// parse_command_line(): CLI11 flags generated from the key table, on top of the TOML file.

#include <algorithm>
#include <charconv>
#include <iostream>

#include <CLI/CLI.hpp>

#include "engine/config_loader.hpp"
#include "engine/config_table.hpp"

namespace plexus::engine {

namespace ck = config_table;

namespace {

// Keep in step with project(VERSION) in CMakeLists.txt.
constexpr const char* version_text = "plexus 0.1.0";

/// Exit code for a configuration the node refuses (EX_CONFIG of sysexits.h).
constexpr int config_exit_code = 78;

std::string flag_name(const ck::key_spec<config>& k) {
  return "--" + std::string{k.section} + "." + std::string{k.name};
}

/// The value of one or more occurrences of a key's flag; throws config_error naming the flag on
/// a malformed value (ranges are checked by the caller, as for TOML).
ck::raw_value parse_flag_values(const ck::key_spec<config>& k,
                                const std::vector<std::string>& texts) {
  auto flag = flag_name(k);
  auto fail = [&](const std::string& text, std::string_view problem) {
    auto shown = k.sensitive ? std::string{"<hidden>"} : ck::quote(text);
    return config_error{"command line: " + flag + " " + shown + ": " + std::string{problem}};
  };
  const std::string last = texts.empty() ? std::string{} : texts.back();
  switch (k.type) {
    case ck::value_type::boolean:
      if (last == "true" || last == "false") {
        return last == "true";
      }
      throw fail(last, "expected true or false");
    case ck::value_type::integer: {
      int64_t x = 0;
      auto [end, ec] = std::from_chars(last.data(), last.data() + last.size(), x);
      if (ec == std::errc::result_out_of_range) {
        throw fail(last, "out of range, allowed " + ck::allowed_text(k));
      }
      if (ec != std::errc{} || end != last.data() + last.size() || last.empty()) {
        throw fail(last, "expected an integer in " + ck::allowed_text(k));
      }
      return x;
    }
    case ck::value_type::string:
    case ck::value_type::choice:
      return last;
    case ck::value_type::string_list:
      break;
  }
  std::vector<std::string> items;
  for (const auto& text : texts) {
    std::size_t pos = 0;
    while (pos <= text.size()) {
      auto comma = std::min(text.find(',', pos), text.size());
      auto item = text.substr(pos, comma - pos);
      auto first = item.find_first_not_of(" \t");
      if (first != std::string::npos) {
        items.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
      }
      pos = comma + 1;
    }
  }
  return items;
}

std::string value_name(ck::value_type t) {
  switch (t) {
    case ck::value_type::boolean:
      return "BOOL";
    case ck::value_type::integer:
      return "INT";
    case ck::value_type::string:
      return "TEXT";
    case ck::value_type::string_list:
      return "LIST";
    case ck::value_type::choice:
      return "ENUM";
  }
  return "VALUE";
}

std::string help_text(std::string_view description, const std::string& default_text,
                      const std::string& allowed) {
  return std::string{description} + " [default " + default_text + "; allowed " + allowed + "]";
}

std::string namespace_footer() {
  std::string text = "[[namespace]] blocks are TOML-only: write them in the --config file. "
                     "Their keys:\n";
  for (const auto& k : config_keys()) {
    if (!k.has_flag) {
      text += "  namespace." + k.key + " (" + k.type + ") "
              + help_text(k.description, k.default_text, k.allowed) + "\n";
    }
  }
  text += "\nThe full reference: --print-config-reference, or docs/configuration.md.";
  return text;
}

/// The message for arguments CLI11 did not recognise, with a suggestion when one is close.
std::string unexpected_arguments(const std::vector<std::string>& extras) {
  const auto& arg = extras.front();
  if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
    return "unexpected argument '" + arg + "' (every setting is a --section.key VALUE flag)";
  }
  auto name
    = arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
  if (name.compare(0, ck::namespace_section.size() + 1, "namespace.") == 0) {
    return "unknown option " + arg + ": [[namespace]] settings can only be set in the TOML file";
  }
  std::vector<std::string> known{"config", "print-config-reference", "version", "help"};
  for (const auto& k : ck::section_keys()) {
    known.push_back(std::string{k.section} + "." + std::string{k.name});
  }
  auto msg = "unknown option --" + name;
  if (auto guess = ck::closest(name, known); !guess.empty()) {
    msg += "; did you mean --" + guess + "?";
  }
  return msg;
}

} // namespace

cli_outcome parse_command_line(int argc, const char* const* argv) {
  return parse_command_line(argc, argv, std::cout, std::cerr);
}

cli_outcome parse_command_line(int argc, const char* const* argv, std::ostream& out,
                               std::ostream& err) {
  CLI::App app{"plexus: actor-model real-time WebSocket engine.\n"
               "Settings: built-in defaults, then --config FILE, then --section.key flags.\n"
               "Booleans take a value (--websocket.compression false); lists take a "
               "comma-separated value or repeated flags.",
               "plexus"};
  app.get_formatter()->column_width(48);
  std::string config_file;
  app.add_option("--config", config_file, "TOML configuration file, applied before the flags")
    ->type_name("FILE");
  bool print_reference = false;
  app.add_flag("--print-config-reference", print_reference,
               "Print the markdown reference of every key (docs/configuration.md) and exit");
  app.set_version_flag("--version", version_text);
  // Unknown flags are reported by us, with a "did you mean".
  app.allow_extras();

  const config defaults;
  std::vector<std::pair<const ck::key_spec<config>*, CLI::Option*>> flags;
  for (const auto& k : ck::section_keys()) {
    auto opt = app.add_option(flag_name(k));
    opt->description(help_text(k.description, ck::render(k.read(defaults)), ck::allowed_text(k)));
    opt->type_name(value_name(k.type))->group("[" + std::string{k.section} + "]");
    opt->multi_option_policy(k.type == ck::value_type::string_list
                               ? CLI::MultiOptionPolicy::TakeAll
                               : CLI::MultiOptionPolicy::TakeLast);
    flags.emplace_back(&k, opt);
  }
  app.footer(namespace_footer());

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return {config{}, app.exit(e, out, err)};
  }
  if (!app.remaining().empty()) {
    err << "plexus: " << unexpected_arguments(app.remaining())
        << "\nRun with --help for more information.\n";
    return {config{}, static_cast<int>(CLI::ExitCodes::ExtrasError)};
  }
  if (print_reference) {
    out << config_reference_markdown();
    return {config{}, 0};
  }
  try {
    config cfg;
    if (!config_file.empty()) {
      apply_toml_file(cfg, config_file);
    }
    for (const auto& [k, opt] : flags) {
      if (opt->count() == 0) {
        continue;
      }
      auto v = parse_flag_values(*k, opt->results());
      if (auto why = ck::check_value(*k, v); !why.empty()) {
        throw config_error{"command line: " + flag_name(*k) + " " + ck::render_for_message(*k, v)
                           + ": " + why};
      }
      k->write(cfg, v);
    }
    validate(cfg);
    return {std::move(cfg), std::nullopt};
  } catch (const config_error& e) {
    err << "plexus: " << e.what() << "\n";
    return {config{}, config_exit_code};
  }
}

} // namespace plexus::engine
