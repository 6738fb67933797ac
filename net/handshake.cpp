#include "net/handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace plexus::net::ws {

namespace {

constexpr std::string_view ws_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_ows(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

// Splits `s` at `sep` outside double quotes. Returns false on an unterminated quote.
template <class F>
bool split_unquoted(std::string_view s, char sep, F&& each) {
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == sep) {
      each(s.substr(start, i - start));
      start = i + 1;
    }
  }
  if (quoted) {
    return false;
  }
  each(s.substr(start));
  return true;
}

// The value of a parameter: a token or a quoted-string, unquoted. nullopt when malformed.
std::optional<std::string> param_value(std::string_view v) {
  if (v.empty()) {
    return std::nullopt;
  }
  if (v.front() != '"') {
    return std::string(v);
  }
  if (v.size() < 2 || v.back() != '"') {
    return std::nullopt;
  }
  std::string out;
  for (std::size_t i = 1; i + 1 < v.size(); ++i) {
    if (v[i] == '\\' && i + 2 < v.size()) {
      ++i;
    }
    out.push_back(v[i]);
  }
  return out;
}

// RFC 7692 7.1.2: a window size is 8..15 written without leading zeros.
int window_bits(std::string_view v) {
  if (v.size() == 1 && v[0] >= '8' && v[0] <= '9') {
    return v[0] - '0';
  }
  if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') {
    return 10 + (v[1] - '0');
  }
  return 0;
}

// One offer's parameters, each seen at most once.
struct offer {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 0; // 0: absent
  bool client_max_window_bits = false;
  int client_max_window_bits_value = 0; // 0: sent without a value
};

std::optional<offer> parse_offer(std::string_view text) {
  offer o;
  bool first = true;
  bool valid = true;
  bool seen_snct = false;
  bool seen_cnct = false;
  bool seen_smwb = false;
  bool seen_cmwb = false;
  bool split_ok = split_unquoted(text, ';', [&](std::string_view part) {
    if (!valid) {
      return;
    }
    part = trim(part);
    if (first) {
      first = false;
      valid = iequals(part, "permessage-deflate");
      return;
    }
    std::string_view name = part;
    std::optional<std::string> value;
    bool has_value = false;
    if (auto eq = part.find('='); eq != std::string_view::npos) {
      name = trim(part.substr(0, eq));
      value = param_value(trim(part.substr(eq + 1)));
      has_value = true;
      if (!value) {
        valid = false;
        return;
      }
    }
    auto once = [&](bool& seen) {
      if (seen) {
        valid = false;
      }
      seen = true;
    };
    if (iequals(name, "server_no_context_takeover")) {
      once(seen_snct);
      valid = valid && !has_value;
      o.server_no_context_takeover = true;
    } else if (iequals(name, "client_no_context_takeover")) {
      once(seen_cnct);
      valid = valid && !has_value;
      o.client_no_context_takeover = true;
    } else if (iequals(name, "server_max_window_bits")) {
      once(seen_smwb);
      o.server_max_window_bits = has_value ? window_bits(*value) : 0;
      valid = valid && o.server_max_window_bits != 0;
    } else if (iequals(name, "client_max_window_bits")) {
      once(seen_cmwb);
      o.client_max_window_bits = true;
      if (has_value) {
        o.client_max_window_bits_value = window_bits(*value);
        valid = valid && o.client_max_window_bits_value != 0;
      }
    } else {
      valid = false;
    }
  });
  if (!split_ok || !valid || first) {
    return std::nullopt;
  }
  return o;
}

} // namespace

std::string accept_key(std::string_view client_key) {
  std::string input;
  input.reserve(client_key.size() + ws_guid.size());
  input.append(client_key);
  input.append(ws_guid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

bool valid_client_key(std::string_view key) {
  // 16 bytes encode to 22 base64 characters and "==". Non-zero padding bits are tolerated:
  // the key is only hashed, never decoded.
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') {
    return false;
  }
  for (std::size_t i = 0; i < 22; ++i) {
    char c = key[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+'
              || c == '/';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::optional<deflate_agreement> negotiate_deflate(std::string_view extensions_header) {
  std::optional<deflate_agreement> result;
  split_unquoted(extensions_header, ',', [&](std::string_view text) {
    if (result) {
      return;
    }
    auto o = parse_offer(trim(text));
    if (!o) {
      return;
    }
    // We deflate each broadcast once with a 15-bit window and share the bytes, so we
    // cannot honour a smaller server window (RFC 7692 7.1.2.1: accepting means replying
    // with the same or a smaller value and compressing within it). Decline; a later
    // offer may fit.
    if (o->server_max_window_bits != 0 && o->server_max_window_bits != 15) {
      return;
    }
    deflate_agreement a;
    a.response = "permessage-deflate; server_no_context_takeover";
    if (o->client_no_context_takeover) {
      a.client_no_context_takeover = true;
      a.response += "; client_no_context_takeover";
    }
    if (o->server_max_window_bits == 15) {
      a.response += "; server_max_window_bits=15";
    }
    if (o->client_max_window_bits_value != 0) {
      a.client_max_window_bits = o->client_max_window_bits_value;
      a.response += "; client_max_window_bits=" + std::to_string(a.client_max_window_bits);
    }
    result = std::move(a);
  });
  return result;
}

std::optional<std::string> choose_subprotocol(std::string_view protocols_header,
                                              const std::vector<std::string>& supported) {
  for (const auto& want : supported) {
    if (want.empty()) {
      continue;
    }
    std::optional<std::string> found;
    split_unquoted(protocols_header, ',', [&](std::string_view token) {
      if (!found && trim(token) == want) {
        found = want;
      }
    });
    if (found) {
      return found;
    }
  }
  return std::nullopt;
}

} // namespace plexus::net::ws
