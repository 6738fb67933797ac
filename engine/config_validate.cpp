// validate(): the per-key rules of the key table applied to a finished config, plus the rules
// that involve several keys. Also the host:port parsing they share with node start-up.

#include <algorithm>
#include <charconv>

#include "engine/config_loader.hpp"
#include "engine/config_table.hpp"

namespace plexus::engine {

namespace ck = config_table;

std::optional<host_port> parse_host_port(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos
        || host.find_first_not_of("0123456789abcdefABCDEF:.%") != std::string_view::npos) {
      return std::nullopt;
    }
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    // Also refuses an unbracketed IPv6 address, whose port would be ambiguous.
    constexpr std::string_view host_chars = "abcdefghijklmnopqrstuvwxyz"
                                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";
    if (host.empty() || host.find_first_not_of(host_chars) != std::string_view::npos) {
      return std::nullopt;
    }
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || port.size() > 5 || ec != std::errc{} || end != port.data() + port.size()
      || value > 65535) {
    return std::nullopt;
  }
  return host_port{std::string{host}, static_cast<uint16_t>(value)};
}

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host.substr(0, 4) == "127.";
}

namespace {

bool is_wildcard_host(std::string_view host) {
  return host == "0.0.0.0" || host == "::";
}

/// Collects every problem so one start-up attempt reports them all.
class problems {
public:
  void add(std::string text) {
    list_.push_back(std::move(text));
  }

