// authenticator: JWT verification, one bad input per case, and the start-up checks of its
// key settings.
#include "net/auth.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <stdexcept>

#include "tests/support/tokens.hpp"

namespace plexus::test {
namespace {

using net::auth_settings;
using net::authenticator;

const std::string secret = "0123456789abcdef0123456789abcdef-test-secret";

auth_settings hs256_settings() {
  auth_settings s;
  s.jwt_secret = secret;
  s.jwt_leeway_s = 5;
  return s;
}

/// Expects `token` refused, with `why` in the error text.
void expect_refused(const authenticator& auth, const std::string& token, const std::string& why) {
  auto r = auth.verify(token);
  EXPECT_FALSE(r.who) << "accepted: " << token;
  EXPECT_NE(r.error.find(why), std::string::npos) << "error was: " << r.error;
  EXPECT_EQ(r.error.find(token.empty() ? "\x01" : token), std::string::npos)
    << "the error text must never carry the token";
}

/// Expects construction to throw with `option` named.
void expect_throws_naming(const auth_settings& s, const std::string& option) {
  try {
    authenticator a{s};
    ADD_FAILURE() << "no exception; expected one naming " << option;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find(option), std::string::npos) << e.what();
  }
}

TEST(auth, hs256_token_gives_identity_with_claims) {
  authenticator auth{hs256_settings()};
  EXPECT_TRUE(auth.has_keys());
  auto exp = unix_now() + 600;
  auto token = mint("HS256", secret,
                    R"({"sub":"alice","exp":)" + std::to_string(exp)
                      + R"(,"channels":["room:*","news"],"publish":["room:lobby"],)"
                      + R"("meta":{"name":"Alice","level":3}})");
  auto r = auth.verify(token);
  ASSERT_TRUE(r.who) << r.error;
  EXPECT_EQ(r.who->user, "alice");
  EXPECT_FALSE(r.who->anonymous);
  EXPECT_EQ(r.who->expires_at, exp);
  ASSERT_TRUE(r.who->channels);
  EXPECT_EQ(*r.who->channels, (std::vector<std::string>{"room:*", "news"}));
  ASSERT_TRUE(r.who->publish);
  EXPECT_EQ(*r.who->publish, (std::vector<std::string>{"room:lobby"}));
  ASSERT_TRUE(r.who->meta);
  EXPECT_EQ(r.who->meta->format, actors::wire_format::json);
  EXPECT_EQ(r.who->meta->bytes, R"({"level":3,"name":"Alice"})");
}

TEST(auth, absent_channel_claims_mean_no_restriction) {
  authenticator auth{hs256_settings()};
  auto r = auth.verify(mint("HS256", secret, claims("bob")));
  ASSERT_TRUE(r.who) << r.error;
  EXPECT_FALSE(r.who->channels);
  EXPECT_FALSE(r.who->publish);
  EXPECT_FALSE(r.who->meta);
}

TEST(auth, secret_file_with_trailing_newline) {
  temp_dir dir;
  auth_settings s;
  s.jwt_secret_file = dir.write("secret", secret + "\n");
  authenticator auth{s};
  EXPECT_TRUE(auth.verify(mint("HS256", secret, claims("carol"))).who);
}

TEST(auth, forged_signature) {
  authenticator auth{hs256_settings()};
  expect_refused(auth, mint("HS256", "another-secret-of-32-bytes-or-more!!", claims("mallory")),
                 "signature");
  // A valid token whose payload was swapped for another user's.
  auto good = mint("HS256", secret, claims("alice"));
  auto forged_payload = base64url(claims("admin"));
  auto first = good.find('.');
  auto second = good.find('.', first + 1);
  auto forged = good.substr(0, first + 1) + forged_payload + good.substr(second);
  expect_refused(auth, forged, "signature");
  // A flipped bit in the signature.
  auto flipped = good;
  flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
  expect_refused(auth, flipped, "signature");
}

TEST(auth, alg_none_is_refused) {
  authenticator auth{hs256_settings()};
  expect_refused(auth, mint_unsigned(claims("mallory")), "alg none");
  expect_refused(auth, mint_unsigned(claims("mallory"), "None"), "alg");
  // `none` in the header but a signature attached anyway.
  auto signed_part = mint("HS256", secret, claims("mallory"));
  auto sig = signed_part.substr(signed_part.rfind('.') + 1);
  expect_refused(auth, mint_unsigned(claims("mallory")) + sig, "alg none");
}

TEST(auth, other_hmac_algorithm_is_refused) {
  authenticator auth{hs256_settings()};
  expect_refused(auth, mint("HS384", secret, claims("mallory")), "not HS256");
  expect_refused(auth, mint("HS512", secret, claims("mallory")), "not HS256");
}

TEST(auth, rs256_node_accepts_rs256_and_refuses_key_confusion) {
  temp_dir dir;
  auto keys = make_rsa_keys(dir);
  auth_settings s;
  s.jwt_public_key_file = keys.public_file;
  authenticator auth{s};
  auto r = auth.verify(mint("RS256", keys.private_pem, claims("alice")));
  ASSERT_TRUE(r.who) << r.error;
  EXPECT_EQ(r.who->user, "alice");
  // The classic attack: HMAC keyed with the (public) PEM text, which libjwt alone would
  // accept because it verifies with the algorithm the token names.
  expect_refused(auth, mint("HS256", keys.public_pem, claims("mallory")), "not RS256");
  expect_refused(auth, mint_unsigned(claims("mallory")), "alg none");
  // Signed by another RSA key.
  auto other = make_rsa_keys(dir, "other");
  expect_refused(auth, mint("RS256", other.private_pem, claims("mallory")), "signature");
}

TEST(auth, es256_node_accepts_es256_only) {
  temp_dir dir;
  auto keys = make_ec_keys(dir);
  auth_settings s;
  s.jwt_public_key_file = keys.public_file;
  authenticator auth{s};
  auto r = auth.verify(mint("ES256", keys.private_pem, claims("erin")));
  ASSERT_TRUE(r.who) << r.error;
  EXPECT_EQ(r.who->user, "erin");
  expect_refused(auth, mint("HS256", keys.public_pem, claims("mallory")), "not ES256");
  auto rsa = make_rsa_keys(dir);
  expect_refused(auth, mint("RS256", rsa.private_pem, claims("mallory")), "not ES256");
}

TEST(auth, expiry_and_not_before_with_leeway) {
  authenticator auth{hs256_settings()}; // leeway 5 s
  expect_refused(auth, mint("HS256", secret, claims("old", -60)), "expired");
  EXPECT_TRUE(auth.verify(mint("HS256", secret, claims("skewed", -2))).who) << "within the leeway";
  auto future = std::to_string(unix_now() + 120);
  expect_refused(auth, mint("HS256", secret, claims("early", 600, R"("nbf":)" + future)), "nbf");
  auto soon = std::to_string(unix_now() + 2);
  EXPECT_TRUE(auth.verify(mint("HS256", secret, claims("soon", 600, R"("nbf":)" + soon))).who);
  auth_settings strict = hs256_settings();
  strict.jwt_leeway_s = 0;
  authenticator no_leeway{strict};
  expect_refused(no_leeway, mint("HS256", secret, claims("skewed", -2)), "expired");
}

TEST(auth, required_and_typed_claims) {
  authenticator auth{hs256_settings()};
  auto exp = std::to_string(unix_now() + 600);
  expect_refused(auth, mint("HS256", secret, claims("")), "sub");
  expect_refused(auth, mint("HS256", secret, R"({"sub":"","exp":)" + exp + "}"), "sub");
  expect_refused(auth, mint("HS256", secret, R"({"sub":42,"exp":)" + exp + "}"), "sub");
  expect_refused(auth, mint("HS256", secret, R"({"sub":"x"})"), "exp");
  expect_refused(auth, mint("HS256", secret, R"({"sub":"x","exp":"tomorrow"})"), "exp");
  expect_refused(auth, mint("HS256", secret, claims("x", 600, R"("channels":"room:*")")),
                 "channels");
  expect_refused(auth, mint("HS256", secret, claims("x", 600, R"("channels":["a",1])")),
                 "channels");
  expect_refused(auth, mint("HS256", secret, claims("x", 600, R"("publish":{"a":1})")), "publish");
  expect_refused(auth, mint("HS256", secret, claims("x", 600, R"("meta":"vip")")), "meta");
}

TEST(auth, malformed_tokens) {
  authenticator auth{hs256_settings()};
  expect_refused(auth, "", "empty");
  expect_refused(auth, "not-a-token", "malformed");
  expect_refused(auth, "a.b", "malformed");
  expect_refused(auth, "a.b.c.d", "malformed");
  expect_refused(auth, ".e30.sig", "malformed");
  expect_refused(auth, "e30=.e30.sig", "malformed"); // padding is not base64url
  expect_refused(auth, "a b.c.d", "malformed");
  expect_refused(auth, base64url("not json") + ".e30.c2ln", "header");
  expect_refused(auth, base64url(R"({"typ":"JWT"})") + ".e30.c2ln", "header");
  expect_refused(auth, std::string(9000, 'a') + ".b.c", "longer");
  auto good = mint("HS256", secret, claims("alice"));
  expect_refused(auth, good.substr(0, good.size() / 2), ""); // truncated
  expect_refused(auth, good + "x", "signature");
}

TEST(auth, random_strings_are_refused_without_crashing) {
  authenticator auth{hs256_settings()};
  std::mt19937 gen{42};
  auto good = mint("HS256", secret, claims("alice"));
  static constexpr char alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
  for (int i = 0; i < 3000; ++i) {
    std::string t;
    if (i % 3 == 0) {
      t.resize(gen() % 300);
      for (auto& c : t) {
        c = static_cast<char>(gen());
      }
    } else if (i % 3 == 1) {
      t.resize(gen() % 300);
      for (auto& c : t) {
        c = alphabet[gen() % (sizeof(alphabet) - 1)];
      }
    } else {
      t = good;
      t[gen() % t.size()] = alphabet[gen() % (sizeof(alphabet) - 1)];
      if (t == good) {
        continue;
      }
    }
    EXPECT_FALSE(auth.verify(t).who) << t;
  }
}

TEST(auth, anonymous_only_when_enabled) {
  authenticator closed{hs256_settings()};
  EXPECT_FALSE(closed.anonymous().who);
  auth_settings s;
  s.anonymous = true;
  authenticator open{s};
  EXPECT_FALSE(open.has_keys());
  EXPECT_FALSE(open.verify(mint("HS256", secret, claims("alice"))).who)
    << "no key configured: tokens cannot be checked, so none is accepted";
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto r = open.anonymous();
    ASSERT_TRUE(r.who);
    EXPECT_TRUE(r.who->anonymous);
    ASSERT_EQ(r.who->user.size(), 17u) << r.who->user;
    EXPECT_EQ(r.who->user.substr(0, 5), "anon-");
    EXPECT_EQ(r.who->user.find_first_not_of("0123456789abcdef", 5), std::string::npos);
    seen.insert(r.who->user);
  }
  EXPECT_EQ(seen.size(), 100u) << "anonymous ids are random, not reused";
}

