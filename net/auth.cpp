// JWT verification with libjwt (OpenSSL underneath). libjwt checks the signature with the
// algorithm the token itself names, so the algorithm is pinned here, before and after the
// library looks at the token: an HS256 token whose "secret" is our RSA public key (the
// key-confusion attack) or an unsigned `alg: none` token never gets through.
#include "net/auth.hpp"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <simdjson.h>

namespace plexus::net {

namespace {

/// Tokens are carried in a header or query string (16 KiB header limit); one this long is
/// never legitimate, and bounding it bounds the work an unauthenticated peer causes.
constexpr std::size_t max_token_bytes = 8 * 1024;

/// HS256 keys shorter than the hash output can be brute-forced offline from one token.
constexpr std::size_t min_secret_bytes = 32;

/// RSA keys below 2048 bits are factorable by a determined attacker.
constexpr int min_rsa_bits = 2048;

std::string read_file(const std::string& path, const char* option) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error(std::string{option} + ": cannot read '" + path + "'");
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Secrets written with `echo` end in a newline that is not part of the key.
std::string trim_trailing_space(std::string s) {
  while (!s.empty()
         && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.pop_back();
  }
  return s;
}

struct pkey_deleter {
  void operator()(EVP_PKEY* k) const {
    EVP_PKEY_free(k);
  }
};

/// The one algorithm a PEM public key verifies: RS256 for RSA >= 2048 bits, ES256 for a
/// P-256 EC key. Throws naming the option for anything else.
jwt_alg_t algorithm_of_public_key(const std::string& pem, const std::string& path) {
  const char* option = "auth.jwt_public_key_file";
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{
    BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free};
  std::unique_ptr<EVP_PKEY, pkey_deleter> key{
    bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr};
  if (!key) {
    throw std::runtime_error(std::string{option} + ": '" + path
                             + "' is not a PEM public key (-----BEGIN PUBLIC KEY-----)");
  }
  switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA: {
      auto bits = EVP_PKEY_get_bits(key.get());
      if (bits < min_rsa_bits) {
        throw std::runtime_error(std::string{option} + ": RSA key in '" + path + "' has "
                                 + std::to_string(bits) + " bits; at least "
                                 + std::to_string(min_rsa_bits) + " are required");
      }
      return JWT_ALG_RS256;
    }
    case EVP_PKEY_EC: {
      char group[64] = {0};
      std::size_t len = 0;
      if (EVP_PKEY_get_group_name(key.get(), group, sizeof(group), &len) != 1
          || std::string{group} != "prime256v1") {
        throw std::runtime_error(std::string{option} + ": EC key in '" + path + "' is on curve '"
                                 + group + "'; ES256 needs P-256 (prime256v1)");
      }
      return JWT_ALG_ES256;
    }
    default:
      throw std::runtime_error(std::string{option} + ": '" + path
                               + "' holds neither an RSA (RS256) nor a P-256 EC (ES256) key");
  }
}

bool is_base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
         || c == '_';
}

