#include "engine/config_loader.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace plexus::engine {
namespace {

using ::testing::HasSubstr;

struct cli_run {
  cli_outcome outcome;
  std::string out;
  std::string err;
};

/// Runs parse_command_line() on `args` (without the program name).
cli_run run(std::vector<std::string> args) {
  args.insert(args.begin(), "plexus");
  std::vector<const char*> argv;
  for (const auto& a : args) {
    argv.push_back(a.c_str());
  }
  std::ostringstream out;
  std::ostringstream err;
  auto outcome = parse_command_line(static_cast<int>(argv.size()), argv.data(), out, err);
  return {std::move(outcome), out.str(), err.str()};
}

/// A TOML file in the test's temp directory, removed when the test ends.
class temp_toml {
public:
  explicit temp_toml(std::string_view text)
    : path_(::testing::TempDir() + "plexus_cli_test_" + std::to_string(::getpid()) + ".toml") {
    std::ofstream{path_} << text;
  }
  ~temp_toml() {
    std::remove(path_.c_str());
  }
  const std::string& path() const {
    return path_;
  }

private:
  std::string path_;
};

constexpr std::string_view base_toml = R"(
[auth]
anonymous = true
[websocket]
max_message_bytes = 2048
compression = true
[cluster]
seeds = ["10.0.0.1:9100"]
[[namespace]]
name = "room"
)";

TEST(config_cli, no_arguments_gives_the_defaults_and_runs) {
  auto r = run({"--auth.anonymous", "true"});
  ASSERT_FALSE(r.outcome.exit_code) << r.err;
  EXPECT_EQ(r.outcome.cfg.node.listen, "127.0.0.1:8080");
  EXPECT_TRUE(r.outcome.cfg.auth.anonymous);
}

TEST(config_cli, flags_override_the_file) {
  temp_toml file{base_toml};
  auto r
    = run({"--websocket.max_message_bytes", "4096", "--config", file.path(), "--node.name=edge-1"});
  ASSERT_FALSE(r.outcome.exit_code) << r.err;
  const auto& cfg = r.outcome.cfg;
  EXPECT_EQ(cfg.websocket.max_message_bytes, 4096u); // flag beats the file's 2048
  EXPECT_EQ(cfg.node.name, "edge-1");
  EXPECT_TRUE(cfg.auth.anonymous); // from the file
  ASSERT_EQ(cfg.namespaces.size(), 1u);
  EXPECT_EQ(cfg.namespaces[0].name, "room");
}

TEST(config_cli, booleans_take_a_value) {
  temp_toml file{base_toml};
  auto r = run({"--config", file.path(), "--websocket.compression", "false",
                "--websocket.echo_endpoint=true"});
  ASSERT_FALSE(r.outcome.exit_code) << r.err;
  EXPECT_FALSE(r.outcome.cfg.websocket.compression);
  EXPECT_TRUE(r.outcome.cfg.websocket.echo_endpoint);
  r = run({"--config", file.path(), "--websocket.compression", "no"});
  ASSERT_TRUE(r.outcome.exit_code);
  EXPECT_NE(*r.outcome.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("--websocket.compression \"no\": expected true or false"));
}

TEST(config_cli, lists_take_commas_or_repeated_flags) {
  temp_toml file{base_toml};
  auto r = run({"--config", file.path(), "--auth.allowed_origins",
                "https://a.example.com, https://b.example.com", "--auth.allowed_origins",
                "https://c.example.com", "--cluster.seeds", "10.0.0.2:9100,10.0.0.3:9100"});
  ASSERT_FALSE(r.outcome.exit_code) << r.err;
  EXPECT_EQ(r.outcome.cfg.auth.allowed_origins,
            (std::vector<std::string>{"https://a.example.com", "https://b.example.com",
                                      "https://c.example.com"}));
  // A list flag replaces the file's list rather than appending to it.
  EXPECT_EQ(r.outcome.cfg.cluster.seeds,
            (std::vector<std::string>{"10.0.0.2:9100", "10.0.0.3:9100"}));
  r = run({"--config", file.path(), "--cluster.seeds", ""});
  ASSERT_FALSE(r.outcome.exit_code) << r.err;
  EXPECT_TRUE(r.outcome.cfg.cluster.seeds.empty());
}

TEST(config_cli, bad_values_exit_non_zero_naming_the_flag_and_range) {
  auto r = run({"--auth.anonymous", "true", "--websocket.max_message_bytes", "10"});
  ASSERT_TRUE(r.outcome.exit_code);
  EXPECT_NE(*r.outcome.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("--websocket.max_message_bytes 10: out of range, allowed "
                               "125..67108864"));
  r = run({"--auth.anonymous", "true", "--limits.max_connections", "lots"});
  EXPECT_THAT(r.err, HasSubstr("expected an integer in 1..10000000"));
}

TEST(config_cli, unknown_flags_get_a_suggestion) {
  auto r = run({"--websocket.compresion", "false"});
  ASSERT_TRUE(r.outcome.exit_code);
  EXPECT_NE(*r.outcome.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("unknown option --websocket.compresion; did you mean "
                               "--websocket.compression?"));
  r = run({"--namespace.history_size", "5"});
  EXPECT_THAT(r.err, HasSubstr("only be set in the TOML file"));
}

TEST(config_cli, file_and_validation_errors_exit_non_zero) {
  auto r = run({"--config", "/nonexistent/plexus.toml"});
  ASSERT_TRUE(r.outcome.exit_code);
  EXPECT_NE(*r.outcome.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/plexus.toml"));
  r = run({"--auth.anonymous", "true", "--tls.cert_file", "/etc/cert.pem"});
  ASSERT_TRUE(r.outcome.exit_code);
  EXPECT_THAT(r.err, HasSubstr("tls.cert_file and tls.key_file"));
}

TEST(config_cli, help_exits_zero_and_mentions_every_key) {
  auto r = run({"--help"});
  ASSERT_TRUE(r.outcome.exit_code);
  EXPECT_EQ(*r.outcome.exit_code, 0);
  for (const auto& k : config_keys()) {
    auto name = k.section + "." + k.key;
    EXPECT_THAT(r.out, HasSubstr(k.has_flag ? "--" + name : name)) << name;
    EXPECT_THAT(r.out, HasSubstr(k.description)) << name;
  }
  EXPECT_THAT(r.out, HasSubstr("[websocket]:"));
  EXPECT_THAT(r.out, HasSubstr("[default 65536; allowed 125..67108864]"));
  EXPECT_THAT(r.out, HasSubstr("[[namespace]] blocks are TOML-only"));
}

TEST(config_cli, print_config_reference_and_version_exit_zero) {
  auto r = run({"--print-config-reference"});
  ASSERT_TRUE(r.outcome.exit_code);
  EXPECT_EQ(*r.outcome.exit_code, 0);
  EXPECT_EQ(r.out, config_reference_markdown());
  r = run({"--version"});
  ASSERT_TRUE(r.outcome.exit_code);
  EXPECT_EQ(*r.outcome.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("plexus "));
}

} // namespace
} // namespace plexus::engine