TEST(auth, key_settings_are_checked_at_start_up) {
  auth_settings short_secret;
  short_secret.jwt_secret = "too-short";
  expect_throws_naming(short_secret, "auth.jwt_secret");

  auth_settings missing_file;
  missing_file.jwt_secret_file = "/nonexistent/plexus/secret";
  expect_throws_naming(missing_file, "auth.jwt_secret_file");

  temp_dir dir;
  auth_settings short_file;
  short_file.jwt_secret_file = dir.write("short", "abc\n");
  expect_throws_naming(short_file, "auth.jwt_secret_file");

  auth_settings missing_key;
  missing_key.jwt_public_key_file = "/nonexistent/plexus/key.pem";
  expect_throws_naming(missing_key, "auth.jwt_public_key_file");

  auth_settings not_pem;
  not_pem.jwt_public_key_file = dir.write("garbage.pem", "hello");
  expect_throws_naming(not_pem, "auth.jwt_public_key_file");

  auth_settings private_not_public;
  private_not_public.jwt_public_key_file = make_ec_keys(dir, "priv").private_file;
  expect_throws_naming(private_not_public, "auth.jwt_public_key_file");

  auth_settings weak_rsa;
  weak_rsa.jwt_public_key_file = make_rsa_keys(dir, "weak", 1024).public_file;
  expect_throws_naming(weak_rsa, "auth.jwt_public_key_file");

  auth_settings p384;
  p384.jwt_public_key_file = make_ec_keys(dir, "p384", "P-384").public_file;
  expect_throws_naming(p384, "auth.jwt_public_key_file");

  auth_settings two;
  two.jwt_secret = secret;
  two.jwt_public_key_file = make_rsa_keys(dir).public_file;
  expect_throws_naming(two, "at most one");
}

} // namespace
} // namespace plexus::test