/// Decodes unpadded base64url; nullopt on any other character or an impossible length.
std::optional<std::string> base64url_decode(std::string_view in) {
  if (in.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    uint32_t v;
    if (c >= 'A' && c <= 'Z') {
      v = static_cast<uint32_t>(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      v = static_cast<uint32_t>(c - 'a' + 26);
    } else if (c >= '0' && c <= '9') {
      v = static_cast<uint32_t>(c - '0' + 52);
    } else if (c == '-') {
      v = 62;
    } else if (c == '_') {
      v = 63;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

/// The `alg` of a token's header, read without trusting anything else in it. "" when the
/// header is not a JSON object with a string `alg`.
std::string header_alg(std::string_view header_b64) {
  auto header = base64url_decode(header_b64);
  if (!header) {
    return {};
  }
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  std::string_view alg;
  if (parser.parse(header->data(), header->size()).get(obj) != simdjson::SUCCESS
      || obj["alg"].get(alg) != simdjson::SUCCESS) {
    return {};
  }
  return std::string{alg};
}

struct jwt_deleter {
  void operator()(jwt_t* j) const {
    jwt_free(j);
  }
};

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// Reads an optional list-of-strings claim; false when present with another shape.
bool string_list(simdjson::dom::object& claims, const char* name,
                 std::optional<std::vector<std::string>>& out) {
  simdjson::dom::element e;
  if (claims[name].get(e) != simdjson::SUCCESS) {
    return true; // absent: no restriction
  }
  simdjson::dom::array arr;
  if (e.get(arr) != simdjson::SUCCESS) {
    return false;
  }
  std::vector<std::string> list;
  for (auto item : arr) {
    std::string_view s;
    if (item.get(s) != simdjson::SUCCESS) {
      return false;
    }
    list.emplace_back(s);
  }
  out = std::move(list);
  return true;
}

/// Reads an optional numeric date claim; false when present but not a number.
bool numeric_date(simdjson::dom::object& claims, const char* name, std::optional<double>& out) {
  simdjson::dom::element e;
  if (claims[name].get(e) != simdjson::SUCCESS) {
    return true;
  }
  double v;
  if (e.get(v) != simdjson::SUCCESS || !std::isfinite(v)) {
    return false;
  }
  out = v;
  return true;
}

auth_result refuse(std::string why) {
  return {std::nullopt, std::move(why)};
}

} // namespace

struct authenticator::impl {
  auth_settings settings;
  /// The one algorithm tokens must name; JWT_ALG_NONE = no key configured.
  jwt_alg_t alg = JWT_ALG_NONE;
  /// HS256 secret, or the PEM text of the public key.
  std::string key;

  auth_result check_claims(jwt_t* token) const;
};

authenticator::authenticator(const auth_settings& settings) : impl_(std::make_unique<impl>()) {
  auto& s = impl_->settings;
  s = settings;
  int sources = !s.jwt_secret.empty() + !s.jwt_secret_file.empty() + !s.jwt_public_key_file.empty();
  if (sources > 1) {
    throw std::runtime_error("auth: set at most one of auth.jwt_secret, auth.jwt_secret_file "
                             "and auth.jwt_public_key_file");
  }
  if (!s.jwt_secret.empty() || !s.jwt_secret_file.empty()) {
    const char* option = s.jwt_secret.empty() ? "auth.jwt_secret_file" : "auth.jwt_secret";
    impl_->key = s.jwt_secret.empty() ? trim_trailing_space(read_file(s.jwt_secret_file, option))
                                      : s.jwt_secret;
    if (impl_->key.size() < min_secret_bytes) {
      throw std::runtime_error(std::string{option} + ": the HS256 key is "
                               + std::to_string(impl_->key.size()) + " bytes; at least "
                               + std::to_string(min_secret_bytes) + " are required");
    }
    impl_->alg = JWT_ALG_HS256;
  } else if (!s.jwt_public_key_file.empty()) {
    impl_->key = read_file(s.jwt_public_key_file, "auth.jwt_public_key_file");
    impl_->alg = algorithm_of_public_key(impl_->key, s.jwt_public_key_file);
  }
  // Keep the secret out of the copied settings: one copy of it in memory is enough.
  s.jwt_secret.clear();
}

authenticator::~authenticator() = default;

auth_result authenticator::verify(std::string_view token) const {
  if (impl_->alg == JWT_ALG_NONE) {
    return refuse("token verification is not configured on this node");
  }
  if (token.empty()) {
    return refuse("empty token");
  }
  if (token.size() > max_token_bytes) {
    return refuse("token longer than " + std::to_string(max_token_bytes) + " bytes");
  }
  // Three base64url segments; anything else (JWE, padding, whitespace, NUL) is refused
  // before libjwt parses it.
  std::size_t dots = 0;
  for (char c : token) {
    if (c == '.') {
      ++dots;
    } else if (!is_base64url(c)) {
      return refuse("malformed token");
    }
  }
  auto first_dot = token.find('.');
  if (dots != 2 || first_dot == 0) {
    return refuse("malformed token");
  }
  const char* expected = jwt_alg_str(impl_->alg);
  auto alg = header_alg(token.substr(0, first_dot));
  if (alg.empty()) {
    return refuse("malformed token header");
  }
  if (alg == "none" || token.back() == '.') {
    return refuse("unsigned token (alg none is not accepted)");
  }
  if (alg != expected) {
    return refuse("token algorithm is not " + std::string{expected} + " (this node's key)");
  }
  std::string text{token};
  jwt_t* raw = nullptr;
  int rc = jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(impl_->key.data()),
                      static_cast<int>(impl_->key.size()));
  std::unique_ptr<jwt_t, jwt_deleter> decoded{raw};
  if (rc != 0 || !decoded) {
    return refuse("invalid token signature or format");
  }
  // libjwt verified with the algorithm it read: make sure that was ours.
  if (jwt_get_alg(decoded.get()) != impl_->alg) {
    return refuse("token algorithm is not " + std::string{expected} + " (this node's key)");
  }
  return impl_->check_claims(decoded.get());
}

auth_result authenticator::impl::check_claims(jwt_t* token) const {
  std::unique_ptr<char, decltype(&std::free)> json{jwt_get_grants_json(token, nullptr), &std::free};
  if (!json) {
    return refuse("token has no claims");
  }
  simdjson::dom::parser parser;
  simdjson::dom::object claims;
  if (parser.parse(json.get(), std::strlen(json.get())).get(claims) != simdjson::SUCCESS) {
    return refuse("token claims are not a JSON object");
  }
  actors::identity who;
  std::string_view sub;
  if (claims["sub"].get(sub) != simdjson::SUCCESS || sub.empty()) {
    return refuse("token has no sub (user id) claim");
  }
  who.user = std::string{sub};
  std::optional<double> exp;
  std::optional<double> nbf;
  if (!numeric_date(claims, "exp", exp) || !numeric_date(claims, "nbf", nbf)) {
    return refuse("token exp/nbf must be numbers (seconds since the epoch)");
  }
  if (!exp) {
    return refuse("token has no exp claim");
  }
  auto now = unix_now();
  auto leeway = static_cast<double>(settings.jwt_leeway_s);
  if (now > *exp + leeway) {
    return refuse("token expired");
  }
  if (nbf && now + leeway < *nbf) {
    return refuse("token not valid yet (nbf)");
  }
  // Whole seconds, capped far in the future so later arithmetic in milliseconds cannot
  // overflow (year 5138: such a token never expires in practice).
  who.expires_at = static_cast<int64_t>(std::floor(std::min(*exp, 1e11)));
  if (!string_list(claims, "channels", who.channels)) {
    return refuse("token channels claim must be a list of strings");
  }
  if (!string_list(claims, "publish", who.publish)) {
    return refuse("token publish claim must be a list of strings");
  }
  simdjson::dom::element meta;
  if (claims["meta"].get(meta) == simdjson::SUCCESS) {
    if (!meta.is_object()) {
      return refuse("token meta claim must be an object");
    }
    who.meta = actors::payload{actors::wire_format::json, simdjson::minify(meta)};
  }
  return {std::move(who), {}};
}

auth_result authenticator::anonymous() const {
  if (!impl_->settings.anonymous) {
    return refuse("a token is required");
  }
  // Random, not a counter: another client must not guess an anonymous user's id (and so
  // its `user:` channel).
  unsigned char raw[6];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    return refuse("could not generate a user id");
  }
  static constexpr char digits[] = "0123456789abcdef";
  actors::identity who;
  who.user = "anon-";
  for (auto b : raw) {
    who.user += digits[b >> 4];
    who.user += digits[b & 15];
  }
  who.anonymous = true;
  return {who, {}};
}

bool authenticator::has_keys() const {
  return impl_->alg != JWT_ALG_NONE;
}

} // namespace plexus::net
