#include "tests/support/tokens.hpp"

#include <jwt.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace plexus::test {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Runs an `openssl` command line; throws when it fails (the test cannot go on).
void openssl(const std::string& args) {
  auto cmd = "openssl " + args + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    throw std::runtime_error("command failed: " + cmd);
  }
}

} // namespace

temp_dir::temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "plexus-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::file(const std::string& name) const {
  return path_ + "/" + name;
}

std::string temp_dir::write(const std::string& name, const std::string& text) const {
  auto p = file(name);
  std::ofstream out(p, std::ios::binary);
  out << text;
  return p;
}

key_pair make_rsa_keys(const temp_dir& dir, const std::string& name, int bits) {
  key_pair k{dir.file(name + "-private.pem"), dir.file(name + "-public.pem"), {}, {}};
  openssl("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:" + std::to_string(bits) + " -out "
          + k.private_file);
  openssl("pkey -in " + k.private_file + " -pubout -out " + k.public_file);
  k.private_pem = read_text(k.private_file);
  k.public_pem = read_text(k.public_file);
  return k;
}

key_pair make_ec_keys(const temp_dir& dir, const std::string& name, const std::string& curve) {
  key_pair k{dir.file(name + "-private.pem"), dir.file(name + "-public.pem"), {}, {}};
  openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:" + curve + " -out " + k.private_file);
  openssl("pkey -in " + k.private_file + " -pubout -out " + k.public_file);
  k.private_pem = read_text(k.private_file);
  k.public_pem = read_text(k.public_file);
  return k;
}

certificate make_self_signed(const temp_dir& dir, const std::string& name) {
  certificate c{dir.file(name + "-cert.pem"), dir.file(name + "-key.pem")};
  openssl("req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
          "subjectAltName=IP:127.0.0.1 -keyout "
          + c.key_file + " -out " + c.cert_file);
  return c;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string claims(const std::string& sub, int64_t exp_in_s, const std::string& extra) {
  std::string out = "{";
  if (!sub.empty()) {
    out += "\"sub\":\"" + sub + "\",";
  }
  out += "\"exp\":" + std::to_string(unix_now() + exp_in_s);
  if (!extra.empty()) {
    out += "," + extra;
  }
  return out + "}";
}

std::string mint(const std::string& alg, const std::string& key, const std::string& claims_json) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) {
    throw std::runtime_error("jwt_new failed");
  }
  std::unique_ptr<jwt_t, decltype(&jwt_free)> token{raw, &jwt_free};
  if (jwt_add_grants_json(token.get(), claims_json.c_str()) != 0) {
    throw std::runtime_error("jwt_add_grants_json failed for " + claims_json);
  }
  if (jwt_set_alg(token.get(), jwt_str_alg(alg.c_str()),
                  reinterpret_cast<const unsigned char*>(key.data()), static_cast<int>(key.size()))
      != 0) {
    throw std::runtime_error("jwt_set_alg failed for " + alg);
  }
  std::unique_ptr<char, decltype(&std::free)> text{jwt_encode_str(token.get()), &std::free};
  if (!text) {
    throw std::runtime_error("jwt_encode_str failed for " + alg);
  }
  return text.get();
}

std::string base64url(const std::string& in) {
  static constexpr char table[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8)
                 | static_cast<uint8_t>(in[i + 2]);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += table[v & 63];
  }
  if (in.size() - i == 1) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
  } else if (in.size() - i == 2) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
  }
  return out;
}

std::string mint_unsigned(const std::string& claims_json, const std::string& alg) {
  return base64url(R"({"alg":")" + alg + R"(","typ":"JWT"})") + "." + base64url(claims_json) + ".";
}

} // namespace plexus::test
