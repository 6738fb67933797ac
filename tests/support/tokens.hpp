#pragma once

#include <cstdint>
#include <string>

namespace plexus::test {

/// A directory under /tmp made for one test, removed with everything in it on destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const {
    return path_;
  }
  /// `path()/name`.
  std::string file(const std::string& name) const;
  /// Writes `text` to `path()/name` and returns the file's path.
  std::string write(const std::string& name, const std::string& text) const;

private:
  std::string path_;
};

/// PEM files of a key pair made with the `openssl` command at test time.
struct key_pair {
  std::string private_file;
  std::string public_file;
  std::string private_pem; // contents, for signing
  std::string public_pem;  // contents, e.g. as the "secret" of a key-confusion token
};

/// An RSA key pair of `bits` bits in `dir` (names prefixed with `name`).
key_pair make_rsa_keys(const temp_dir& dir, const std::string& name = "rsa", int bits = 2048);
/// An EC key pair on `curve` (P-256 for ES256).
key_pair make_ec_keys(const temp_dir& dir, const std::string& name = "ec",
                      const std::string& curve = "P-256");

/// A self-signed certificate for 127.0.0.1 (CN and subjectAltName IP) and its key.
struct certificate {
  std::string cert_file;
  std::string key_file;
};
certificate make_self_signed(const temp_dir& dir, const std::string& name = "server");

/// Seconds since the epoch, now.
int64_t unix_now();

/// A JSON claims object: `sub` (omitted when empty), `exp` = now + exp_in_s, and `extra`
/// members appended verbatim (e.g. R"("channels":["room:*"])").
std::string claims(const std::string& sub, int64_t exp_in_s = 3600, const std::string& extra = {});

/// A token over `claims_json` signed with libjwt: `alg` is "HS256" (key = secret),
/// "HS384", "RS256" or "ES256" (key = PEM private key).
std::string mint(const std::string& alg, const std::string& key, const std::string& claims_json);

/// An unsigned token (`alg: none`), as an attacker would write it: "header.payload.".
std::string mint_unsigned(const std::string& claims_json, const std::string& alg = "none");

/// Base64url without padding.
std::string base64url(const std::string& in);

} // namespace plexus::test
