#include "engine/config_table.hpp"

#include <type_traits>
#include <utility>

#include "actors/channel_name.hpp"
#include "engine/config_loader.hpp"

namespace plexus::engine::config_table {

namespace {

constexpr int64_t mib = 1024 * 1024;
constexpr int64_t hour_ms = 3'600'000;
constexpr int64_t day_ms = 24 * hour_ms;

// -- conversions between fields and raw values -------------------------------------------------

template <class T>
std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, raw_value> to_raw(T x) {
  return static_cast<int64_t>(x);
}

template <class T>
std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>> from_raw(const raw_value& v,
                                                                             T& x) {
  // The range check ran before: the value fits.
  x = static_cast<T>(std::get<int64_t>(v));
}

raw_value to_raw(bool x) {
  return x;
}

void from_raw(const raw_value& v, bool& x) {
  x = std::get<bool>(v);
}

raw_value to_raw(const std::string& x) {
  return x;
}

void from_raw(const raw_value& v, std::string& x) {
  x = std::get<std::string>(v);
}

raw_value to_raw(const std::vector<std::string>& x) {
  return x;
}

void from_raw(const raw_value& v, std::vector<std::string>& x) {
  x = std::get<std::vector<std::string>>(v);
}

constexpr actors::publish_rule all_publish_rules[]
  = {actors::publish_rule::any, actors::publish_rule::subscribers, actors::publish_rule::server};

constexpr actors::slow_consumer_policy all_slow_consumer_policies[]
  = {actors::slow_consumer_policy::disconnect, actors::slow_consumer_policy::drop_oldest,
     actors::slow_consumer_policy::conflate};

template <class E, std::size_t N>
std::vector<std::string_view> enum_choices(const E (&all)[N]) {
  std::vector<std::string_view> result;
  for (auto x : all) {
    result.emplace_back(actors::to_string(x));
  }
  return result;
}

template <class E, std::size_t N>
void enum_from_raw(const raw_value& v, E& x, const E (&all)[N]) {
  const auto& text = std::get<std::string>(v);
  for (auto candidate : all) {
    if (text == actors::to_string(candidate)) {
      x = candidate;
    }
  }
}

raw_value to_raw(actors::publish_rule x) {
  return std::string{actors::to_string(x)};
}

void from_raw(const raw_value& v, actors::publish_rule& x) {
  enum_from_raw(v, x, all_publish_rules);
}

raw_value to_raw(actors::slow_consumer_policy x) {
  return std::string{actors::to_string(x)};
}

void from_raw(const raw_value& v, actors::slow_consumer_policy& x) {
  enum_from_raw(v, x, all_slow_consumer_policies);
}

// -- binders -----------------------------------------------------------------------------------

template <class Target>
struct binder {
  std::function<raw_value(const Target&)> read;
  std::function<void(Target&, const raw_value&)> write;
};

/// Binds `cfg.*sub.*member`, e.g. `config::websocket` and `websocket_settings::compression`.
template <class Sub, class T>
binder<config> field(Sub config::*sub, T Sub::*member) {
  return {[sub, member](const config& c) { return to_raw((c.*sub).*member); },
          [sub, member](config& c, const raw_value& v) { from_raw(v, (c.*sub).*member); }};
}

template <class T>
binder<actors::namespace_settings> ns_field(T actors::namespace_settings::*member) {
  return {[member](const actors::namespace_settings& n) { return to_raw(n.*member); },
          [member](actors::namespace_settings& n, const raw_value& v) { from_raw(v, n.*member); }};
}

// -- text rules --------------------------------------------------------------------------------

struct text_rule {
  std::string_view allowed;
  text_check check;
};

std::string check_port_range(std::string_view text, int min_port, int max_port) {
  auto hp = parse_host_port(text);
  if (!hp) {
    return "expected host:port";
  }
  if (hp->port < min_port || hp->port > max_port) {
    return "port out of range, allowed " + std::to_string(min_port) + ".."
           + std::to_string(max_port);
  }
  return {};
}

const text_rule any_text{"", nullptr};

const text_rule listen_rule{"host:port, port 0..65535 (0 = any free port)",
                            [](std::string_view s) { return check_port_range(s, 0, 65535); }};

const text_rule bind_rule{"host:port, port 1..65534 (port + 1 is reserved)",
                          [](std::string_view s) { return check_port_range(s, 1, 65534); }};

const text_rule seed_rule{"each host:port, port 1..65535",
                          [](std::string_view s) { return check_port_range(s, 1, 65535); }};

const text_rule optional_peer_rule{"\"\" or host:port, port 1..65535", [](std::string_view s) {
                                     return s.empty() ? std::string{}
                                                      : check_port_range(s, 1, 65535);
                                   }};

const text_rule node_name_rule{
  "\"\" or 1-128 characters of A-Z a-z 0-9 _ - . : @ /", [](std::string_view s) {
    return s.empty() || actors::valid_channel_name(s) ? std::string{}
                                                      : std::string{"invalid node name"};
  }};

const text_rule namespace_name_rule{
  "\"\" or 1-127 characters of A-Z a-z 0-9 _ - . @ /", [](std::string_view s) {
    // A namespace is a channel-name prefix ending at the first ':', so it cannot hold one.
    bool ok = s.empty()
              || (s.size() < actors::max_channel_length && s.find(':') == std::string_view::npos
                  && actors::valid_channel_name(s));
    return ok ? std::string{} : std::string{"invalid namespace name"};
  }};

const text_rule origin_rule{
  "each \"*\" or scheme://host[:port]", [](std::string_view s) {
    if (s == "*") {
      return std::string{};
    }
    auto sep = s.find("://");
    auto host = sep == std::string_view::npos ? std::string_view{} : s.substr(sep + 3);
    if (sep == 0 || host.empty() || host.find_first_of("/?# ") != std::string_view::npos) {
      return std::string{"expected \"*\" or scheme://host[:port]"};
    }
    return std::string{};
  }};

/// A secret of at least `n` bytes, or "" for none.
template <std::size_t N>
std::string check_min_length(std::string_view s) {
  if (!s.empty() && s.size() < N) {
    return "too short (" + std::to_string(s.size()) + " bytes), at least " + std::to_string(N);
  }
  return {};
}

// RFC 7518 3.2: an HS256 key must be at least as long as the hash output (256 bits).
const text_rule jwt_secret_rule{"\"\" or at least 32 bytes", check_min_length<32>};

const text_rule api_key_rule{"\"\" or at least 16 characters, no spaces", [](std::string_view s) {
                               if (s.find_first_of(" \t\r\n") != std::string_view::npos) {
                                 return std::string{"contains whitespace"};
                               }
                               return check_min_length<16>(s);
                             }};

const text_rule cluster_secret_rule{"\"\" or at least 16 bytes", check_min_length<16>};

// -- key builders ------------------------------------------------------------------------------

template <class Target>
key_spec<Target> make_key(std::string_view section, std::string_view name, value_type type,
                          binder<Target> b, std::string_view description) {
  key_spec<Target> k;
  k.section = section;
  k.name = name;
  k.type = type;
  k.description = description;
  k.read = std::move(b.read);
  k.write = std::move(b.write);
  return k;
}

template <class Target>
key_spec<Target> boolean(std::string_view section, std::string_view name, binder<Target> b,
                         std::string_view description) {
  return make_key(section, name, value_type::boolean, std::move(b), description);
}

template <class Target>
key_spec<Target> integer(std::string_view section, std::string_view name, int64_t min, int64_t max,
                         binder<Target> b, std::string_view description) {
  auto k = make_key(section, name, value_type::integer, std::move(b), description);
  k.min = min;
  k.max = max;
  return k;
}

template <class Target>
key_spec<Target> text(std::string_view section, std::string_view name, const text_rule& rule,
                      binder<Target> b, std::string_view description) {
  auto k = make_key(section, name, value_type::string, std::move(b), description);
  k.check = rule.check;
  k.allowed = rule.allowed;
  return k;
}

template <class Target>
key_spec<Target> secret(std::string_view section, std::string_view name, const text_rule& rule,
                        binder<Target> b, std::string_view description) {
  auto k = text(section, name, rule, std::move(b), description);
  k.sensitive = true;
  return k;
}

template <class Target>
key_spec<Target> list(std::string_view section, std::string_view name, const text_rule& rule,
                      binder<Target> b, std::string_view description) {
  auto k = make_key(section, name, value_type::string_list, std::move(b), description);
  k.check = rule.check;
  k.allowed = rule.allowed;
  return k;
}

template <class Target>
key_spec<Target> choice(std::string_view section, std::string_view name,
                        std::vector<std::string_view> choices, binder<Target> b,
                        std::string_view description) {
  auto k = make_key(section, name, value_type::choice, std::move(b), description);
  k.choices = std::move(choices);
  return k;
}

using net::auth_settings;
using net::connection_limits;
using net::tls_settings;
using net::websocket_settings;
using ns = actors::namespace_settings;

std::vector<key_spec<config>> make_section_keys() {
  using cluster::cluster_settings;
  std::vector<key_spec<config>> k;
  // [node]
  k.push_back(text("node", "name", node_name_rule, field(&config::node, &node_settings::name),
                   "Node name in welcome, /healthz and the cluster; \"\" = hostname:port, unique "
                   "while nodes run on distinct hosts."));
  k.push_back(text("node", "listen", listen_rule, field(&config::node, &node_settings::listen),
                   "HTTP and WebSocket address; loopback by default so a new node is not exposed "
                   "before you pick an interface."));
  k.push_back(integer("node", "io_threads", 0, 256,
                      field(&config::node, &node_settings::io_threads),
                      "Threads running the I/O event loop; 0 = one per core, as much as the node "
                      "can use."));
  k.push_back(integer("node", "actor_threads", 0, 256,
                      field(&config::node, &node_settings::actor_threads),
                      "CAF scheduler workers for sessions, rooms and presence; 0 = one per core."));
  k.push_back(text("node", "static_dir", any_text, field(&config::node, &node_settings::static_dir),
                   "Directory served at / (chat page, plexus.js); \"\" = the bundled "
                   "examples/chat, so the quickstart needs no files."));
  k.push_back(choice("node", "log_level",
                     {"trace", "debug", "info", "warn", "error", "critical", "off"},
                     field(&config::node, &node_settings::log_level),
                     "Log verbosity; info records start-up, membership changes and refusals "
                     "without per-message noise."));
  // [websocket]
  k.push_back(integer("websocket", "heartbeat_interval_ms", 10, hour_ms,
                      field(&config::websocket, &websocket_settings::heartbeat_interval_ms),
                      "Server pings each connection this often; 30 s keeps NAT and proxy idle "
                      "timers (often 60 s) from closing quiet connections."));
  k.push_back(integer("websocket", "heartbeat_timeout_ms", 10, hour_ms,
                      field(&config::websocket, &websocket_settings::heartbeat_timeout_ms),
                      "A peer that leaves a ping unanswered this long is closed; 10 s tolerates "
                      "a slow mobile link."));
  k.push_back(boolean("websocket", "compression",
                      field(&config::websocket, &websocket_settings::compression),
                      "permessage-deflate when the client offers it; on because chat text "
                      "compresses about 3x."));
  k.push_back(integer("websocket", "compression_min_bytes", 0, 64 * mib,
                      field(&config::websocket, &websocket_settings::compression_min_bytes),
                      "Frames smaller than this are sent uncompressed: deflating 64 bytes costs "
                      "more than it saves."));
  k.push_back(integer("websocket", "max_message_bytes", 125, 64 * mib,
                      field(&config::websocket, &websocket_settings::max_message_bytes),
                      "Largest client message after inflation (larger: close 1009); 64 KiB is "
                      "far above any chat frame and bounds per-connection buffers."));
  k.push_back(integer("websocket", "send_queue_limit_bytes", 1024, 1024 * mib,
                      field(&config::websocket, &websocket_settings::send_queue_limit_bytes),
                      "Unsent bytes past which a connection is a slow consumer (see "
                      "namespace.slow_consumer); 4 MiB is seconds of a busy room, so only a "
                      "stalled reader hits it. At least max_message_bytes."));
  k.push_back(boolean("websocket", "echo_endpoint",
                      field(&config::websocket, &websocket_settings::echo_endpoint),
                      "Serve /ws/echo for WebSocket conformance suites; off because production "
                      "has no use for it."));
  // [auth]
  k.push_back(boolean("auth", "anonymous", field(&config::auth, &auth_settings::anonymous),
                      "Accept connections without a token under a generated user id; off "
                      "because anyone could then join any channel (only the loopback quickstart "
                      "turns it on)."));
  k.push_back(secret("auth", "jwt_secret", jwt_secret_rule,
                     field(&config::auth, &auth_settings::jwt_secret),
                     "HS256 key for client tokens; \"\" = not used. Prefer jwt_secret_file: a "
                     "key in its own file stays out of configs, flags and the process list."));
  k.push_back(text("auth", "jwt_secret_file", any_text,
                   field(&config::auth, &auth_settings::jwt_secret_file),
                   "File holding the HS256 key; \"\" = not used. Set at most one of the three "
                   "jwt_* keys."));
  k.push_back(text("auth", "jwt_public_key_file", any_text,
                   field(&config::auth, &auth_settings::jwt_public_key_file),
                   "PEM public key for RS256/ES256 tokens, so the node can verify tokens but "
                   "never mint them; \"\" = not used."));
  k.push_back(integer("auth", "jwt_leeway_s", 0, 300,
                      field(&config::auth, &auth_settings::jwt_leeway_s),
                      "Clock skew tolerated on exp and nbf; 5 s covers NTP-synced hosts without "
                      "stretching token lifetimes."));
  k.push_back(boolean("auth", "metrics_api_key",
                      field(&config::auth, &auth_settings::metrics_api_key),
                      "Require the api key on /metrics too; off because metrics usually stay on "
                      "an internal network. Needs api_key."));
  k.push_back(list("auth", "allowed_origins", origin_rule,
                   field(&config::auth, &auth_settings::allowed_origins),
                   "Browser origins that may open /ws (others get 403); empty = same host as "
                   "the request, which blocks cross-site WebSocket hijacking; [\"*\"] = any."));
  k.push_back(secret("auth", "api_key", api_key_rule, field(&config::auth, &auth_settings::api_key),
                     "Key for the server API (Authorization: apikey K); \"\" disables the API, "
                     "so nothing is open by default."));
  // [tls]
  k.push_back(text("tls", "cert_file", any_text, field(&config::tls, &tls_settings::cert_file),
                   "PEM certificate chain; with key_file the node serves https and wss. \"\" = "
                   "plain TCP, for a TLS-terminating proxy in front."));
  k.push_back(text("tls", "key_file", any_text, field(&config::tls, &tls_settings::key_file),
                   "PEM private key of cert_file; set both or neither."));
  // [limits]
  k.push_back(integer("limits", "max_connections", 1, 10'000'000,
                      field(&config::connection_limits, &connection_limits::max_connections),
                      "Connections per node, past which upgrades get 503 and the URL of a node "
                      "with room; 100k is what a tuned 2-core node holds idle."));
  k.push_back(integer("limits", "messages_per_minute", 1, 6'000'000,
                      field(&config::session_limits, &actors::session_limits::messages_per_minute),
                      "Frames one connection may send per minute (then rate_limited; repeated "
                      "abuse closes with 4008); 6000 = 100/s, far above a human-driven client."));
  k.push_back(
    integer("limits", "connections_per_ip_per_second", 1, 1'000'000,
            field(&config::connection_limits, &connection_limits::connections_per_ip_per_second),
            "New connections per client address per second (then 429); stops "
            "reconnect storms and scans, yet lets a NAT of many users through."));
  k.push_back(integer("limits", "max_subscriptions", 1, 1'000'000,
                      field(&config::session_limits, &actors::session_limits::max_subscriptions),
                      "Channels one connection may join; bounds its subscription table and "
                      "fan-out cost, and 1000 is more than any UI shows."));
  k.push_back(integer("limits", "handshake_timeout_ms", 10, 600'000,
                      field(&config::connection_limits, &connection_limits::handshake_timeout_ms),
                      "An HTTP request or upgrade must complete within this; 10 s defeats "
                      "slowloris yet allows a slow mobile link."));
  // [presence]
  k.push_back(integer("presence", "heartbeat_interval_ms", 10, day_ms,
                      field(&config::presence, &actors::presence_settings::heartbeat_interval_ms),
                      "How often clients should show signs of life (sent in welcome); 60 s keeps "
                      "presence fresh at little traffic."));
  k.push_back(integer("presence", "stale_threshold_ms", 10, day_ms,
                      field(&config::presence, &actors::presence_settings::stale_threshold_ms),
                      "A member silent this long is shown as gone; 180 s = three missed "
                      "heartbeats, so one lost packet does not flap presence. Above "
                      "heartbeat_interval_ms."));
  // [cluster]
  k.push_back(boolean("cluster", "enabled", field(&config::cluster, &cluster_settings::enabled),
                      "Join or form a cluster; off so a single node needs no cluster "
                      "settings."));
  k.push_back(text("cluster", "bind", bind_rule, field(&config::cluster, &cluster_settings::bind),
                   "ROUTER on this address: gossip, requests and channel traffic between "
                   "nodes (port + 1 stays reserved); loopback so nothing listens outside until "
                   "you configure it."));
  k.push_back(text("cluster", "advertise", optional_peer_rule,
                   field(&config::cluster, &cluster_settings::advertise),
                   "Address other members use to reach this node (behind NAT, or when bind is "
                   "0.0.0.0); \"\" = bind."));
  k.push_back(list("cluster", "seeds", seed_rule, field(&config::cluster, &cluster_settings::seeds),
                   "Members to join through; may include this node, so all nodes can share one "
                   "list. Empty = start a new cluster."));
  k.push_back(integer("cluster", "gossip_interval_ms", 10, 60'000,
                      field(&config::cluster, &cluster_settings::gossip_interval_ms),
                      "How often the member table is gossiped; 500 ms spreads a change through "
                      "10 nodes in about 2 s."));
  k.push_back(integer("cluster", "suspect_timeout_ms", 10, 600'000,
                      field(&config::cluster, &cluster_settings::suspect_timeout_ms),
                      "A member silent this long is suspected and probed through others; 2 s = "
                      "four missed gossip rounds. Above gossip_interval_ms."));
  k.push_back(integer("cluster", "dead_timeout_ms", 10, hour_ms,
                      field(&config::cluster, &cluster_settings::dead_timeout_ms),
                      "A member silent this long is down: its rooms move and its presence "
                      "leaves are sent; 5 s = ten missed rounds. Above suspect_timeout_ms."));
  k.push_back(secret("cluster", "secret", cluster_secret_rule,
                     field(&config::cluster, &cluster_settings::secret),
                     "Shared by members; envelopes without a valid MAC under it are refused. "
                     "Required when the cluster binds a non-loopback address."));
  k.push_back(integer("cluster", "replicas", 0, 16,
                      field(&config::cluster, &cluster_settings::replicas),
                      "Backup copies of each room on other nodes; 1 survives any single node "
                      "failure."));
  k.push_back(integer("cluster", "drain_grace_s", 0, 3600,
                      field(&config::cluster, &cluster_settings::drain_grace_s),
                      "A draining node exits after this even if clients linger; 30 s lets them "
                      "reconnect elsewhere at their own pace."));
  return k;
}

std::vector<key_spec<ns>> make_namespace_keys() {
  constexpr auto s = namespace_section;
  std::vector<key_spec<ns>> k;
  k.push_back(text(s, "name", namespace_name_rule, ns_field(&ns::name),
                   "Required and unique: the part of a channel name before the first ':'. \"\" "
                   "configures the default namespace (channels no other block claims)."));
  k.push_back(boolean(s, "presence", ns_field(&ns::presence),
                      "Track room membership and answer presence requests; costs one presence "
                      "entry per subscriber."));
  k.push_back(boolean(s, "join_leave", ns_field(&ns::join_leave),
                      "Send presence_diff joins and leaves to members (needs presence); off "
                      "keeps large rooms quiet."));
  k.push_back(integer(s, "history_size", 0, 100'000, ns_field(&ns::history_size),
                      "Messages kept per channel for recovery after a reconnect; 100 covers a "
                      "few seconds of a busy chat room. 0 = no history."));
  k.push_back(integer(s, "history_ttl_s", 0, 7 * 86'400, ns_field(&ns::history_ttl_s),
                      "Messages older than this are not replayed; 300 s covers a phone "
                      "switching networks."));
  k.push_back(choice(s, "publish", enum_choices(all_publish_rules), ns_field(&ns::publish),
                     "Who may publish: any client, only subscribers of the channel, or only the "
                     "server API and embedded actors; subscribers is the safe default for "
                     "chat."));
  k.push_back(integer(s, "presence_max_members", 1, 1'000'000, ns_field(&ns::presence_max_members),
                      "Above this many members a room sends presence_count instead of full "
                      "diffs, so a 20k-member room does not flood members with n^2 frames."));
  k.push_back(choice(s, "slow_consumer", enum_choices(all_slow_consumer_policies),
                     ns_field(&ns::slow_consumer),
                     "A subscriber past websocket.send_queue_limit_bytes is disconnected (4009; "
                     "it recovers from history), has its oldest frames dropped, or gets only "
                     "the newest per key (conflate)."));
  return k;
}

} // namespace

const std::vector<section_info>& sections() {
  static const std::vector<section_info> all{
    {"node", "Identity, listening address, threads and logging.", false},
    {"websocket", "WebSocket connections: heartbeats, compression, size and queue limits.", false},
    {"auth", "Client tokens, origins and the server API key.", false},
    {"tls", "HTTPS and WSS on the node's port.", false},
    {"limits", "Protection against overload and abuse.", false},
    {"presence", "Presence heartbeats and staleness.", false},
    {namespace_section,
     "What the rooms of a namespace do: presence, history, who may publish. TOML only.", true},
    {"cluster", "Membership, failure detection and room ownership across nodes.", false},
  };
  return all;
}

const std::vector<key_spec<config>>& section_keys() {
  static const auto keys = make_section_keys();
  return keys;
}

const std::vector<key_spec<actors::namespace_settings>>& namespace_keys() {
  static const auto keys = make_namespace_keys();
  return keys;
}

} // namespace plexus::engine::config_table
