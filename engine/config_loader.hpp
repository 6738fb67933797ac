#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config.hpp"

namespace plexus::engine {

/// A configuration the node refuses to start with. The message names the key
/// (`websocket.max_message_bytes`), the bad value and what is allowed, or the unknown
/// key/section with a "did you mean" when one is close. Thrown at start-up only.
struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Applies a TOML document on top of `cfg` (keys it sets override, others keep their value).
/// Refuses unknown sections and keys, wrong types, out-of-range integers and bad enum values.
/// `[[namespace]]` blocks are matched by `name`: a block for a name already in
/// `cfg.namespaces` overrides that entry, a new name is appended (starting from the
/// `namespace_settings` defaults, or from `actors::default_namespace_settings()` for the
/// name "", which configures the default namespace). `cfg` is unchanged on error.
/// Cross-key rules are validate()'s job. Throws config_error.
void apply_toml(config& cfg, std::string_view toml_text, std::string_view source_name);

/// apply_toml() on the contents of the file at `path`; a missing or unreadable file is a
/// config_error.
void apply_toml_file(config& cfg, const std::string& path);

/// Checks every key's range again (a config may also be built in code) and the rules that
/// involve several keys (tls cert and key both or neither, timeouts ordered, send queue
/// above the message size, ...). Throws config_error naming the key(s).
void validate(const config& cfg);

/// What parse_command_line() decided: run with `cfg`, or exit with `exit_code`.
struct cli_outcome {
  config cfg;
  /// Set when the process should exit now: 0 after --help, --version or
  /// --print-config-reference, non-zero after an error (already printed).
  std::optional<int> exit_code;
};

/// The node's command line: `--config FILE` (TOML, applied first), then every key as a
/// `--section.key VALUE` flag overriding the file, then validate(). Prints help, version,
/// the reference and errors itself and never calls exit().
cli_outcome parse_command_line(int argc, const char* const* argv);

/// parse_command_line() printing to `out` (help, version, reference) and `err` (errors).
cli_outcome parse_command_line(int argc, const char* const* argv, std::ostream& out,
                               std::ostream& err);

/// The markdown reference of every key (section, key, type, default, allowed values,
/// description); docs/configuration.md is exactly this text.
std::string config_reference_markdown();

/// One configuration key as documented (for tools and tests).
struct key_info {
  std::string section; // "websocket", or "namespace" for `[[namespace]]` keys
  std::string key;     // "max_message_bytes"
  std::string type;    // "boolean", "integer", "string", "string list", "choice"
  std::string default_text;
  std::string allowed;
  std::string description;
  /// False for `[[namespace]]` keys, which only the TOML file can set.
  bool has_flag = true;
};

/// Every key, in reference order.
std::vector<key_info> config_keys();

/// A `host:port` address as written in `node.listen` or `cluster.bind`.
struct host_port {
  /// Without brackets for IPv6 (`::1` for `[::1]:8080`).
  std::string host;
  uint16_t port = 0;
};

/// Parses `host:port`, `a.b.c.d:port` or `[v6]:port`; nullopt when malformed.
std::optional<host_port> parse_host_port(std::string_view text);

/// True for `localhost`, 127.0.0.0/8 and `::1`.
bool is_loopback_host(std::string_view host);

} // namespace plexus::engine