  void throw_if_any() const {
    if (list_.empty()) {
      return;
    }
    std::string msg = list_.size() == 1 ? "" : "invalid configuration:\n  ";
    for (std::size_t i = 0; i < list_.size(); ++i) {
      msg += (i == 0 ? "" : "\n  ") + list_[i];
    }
    throw config_error{msg};
  }

private:
  std::vector<std::string> list_;
};

void check_keys(const config& cfg, problems& out) {
  for (const auto& k : ck::section_keys()) {
    auto v = k.read(cfg);
    if (auto why = ck::check_value(k, v); !why.empty()) {
      out.add(std::string{k.section} + "." + std::string{k.name} + " = "
              + ck::render_for_message(k, v) + ": " + why);
    }
  }
}

void check_namespaces(const config& cfg, problems& out) {
  for (std::size_t i = 0; i < cfg.namespaces.size(); ++i) {
    const auto& n = cfg.namespaces[i];
    auto which = " (namespace " + ck::render(n.name) + ")";
    for (const auto& k : ck::namespace_keys()) {
      auto v = k.read(n);
      if (auto why = ck::check_value(k, v); !why.empty()) {
        out.add("namespace." + std::string{k.name} + which + " = " + ck::render_for_message(k, v)
                + ": " + why);
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (cfg.namespaces[j].name == n.name) {
        out.add("namespace.name: duplicate namespace " + ck::render(n.name));
      }
    }
    if (n.join_leave && !n.presence) {
      out.add("namespace.join_leave" + which
              + " = true needs namespace.presence = true: joins and leaves are presence "
                "events");
    }
    if (n.history_size > 0 && n.history_ttl_s == 0) {
      out.add("namespace.history_ttl_s" + which + " = 0 expires every message at once although "
              + "namespace.history_size = " + std::to_string(n.history_size)
              + ": set history_size = 0 to turn history off, or a TTL of at least 1");
    }
  }
}

void check_auth(const config& cfg, problems& out) {
  const auto& a = cfg.auth;
  std::vector<std::string> key_sources;
  if (!a.jwt_secret.empty()) {
    key_sources.emplace_back("auth.jwt_secret");
  }
  if (!a.jwt_secret_file.empty()) {
    key_sources.emplace_back("auth.jwt_secret_file");
  }
  if (!a.jwt_public_key_file.empty()) {
    key_sources.emplace_back("auth.jwt_public_key_file");
  }
  if (key_sources.size() > 1) {
    std::string which;
    for (const auto& s : key_sources) {
      which += (which.empty() ? "" : ", ") + s;
    }
    out.add("set at most one of auth.jwt_secret, auth.jwt_secret_file, auth.jwt_public_key_file "
            "(set: "
            + which + ")");
  }
  // Without a key every token is refused, so a node that allows no anonymous clients could
  // not accept a single connection: refuse to start instead of failing every upgrade.
  if (key_sources.empty() && !a.anonymous) {
    out.add("auth: clients cannot authenticate: set auth.jwt_secret_file, auth.jwt_secret or "
            "auth.jwt_public_key_file, or auth.anonymous = true (development on loopback)");
  }
  if (a.metrics_api_key && a.api_key.empty()) {
    out.add("auth.metrics_api_key = true needs auth.api_key: /metrics would be closed to "
            "everyone");
  }
  auto star = std::find(a.allowed_origins.begin(), a.allowed_origins.end(), "*");
  if (star != a.allowed_origins.end() && a.allowed_origins.size() > 1) {
    out.add("auth.allowed_origins: \"*\" already allows every origin; list it alone");
  }
}

void check_cluster(const config& cfg, problems& out) {
  const auto& c = cfg.cluster;
  if (c.suspect_timeout_ms <= c.gossip_interval_ms) {
    out.add("cluster.suspect_timeout_ms (" + std::to_string(c.suspect_timeout_ms)
            + ") must be above cluster.gossip_interval_ms (" + std::to_string(c.gossip_interval_ms)
            + "): a member would be suspected between two gossip rounds");
  }
  if (c.dead_timeout_ms <= c.suspect_timeout_ms) {
    out.add("cluster.dead_timeout_ms (" + std::to_string(c.dead_timeout_ms)
            + ") must be above cluster.suspect_timeout_ms (" + std::to_string(c.suspect_timeout_ms)
            + "): a member must be suspected before it is declared down");
  }
  if (!c.enabled) {
    return;
  }
  auto bind = parse_host_port(c.bind);
  auto listen = parse_host_port(cfg.node.listen);
  if (!bind || !listen) {
    return; // already reported by the per-key checks
  }
  if (c.secret.empty() && !is_loopback_host(bind->host)) {
    out.add("cluster.secret is required when cluster.bind (" + c.bind
            + ") is not a loopback address: anyone reaching the port could join the cluster");
  }
  if (c.advertise.empty() && is_wildcard_host(bind->host)) {
    out.add("cluster.advertise is required when cluster.bind is " + c.bind
            + ": other members cannot connect to a wildcard address");
  }
  bool same_host
    = bind->host == listen->host || is_wildcard_host(bind->host) || is_wildcard_host(listen->host);
  if (same_host && listen->port != 0
      && (bind->port == listen->port || bind->port + 1 == listen->port)) {
    out.add("cluster.bind (" + c.bind + ", port " + std::to_string(bind->port + 1)
            + " reserved) collides with node.listen (" + cfg.node.listen + ")");
  }
}

} // namespace

void validate(const config& cfg) {
  problems out;
  check_keys(cfg, out);
  check_namespaces(cfg, out);
  if (cfg.websocket.send_queue_limit_bytes < cfg.websocket.max_message_bytes) {
    out.add("websocket.send_queue_limit_bytes ("
            + std::to_string(cfg.websocket.send_queue_limit_bytes)
            + ") must be at least websocket.max_message_bytes ("
            + std::to_string(cfg.websocket.max_message_bytes)
            + "): one large message would make its reader a slow consumer");
  }
  if (cfg.tls.cert_file.empty() != cfg.tls.key_file.empty()) {
    out.add(std::string{"tls.cert_file and tls.key_file must be set together ("}
            + (cfg.tls.cert_file.empty() ? "key_file" : "cert_file") + " is set, "
            + (cfg.tls.cert_file.empty() ? "cert_file" : "key_file") + " is empty)");
  }
  if (cfg.presence.stale_threshold_ms <= cfg.presence.heartbeat_interval_ms) {
    out.add("presence.stale_threshold_ms (" + std::to_string(cfg.presence.stale_threshold_ms)
            + ") must be above presence.heartbeat_interval_ms ("
            + std::to_string(cfg.presence.heartbeat_interval_ms)
            + "): every member would go stale between two heartbeats");
  }
  check_auth(cfg, out);
  check_cluster(cfg, out);
  out.throw_if_any();
}

} // namespace plexus::engine
