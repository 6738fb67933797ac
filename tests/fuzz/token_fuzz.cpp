// libFuzzer target for connection tokens (net/auth.cpp on libjwt + simdjson): the first code
// an unauthenticated peer reaches with bytes of its choosing.
//
// Input layout: byte 0 selects the mode (value % 4), the rest is:
//   0  a token, verified by an HS256 node (secret below)
//   1  a token, verified by an RS256 node (public key below)
//   2  a token, verified by an ES256 node (public key below)
//   3  a claims text: signed here with the HS256 secret into a token whose header is
//      {"alg":"HS256","typ":"JWT"}, then verified, so the claim checks after the signature
//      (sub, exp/nbf, channels, publish, meta) see arbitrary bytes too
//
// The RS256 and ES256 seeds in tests/fuzz/corpus/token/ were signed with private keys that
// were thrown away; only these public keys are needed to verify them. The seeds expire in
// 2100, so they reach the claim checks until then.
//
// PLEXUS_FUZZ_DEBUG=1 prints each verdict.
//
// Oracles (a violation aborts): verify() never throws; an accepted token has a non-empty
// user, an expiry no earlier than now minus the leeway, and no error text; a refused one
// has an error text.

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "net/auth.hpp"

namespace {

using plexus::net::auth_result;
using plexus::net::auth_settings;
using plexus::net::authenticator;

constexpr const char* hs256_secret = "plexus-fuzz-hs256-secret-0123456789abcdef";

constexpr const char* rs256_public_key = R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwnKplWN+vhJ2SBzOmN7x
BXw2PXxIVFilMCfjRUTWtYjWPr6I5qWdzpe+06JBqRAu8ntU0TYdiFqwrwoq1xTh
7QFEcn/sInGtEVuWuJTzw7zA2zZi/9xDENvYb8Wn9kkQVXpvjtiedNnay5uHVLJ4
CgOLPVjnB219kmS3z8pn/AD3dvYl2eOuR8FFCwo5goVyfbXQztTcFmlw69HFD7St
Sk9DKrWghXY1iOfsoNRJgoMBhO2GX1t26PTmxeq4JY1LvIidKE5K3aDWXC8jzqBC
s78vexhwtNGn+CdTQkfTmTBUOoR4kE64zLqsQIotaAJGuuOaCuwJYOHeei5GBMOp
LwIDAQAB
-----END PUBLIC KEY-----
)";

constexpr const char* es256_public_key = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEnWpRZL5QKPeIdchWpbBdopXf45O2
o+83xtb/6RBi1wvXnc8AQ9IefW4dCs3MPiUWeCJdkxBk8U9+vGtDzg4YrQ==
-----END PUBLIC KEY-----
)";

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "token_fuzz: %s\n", what);
    std::abort();
  }
}

/// An authenticator for a public key: the settings take a file, written and removed here.
std::unique_ptr<authenticator> with_public_key(const char* pem) {
  char path[] = "/tmp/plexus-token-fuzz-XXXXXX";
  int fd = ::mkstemp(path);
  check(fd >= 0, "cannot create a key file");
  ::close(fd);
  std::ofstream(path, std::ios::binary) << pem;
  auth_settings s;
  s.jwt_public_key_file = path;
  auto a = std::make_unique<authenticator>(s);
  ::unlink(path);
  return a;
}

struct nodes {
  std::unique_ptr<authenticator> hs256;
  std::unique_ptr<authenticator> rs256;
  std::unique_ptr<authenticator> es256;
};

const nodes& the_nodes() {
  static const nodes n = [] {
    nodes made;
    auth_settings s;
    s.jwt_secret = hs256_secret;
    made.hs256 = std::make_unique<authenticator>(s);
    made.rs256 = with_public_key(rs256_public_key);
    made.es256 = with_public_key(es256_public_key);
    return made;
  }();
  return n;
}

std::string base64url(std::string_view in) {
  static constexpr char table[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    acc = (acc << 8) | static_cast<uint8_t>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(table[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) {
    out.push_back(table[(acc << (6 - bits)) & 63]);
  }
  return out;
}

std::string sign_hs256(std::string_view claims) {
  std::string token = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), hs256_secret, static_cast<int>(std::string_view{hs256_secret}.size()),
       reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac, &len);
  return token + "." + base64url(std::string_view(reinterpret_cast<const char*>(mac), len));
}

void check_result(const auth_result& r) {
  // PLEXUS_FUZZ_DEBUG=1: print each verdict (to see which seeds reach the claim checks).
  static const bool debug = std::getenv("PLEXUS_FUZZ_DEBUG") != nullptr;
  if (debug) {
    std::fprintf(stderr, "token_fuzz: %s\n",
                 r.who ? ("accepted " + r.who->user).c_str() : ("refused: " + r.error).c_str());
  }
  if (!r.who) {
    check(!r.error.empty(), "refused without a reason");
    return;
  }
  check(r.error.empty(), "accepted with an error text");
  check(!r.who->user.empty(), "accepted without a user");
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  // The default leeway is 5 s; one more for the second that may have ticked since.
  check(r.who->expires_at >= now - 6, "accepted an expired token");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  the_nodes();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const auto& n = the_nodes();
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      check_result(n.hs256->verify(rest));
      break;
    case 1:
      check_result(n.rs256->verify(rest));
      break;
    case 2:
      check_result(n.es256->verify(rest));
      break;
    default: {
      check_result(n.hs256->verify(sign_hs256(rest)));
      break;
    }
  }
  return 0;
}
