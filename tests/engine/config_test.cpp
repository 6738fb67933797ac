#include "engine/config_loader.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/config.hpp"
#include "engine/config_table.hpp"

namespace plexus::engine {
namespace {

using ::testing::HasSubstr;

config load(std::string_view toml) {
  config cfg;
  apply_toml(cfg, toml, "test.toml");
  return cfg;
}

/// The message of the config_error `f` throws ("" and a test failure when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a config_error";
  return {};
}

std::string toml_error(std::string_view toml) {
  return error_of([&] { load(toml); });
}

/// A config that passes validate(): the defaults plus a way for clients to authenticate.
config valid_config() {
  config cfg;
  cfg.auth.jwt_secret_file = "/etc/plexus/jwt.key";
  return cfg;
}

std::string validate_error(const config& cfg) {
  return error_of([&] { validate(cfg); });
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Sets every key to a value other than its default.
constexpr std::string_view full_toml = R"(
[node]
name = "node-7"
listen = "0.0.0.0:9000"
io_threads = 3
actor_threads = 5
static_dir = "/srv/plexus/www"
log_level = "debug"

[websocket]
heartbeat_interval_ms = 15000
heartbeat_timeout_ms = 5000
compression = false
compression_min_bytes = 512
max_message_bytes = 131072
send_queue_limit_bytes = 8388608
echo_endpoint = true

[auth]
anonymous = true
jwt_secret = "0123456789abcdef0123456789abcdef"
jwt_secret_file = "/etc/plexus/jwt.key"
jwt_public_key_file = "/etc/plexus/jwt.pub"
jwt_leeway_s = 30
metrics_api_key = true
allowed_origins = ["https://chat.example.com", "http://localhost:3000"]
api_key = "api-key-0123456789"

[tls]
cert_file = "/etc/plexus/cert.pem"
key_file = "/etc/plexus/key.pem"

[limits]
max_connections = 5000
messages_per_minute = 600
connections_per_ip_per_second = 20
max_subscriptions = 50
handshake_timeout_ms = 3000

[presence]
heartbeat_interval_ms = 20000
stale_threshold_ms = 70000

[[namespace]]
name = "game"
presence = false
join_leave = false
history_size = 0
history_ttl_s = 60
publish = "server"
presence_max_members = 50000
slow_consumer = "conflate"

[[namespace]]
name = ""
history_size = 10

[cluster]
enabled = true
bind = "10.0.0.7:9200"
advertise = "node7.example.com:9200"
seeds = ["10.0.0.1:9200", "10.0.0.2:9200"]
gossip_interval_ms = 250
suspect_timeout_ms = 1000
dead_timeout_ms = 3000
secret = "cluster-secret-0123456789"
replicas = 2
drain_grace_s = 60
)";

// -- defaults ----------------------------------------------------------------------------------

TEST(config_defaults, match_the_protocol) {
  config cfg;
  EXPECT_EQ(cfg.node.name, "");
  EXPECT_EQ(cfg.node.listen, "127.0.0.1:8080");
  EXPECT_EQ(cfg.node.io_threads, 0u);
  EXPECT_EQ(cfg.node.log_level, "info");
  EXPECT_EQ(cfg.websocket.heartbeat_interval_ms, 30000u);
  EXPECT_EQ(cfg.websocket.max_message_bytes, 65536u);
  EXPECT_TRUE(cfg.websocket.compression);
  EXPECT_FALSE(cfg.auth.anonymous);
  EXPECT_EQ(cfg.connection_limits.max_connections, 100000u);
  EXPECT_EQ(cfg.session_limits.messages_per_minute, 6000u);
  EXPECT_EQ(cfg.presence.stale_threshold_ms, 180000u);
  EXPECT_TRUE(cfg.namespaces.empty());
  EXPECT_FALSE(cfg.cluster.enabled);
  EXPECT_EQ(cfg.cluster.bind, "127.0.0.1:9100");
}

TEST(config_defaults, an_empty_file_changes_nothing) {
  auto cfg = load("");
  for (const auto& k : config_table::section_keys()) {
    EXPECT_EQ(k.read(cfg), k.read(config{})) << k.section << "." << k.name;
  }
}

TEST(config_defaults, pass_validation_once_clients_can_authenticate) {
  EXPECT_NO_THROW(validate(valid_config()));
  auto anonymous = config{};
  anonymous.auth.anonymous = true;
  EXPECT_NO_THROW(validate(anonymous));
  // Out of the box no token could ever be verified: refused rather than 401 for everyone.
  EXPECT_THAT(validate_error(config{}), HasSubstr("auth.jwt_secret_file"));
}

TEST(config_defaults, resolved_values) {
  config cfg;
  cfg.node.listen = "127.0.0.1:8123";
  auto name = cfg.resolved_name();
  EXPECT_EQ(name.substr(name.size() - 5), ":8123");
  EXPECT_GT(name.size(), 5u);
  cfg.node.name = "alpha";
  EXPECT_EQ(cfg.resolved_name(), "alpha");
  EXPECT_EQ(cfg.resolved_io_threads(), std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_GE(cfg.resolved_actor_threads(), 1u);
  cfg.node.io_threads = 3;
  cfg.node.actor_threads = 7;
  EXPECT_EQ(cfg.resolved_io_threads(), 3u);
  EXPECT_EQ(cfg.resolved_actor_threads(), 7u);
}

// -- a full file -------------------------------------------------------------------------------

TEST(config_toml, full_file_sets_every_key) {
  auto cfg = load(full_toml);
  EXPECT_EQ(cfg.node.name, "node-7");
  EXPECT_EQ(cfg.node.listen, "0.0.0.0:9000");
  EXPECT_EQ(cfg.node.io_threads, 3u);
  EXPECT_EQ(cfg.node.actor_threads, 5u);
  EXPECT_EQ(cfg.node.static_dir, "/srv/plexus/www");
  EXPECT_EQ(cfg.node.log_level, "debug");
  EXPECT_EQ(cfg.websocket.heartbeat_interval_ms, 15000u);
  EXPECT_EQ(cfg.websocket.heartbeat_timeout_ms, 5000u);
  EXPECT_FALSE(cfg.websocket.compression);
  EXPECT_EQ(cfg.websocket.compression_min_bytes, 512u);
  EXPECT_EQ(cfg.websocket.max_message_bytes, 131072u);
  EXPECT_EQ(cfg.websocket.send_queue_limit_bytes, 8388608u);
  EXPECT_TRUE(cfg.websocket.echo_endpoint);
  EXPECT_TRUE(cfg.auth.anonymous);
  EXPECT_EQ(cfg.auth.jwt_secret, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(cfg.auth.jwt_secret_file, "/etc/plexus/jwt.key");
  EXPECT_EQ(cfg.auth.jwt_public_key_file, "/etc/plexus/jwt.pub");
  EXPECT_EQ(cfg.auth.jwt_leeway_s, 30u);
  EXPECT_TRUE(cfg.auth.metrics_api_key);
  EXPECT_EQ(cfg.auth.allowed_origins,
            (std::vector<std::string>{"https://chat.example.com", "http://localhost:3000"}));
  EXPECT_EQ(cfg.auth.api_key, "api-key-0123456789");
  EXPECT_EQ(cfg.tls.cert_file, "/etc/plexus/cert.pem");
  EXPECT_EQ(cfg.tls.key_file, "/etc/plexus/key.pem");
  EXPECT_EQ(cfg.connection_limits.max_connections, 5000u);
  EXPECT_EQ(cfg.session_limits.messages_per_minute, 600u);
  EXPECT_EQ(cfg.connection_limits.connections_per_ip_per_second, 20u);
  EXPECT_EQ(cfg.session_limits.max_subscriptions, 50u);
  EXPECT_EQ(cfg.connection_limits.handshake_timeout_ms, 3000u);
  EXPECT_EQ(cfg.presence.heartbeat_interval_ms, 20000u);
  EXPECT_EQ(cfg.presence.stale_threshold_ms, 70000u);
  ASSERT_EQ(cfg.namespaces.size(), 2u);
  const auto& game = cfg.namespaces[0];
  EXPECT_EQ(game.name, "game");
  EXPECT_FALSE(game.presence);
  EXPECT_FALSE(game.join_leave);
  EXPECT_EQ(game.history_size, 0u);
  EXPECT_EQ(game.history_ttl_s, 60u);
  EXPECT_EQ(game.publish, actors::publish_rule::server);
  EXPECT_EQ(game.presence_max_members, 50000u);
  EXPECT_EQ(game.slow_consumer, actors::slow_consumer_policy::conflate);
  EXPECT_TRUE(cfg.cluster.enabled);
  EXPECT_EQ(cfg.cluster.bind, "10.0.0.7:9200");
  EXPECT_EQ(cfg.cluster.advertise, "node7.example.com:9200");
  EXPECT_EQ(cfg.cluster.seeds, (std::vector<std::string>{"10.0.0.1:9200", "10.0.0.2:9200"}));
  EXPECT_EQ(cfg.cluster.gossip_interval_ms, 250u);
  EXPECT_EQ(cfg.cluster.suspect_timeout_ms, 1000u);
  EXPECT_EQ(cfg.cluster.dead_timeout_ms, 3000u);
  EXPECT_EQ(cfg.cluster.secret, "cluster-secret-0123456789");
  EXPECT_EQ(cfg.cluster.replicas, 2u);
  EXPECT_EQ(cfg.cluster.drain_grace_s, 60u);
}

TEST(config_toml, full_file_covers_every_key_of_the_table) {
  // A key added to the table without a line in full_toml fails here.
  auto cfg = load(full_toml);
  for (const auto& k : config_table::section_keys()) {
    EXPECT_NE(k.read(cfg), k.read(config{})) << k.section << "." << k.name << " not set";
  }
  for (const auto& k : config_table::namespace_keys()) {
    if (k.name != "name") {
      EXPECT_NE(k.read(cfg.namespaces[0]), k.read(actors::namespace_settings{})) << k.name;
    }
  }
}

// -- namespaces --------------------------------------------------------------------------------

TEST(config_namespace, omitted_keys_take_the_struct_defaults) {
  auto cfg = load("[[namespace]]\nname = \"room\"\nhistory_size = 5\n");
  ASSERT_EQ(cfg.namespaces.size(), 1u);
  auto expected = actors::namespace_settings{};
  expected.name = "room";
  expected.history_size = 5;
  for (const auto& k : config_table::namespace_keys()) {
    EXPECT_EQ(k.read(cfg.namespaces[0]), k.read(expected)) << k.name;
  }
}

TEST(config_namespace, empty_name_configures_the_default_namespace) {
  auto cfg = load("[[namespace]]\nname = \"\"\nhistory_size = 20\n");
  ASSERT_EQ(cfg.namespaces.size(), 1u);
  EXPECT_EQ(cfg.namespaces[0].name, "");
  EXPECT_EQ(cfg.namespaces[0].history_size, 20u);
  // Keys the block omits keep the built-in settings of namespace-less channels.
  auto fallback = actors::default_namespace_settings();
  EXPECT_EQ(cfg.namespaces[0].presence, fallback.presence);
  EXPECT_EQ(cfg.namespaces[0].publish, fallback.publish);
  EXPECT_EQ(cfg.namespaces[0].join_leave, fallback.join_leave);
}

TEST(config_namespace, a_later_file_overrides_a_block_by_name) {
  config cfg;
  apply_toml(cfg, "[[namespace]]\nname = \"room\"\nhistory_size = 5\npublish = \"any\"\n", "a");
  apply_toml(cfg, "[[namespace]]\nname = \"room\"\nhistory_size = 9\n", "b");
  ASSERT_EQ(cfg.namespaces.size(), 1u);
  EXPECT_EQ(cfg.namespaces[0].history_size, 9u);
  EXPECT_EQ(cfg.namespaces[0].publish, actors::publish_rule::any);
}

TEST(config_namespace, duplicate_name_is_refused) {
  auto msg = toml_error("[[namespace]]\nname = \"room\"\n[[namespace]]\nname = \"room\"\n");
  EXPECT_THAT(msg, HasSubstr("duplicate [[namespace]] \"room\""));
  EXPECT_THAT(msg, HasSubstr("test.toml:2:"));
}

TEST(config_namespace, missing_name_is_refused) {
  auto msg = toml_error("[[namespace]]\nname = \"a\"\n[[namespace]]\npresence = false\n");
  EXPECT_THAT(msg, HasSubstr("block 2 has no name"));
}

TEST(config_namespace, bad_enum_value_is_refused) {
  auto msg = toml_error("[[namespace]]\nname = \"room\"\npublish = \"everyone\"\n");
  EXPECT_THAT(msg, HasSubstr("namespace.publish"));
  EXPECT_THAT(msg, HasSubstr("\"everyone\""));
  EXPECT_THAT(msg, HasSubstr("any, subscribers, server"));
  msg = toml_error("[[namespace]]\nname = \"room\"\nslow_consumer = \"block\"\n");
  EXPECT_THAT(msg, HasSubstr("disconnect, drop_oldest, conflate"));
}

TEST(config_namespace, out_of_range_values_are_refused) {
  auto msg = toml_error("[[namespace]]\nname = \"room\"\nhistory_size = 100001\n");
  EXPECT_THAT(msg, HasSubstr("namespace.history_size"));
  EXPECT_THAT(msg, HasSubstr("\"room\""));
  EXPECT_THAT(msg, HasSubstr("0..100000"));
  EXPECT_THAT(toml_error("[[namespace]]\nname = \"r\"\nhistory_ttl_s = 604801\n"),
              HasSubstr("0..604800"));
  EXPECT_THAT(toml_error("[[namespace]]\nname = \"r\"\npresence_max_members = 0\n"),
              HasSubstr("1..1000000"));
}

TEST(config_namespace, bad_names_and_keys_are_refused) {
  EXPECT_THAT(toml_error("[[namespace]]\nname = \"a:b\"\n"), HasSubstr("namespace.name"));
  EXPECT_THAT(toml_error("[[namespace]]\nname = \"r\"\nhistory = 5\n"),
              HasSubstr("did you mean namespace.history_size?"));
  EXPECT_THAT(toml_error("[namespace]\nname = \"r\"\n"), HasSubstr("[[namespace]] blocks"));
}

// -- refused files -----------------------------------------------------------------------------

TEST(config_toml, unknown_section_is_refused_with_suggestion) {
  auto msg = toml_error("[websockets]\ncompression = true\n");
  EXPECT_THAT(msg, HasSubstr("unknown section [websockets]"));
  EXPECT_THAT(msg, HasSubstr("did you mean [websocket]?"));
  EXPECT_THAT(toml_error("[frobnicate]\n"), HasSubstr("sections: node, websocket"));
}

TEST(config_toml, unknown_key_is_refused_with_suggestion) {
  auto msg = toml_error("[websocket]\ncompresion = false\n");
  EXPECT_THAT(msg, HasSubstr("test.toml:2:1: unknown key websocket.compresion"));
  EXPECT_THAT(msg, HasSubstr("did you mean websocket.compression?"));
}

TEST(config_toml, key_in_the_wrong_section_names_the_right_one) {
  EXPECT_THAT(toml_error("[node]\nmax_connections = 10\n"),
              HasSubstr("did you mean limits.max_connections?"));
  EXPECT_THAT(toml_error("listen = \"127.0.0.1:1\"\n"), HasSubstr("node.listen"));
}

TEST(config_toml, wrong_type_is_refused) {
  auto msg = toml_error("[websocket]\nmax_message_bytes = \"64k\"\n");
  EXPECT_THAT(msg, HasSubstr("websocket.max_message_bytes: expected an integer, got a string"));
  EXPECT_THAT(toml_error("[node]\nlisten = 8080\n"),
              HasSubstr("node.listen: expected a string, got an integer"));
  EXPECT_THAT(toml_error("[websocket]\ncompression = \"yes\"\n"),
              HasSubstr("expected true or false"));
  EXPECT_THAT(toml_error("[websocket]\nmax_message_bytes = 1.5\n"),
              HasSubstr("got a floating-point number"));
  EXPECT_THAT(toml_error("[cluster]\nseeds = \"a:1\"\n"), HasSubstr("expected an array"));
  EXPECT_THAT(toml_error("[cluster]\nseeds = [\"a:1\", 2]\n"), HasSubstr("element 2"));
  EXPECT_THAT(toml_error("node = 5\n"), HasSubstr("must be a [node] section"));
}

TEST(config_toml, out_of_range_integer_names_key_value_and_range) {
  auto msg = toml_error("[websocket]\nmax_message_bytes = 10\n");
  EXPECT_THAT(msg, HasSubstr("test.toml:2:21: websocket.max_message_bytes = 10"));
  EXPECT_THAT(msg, HasSubstr("allowed 125..67108864"));
  EXPECT_THAT(toml_error("[limits]\nmax_connections = -1\n"), HasSubstr("1..10000000"));
  EXPECT_THAT(toml_error("[node]\nio_threads = 99999999999999\n"), HasSubstr("0..256"));
}

TEST(config_toml, bad_listen_address_is_refused) {
  EXPECT_THAT(toml_error("[node]\nlisten = \"localhost\"\n"),
              HasSubstr("node.listen = \"localhost\": expected host:port"));
  EXPECT_THAT(toml_error("[node]\nlisten = \"127.0.0.1:65536\"\n"), HasSubstr("expected"));
  EXPECT_THAT(toml_error("[cluster]\nbind = \"127.0.0.1:65535\"\n"), HasSubstr("1..65534"));
  EXPECT_NO_THROW(load("[node]\nlisten = \"[::1]:0\"\n"));
}

TEST(config_toml, bad_choice_and_list_elements_are_refused) {
  EXPECT_THAT(toml_error("[node]\nlog_level = \"verbose\"\n"),
              HasSubstr("node.log_level = \"verbose\": not one of trace, debug"));
  EXPECT_THAT(toml_error("[auth]\nallowed_origins = [\"*\", \"example.com\"]\n"),
              HasSubstr("element 2 (\"example.com\")"));
}

TEST(config_toml, secrets_are_not_echoed) {
  auto msg = toml_error("[auth]\njwt_secret = \"short-secret\"\n");
  EXPECT_THAT(msg, HasSubstr("auth.jwt_secret = <hidden>: too short"));
  EXPECT_EQ(msg.find("short-secret"), std::string::npos);
}

TEST(config_toml, syntax_error_names_line_and_column) {
  EXPECT_THAT(toml_error("[node]\nlisten = \n"), HasSubstr("test.toml:2:"));
}

TEST(config_toml, refused_file_leaves_config_unchanged) {
  config cfg;
  EXPECT_THROW(apply_toml(cfg, "[node]\nname = \"x\"\n[websocket]\nmax_message_bytes = 1\n", "t"),
               config_error);
  EXPECT_EQ(cfg.node.name, "");
}

TEST(config_toml, missing_file_is_refused) {
  config cfg;
  auto msg = error_of([&] { apply_toml_file(cfg, "/nonexistent/plexus.toml"); });
  EXPECT_THAT(msg, HasSubstr("/nonexistent/plexus.toml"));
}

// -- cross-key validation ----------------------------------------------------------------------

TEST(config_validate, tls_half_set_is_refused) {
  auto cfg = valid_config();
  cfg.tls.cert_file = "/etc/plexus/cert.pem";
  auto msg = validate_error(cfg);
  EXPECT_THAT(msg, HasSubstr("tls.cert_file and tls.key_file"));
  cfg.tls.key_file = "/etc/plexus/key.pem";
  EXPECT_NO_THROW(validate(cfg));
}

TEST(config_validate, ordering_rules_name_both_keys) {
  auto cfg = valid_config();
  cfg.websocket.send_queue_limit_bytes = 4096;
  EXPECT_THAT(validate_error(cfg), HasSubstr("websocket.send_queue_limit_bytes (4096) must be "
                                             "at least websocket.max_message_bytes (65536)"));
  cfg = valid_config();
  cfg.presence.stale_threshold_ms = cfg.presence.heartbeat_interval_ms;
  EXPECT_THAT(validate_error(cfg), HasSubstr("presence.stale_threshold_ms"));
  cfg = valid_config();
  cfg.cluster.dead_timeout_ms = 1500;
  EXPECT_THAT(validate_error(cfg), HasSubstr("cluster.dead_timeout_ms (1500) must be above "
                                             "cluster.suspect_timeout_ms (2000)"));
  cfg = valid_config();
  cfg.cluster.suspect_timeout_ms = 400;
  EXPECT_THAT(validate_error(cfg), HasSubstr("cluster.gossip_interval_ms"));
}

TEST(config_validate, per_key_ranges_apply_to_configs_built_in_code) {
  auto cfg = valid_config();
  cfg.websocket.max_message_bytes = 64;
  cfg.node.listen = "nowhere";
  auto msg = validate_error(cfg);
  EXPECT_THAT(msg, HasSubstr("websocket.max_message_bytes = 64"));
  EXPECT_THAT(msg, HasSubstr("node.listen = \"nowhere\""));
}

TEST(config_validate, auth_rules) {
  auto cfg = valid_config();
  cfg.auth.jwt_secret = std::string(32, 'k');
  EXPECT_THAT(validate_error(cfg), HasSubstr("at most one of auth.jwt_secret"));
  cfg = valid_config();
  cfg.auth.metrics_api_key = true;
  EXPECT_THAT(validate_error(cfg), HasSubstr("auth.metrics_api_key = true needs auth.api_key"));
  cfg.auth.api_key = "short";
  EXPECT_THAT(validate_error(cfg), HasSubstr("auth.api_key = <hidden>: too short"));
  cfg.auth.api_key = "0123456789abcdef";
  EXPECT_NO_THROW(validate(cfg));
}

TEST(config_validate, cluster_rules) {
  auto cfg = valid_config();
  cfg.cluster.enabled = true;
  EXPECT_NO_THROW(validate(cfg)); // loopback: a secret is optional
  cfg.cluster.bind = "10.0.0.7:9100";
  EXPECT_THAT(validate_error(cfg), HasSubstr("cluster.secret is required"));
  cfg.cluster.secret = "0123456789abcdef";
  EXPECT_NO_THROW(validate(cfg));
  cfg.cluster.bind = "0.0.0.0:8079";
  cfg.cluster.advertise = "node1.example.com:8079";
  EXPECT_THAT(validate_error(cfg), HasSubstr("collides with node.listen"));
  cfg.cluster.bind = "0.0.0.0:9100";
  cfg.cluster.advertise = "";
  EXPECT_THAT(validate_error(cfg), HasSubstr("cluster.advertise is required"));
}

TEST(config_validate, namespace_rules_and_every_problem_at_once) {
  auto cfg = valid_config();
  actors::namespace_settings a;
  a.name = "room";
  a.presence = false;
  a.history_ttl_s = 0;
  cfg.namespaces = {a, a};
  auto msg = validate_error(cfg);
  EXPECT_THAT(msg, HasSubstr("duplicate namespace \"room\""));
  EXPECT_THAT(msg, HasSubstr("namespace.join_leave (namespace \"room\") = true needs"));
  EXPECT_THAT(msg, HasSubstr("namespace.history_ttl_s (namespace \"room\") = 0"));
  EXPECT_THAT(msg, HasSubstr("invalid configuration:\n"));
}

TEST(config_validate, host_port_parsing) {
  auto hp = parse_host_port("[::1]:8080");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 8080);
  hp = parse_host_port("node-1.example.com:0");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "node-1.example.com");
  EXPECT_EQ(hp->port, 0);
  for (auto bad : {"", ":80", "host", "host:", "host:x", "host:-1", "host:99999", "::1:80",
                   "[::1]80", "a b:80", "host:080000"}) {
    EXPECT_FALSE(parse_host_port(bad)) << bad;
  }
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
}

// -- shipped files -----------------------------------------------------------------------------

TEST(config_files, docs_match_the_key_table) {
  auto docs = read_file(std::string{PLEXUS_SOURCE_DIR} + "/docs/configuration.md");
  EXPECT_EQ(docs, config_reference_markdown())
    << "docs/configuration.md is stale: regenerate it with "
       "`plexus --print-config-reference > docs/configuration.md`";
}

TEST(config_files, reference_lists_every_key) {
  auto md = config_reference_markdown();
  for (const auto& k : config_keys()) {
    EXPECT_THAT(md, HasSubstr("| `" + k.key + "` | " + k.type + " | `" + k.default_text + "`"))
      << k.section << "." << k.key;
  }
  EXPECT_THAT(md, HasSubstr("## `[[namespace]]`"));
}

TEST(config_files, quickstart_loads_and_validates) {
  config cfg;
  apply_toml_file(cfg, std::string{PLEXUS_SOURCE_DIR} + "/examples/quickstart.toml");
  EXPECT_NO_THROW(validate(cfg));
  EXPECT_EQ(cfg.node.listen, "127.0.0.1:8080");
  EXPECT_EQ(cfg.resolved_name(), "quickstart");
  EXPECT_TRUE(cfg.auth.anonymous);
  EXPECT_FALSE(cfg.websocket.echo_endpoint);
  ASSERT_EQ(cfg.namespaces.size(), 2u);
  for (const auto& n : cfg.namespaces) {
    EXPECT_TRUE(n.name == "room" || n.name == "chat") << n.name;
    EXPECT_TRUE(n.presence);
    EXPECT_TRUE(n.join_leave);
    EXPECT_EQ(n.history_size, 100u);
    EXPECT_EQ(n.history_ttl_s, 300u);
    EXPECT_EQ(n.publish, actors::publish_rule::subscribers);
  }
}

} // namespace
} // namespace plexus::engine
