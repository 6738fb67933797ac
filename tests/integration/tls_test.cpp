// [tls]: the node serves https and wss on its port with a self-signed certificate made at
// test time; plain clients and stalled TLS handshakes are dropped; bad files stop start-up
// with the option named.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <stdexcept>

#include "net/server.hpp"
#include "tests/support/test_node.hpp"
#include "tests/support/tls_client.hpp"
#include "tests/support/tokens.hpp"

namespace plexus::test {
namespace {

using actors::rejection;

/// A certificate made once for every test here (openssl takes ~100 ms per key).
class tls_fixture : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new temp_dir();
    cert_ = new certificate(make_self_signed(*dir_));
  }
  static void TearDownTestSuite() {
    delete cert_;
    delete dir_;
  }

  std::unique_ptr<test_node> tls_node(const std::function<void(engine::config&)>& more = {}) {
    return std::make_unique<test_node>([&](engine::config& cfg) {
      cfg.tls.cert_file = cert_->cert_file;
      cfg.tls.key_file = cert_->key_file;
      if (more) {
        more(cfg);
      }
    });
  }

  std::unique_ptr<tls_client> wss(test_node& n, const std::string& path = "/ws") {
    auto c = tls_client::connect(n.port(), cert_->cert_file);
    EXPECT_TRUE(c->handshake_ok());
    EXPECT_TRUE(c->upgrade(path)) << c->answer().status << " " << c->answer().body;
    if (path == "/ws") {
      EXPECT_TRUE(c->read_type("welcome"));
    }
    return c;
  }

  static temp_dir* dir_;
  static certificate* cert_;
};

temp_dir* tls_fixture::dir_ = nullptr;
certificate* tls_fixture::cert_ = nullptr;

TEST_F(tls_fixture, https_serves_routes_with_the_configured_certificate) {
  auto n = tls_node();
  auto c = tls_client::connect(n->port(), cert_->cert_file);
  ASSERT_TRUE(c->handshake_ok());
  EXPECT_TRUE(c->verified()) << "the certificate must be the one in tls.cert_file";
  EXPECT_TRUE(c->protocol() == "TLSv1.3" || c->protocol() == "TLSv1.2") << c->protocol();
  auto health = c->request("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json_string(health.body, "status"), "ok");
  // Keep-alive: a second request on the same TLS connection.
  auto missing = c->request("GET", "/nope");
  EXPECT_EQ(missing.status, 404);
}

TEST_F(tls_fixture, wss_pubsub_between_two_clients) {
  auto n = tls_node();
  auto a = wss(*n);
  auto b = wss(*n);
  b->send_text(R"({"type":"subscribe","channel":"room:tls","id":1})");
  ASSERT_TRUE(b->read_type("subscribed"));
  a->send_text(R"({"type":"subscribe","channel":"room:tls","id":1})");
  ASSERT_TRUE(a->read_type("subscribed"));
  a->send_text(R"({"type":"publish","channel":"room:tls","data":{"hello":"tls"},"id":2})");
  auto m = b->read_type("message");
  ASSERT_TRUE(m);
  EXPECT_EQ(json_raw(*m, "data"), R"({"hello":"tls"})");
}

TEST_F(tls_fixture, echo_of_many_sizes_in_order) {
  auto n = tls_node([](engine::config& cfg) {
    cfg.websocket.max_message_bytes = 1 << 20;
    cfg.session_limits.messages_per_minute = 1000000;
  });
  auto c = wss(*n, "/ws/echo");
  // Sizes across the frame-length encodings and TLS record boundaries (16 KiB), sent
  // back to back so the server coalesces several frames into one TLS write.
  std::vector<std::size_t> sizes{0, 1, 125, 126, 1000, 16383, 16384, 16385, 65535, 65536, 300000};
  for (int round = 0; round < 3; ++round) {
    for (auto size : sizes) {
      c->send_text(std::string(size, static_cast<char>('a' + round)));
    }
  }
  for (int round = 0; round < 3; ++round) {
    for (auto size : sizes) {
      auto f = c->read_frame(10s);
      ASSERT_TRUE(f) << "round " << round << " size " << size;
      EXPECT_EQ(f->op, net::ws::opcode::text);
      EXPECT_EQ(f->payload, std::string(size, static_cast<char>('a' + round)));
    }
  }
}

TEST_F(tls_fixture, bursts_of_server_pushes_arrive_complete) {
  auto n = tls_node([](engine::config& cfg) { cfg.session_limits.messages_per_minute = 1000000; });
  auto sub = wss(*n);
  auto pub = wss(*n);
  sub->send_text(R"({"type":"subscribe","channel":"burst","id":1})");
  ASSERT_TRUE(sub->read_type("subscribed"));
  constexpr int count = 2000;
  for (int i = 0; i < count; ++i) {
    pub->send_text(R"({"type":"publish","channel":"burst","data":)" + std::to_string(i) + "}");
  }
  for (int i = 0; i < count; ++i) {
    auto m = sub->read_type("message");
    ASSERT_TRUE(m) << "message " << i;
    ASSERT_EQ(json_raw(*m, "data"), std::to_string(i));
  }
}

TEST_F(tls_fixture, close_handshake_over_tls) {
  auto n = tls_node();
  auto c = wss(*n);
  c->send_frame(net::ws::opcode::close, std::string("\x03\xe8", 2));
  EXPECT_EQ(c->wait_closed(), 1000);
  EXPECT_TRUE(wait_until(2s, [&] { return n->node().server().connections() == 0; }));
}

TEST_F(tls_fixture, plain_http_on_the_tls_port_is_dropped) {
  auto n = tls_node();
  auto before = n->stats().rejected_count(rejection::bad_upgrade);
  auto plain = ws_client::connect(n->port(), {}, 2s);
  EXPECT_FALSE(plain->open());
  EXPECT_NE(plain->answer().status, 101);
  EXPECT_TRUE(wait_until(
    2s, [&] { return n->stats().rejected_count(rejection::bad_upgrade) == before + 1; }));
  EXPECT_TRUE(wss(*n)->handshake_ok()) << "the node keeps serving TLS clients";
}

TEST_F(tls_fixture, stalled_tls_handshake_is_dropped) {
  auto n = tls_node([](engine::config& cfg) { cfg.connection_limits.handshake_timeout_ms = 300; });
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(n->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 3000), 1) << "the server must drop a silent TLS peer";
  char c;
  EXPECT_LE(::recv(fd, &c, 1, 0), 0);
  ::close(fd);
  EXPECT_TRUE(
    wait_until(2s, [&] { return n->stats().rejected_count(rejection::handshake_timeout) == 1; }));
  // An upgraded wss connection outlives the handshake timeout.
  auto ws = wss(*n);
  EXPECT_FALSE(ws->wait_closed(600ms));
  ws->send_text(R"({"type":"ping","id":1})");
  EXPECT_TRUE(ws->read_type("pong"));
}

/// Start-up with `tweak` throws a message naming `option`, and the node is left safe to
/// destroy.
void expect_start_throws(const std::function<void(engine::config&)>& tweak,
                         const std::string& option) {
  auto cfg = test_config();
  tweak(cfg);
  engine::node n{cfg};
  try {
    n.start();
    ADD_FAILURE() << "start() did not throw; expected a message naming " << option;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find(option), std::string::npos) << e.what();
  }
}

TEST_F(tls_fixture, bad_files_stop_start_up_naming_the_option) {
  expect_start_throws(
    [](engine::config& cfg) {
      cfg.tls.cert_file = "/nonexistent/cert.pem";
      cfg.tls.key_file = cert_->key_file;
    },
    "tls.cert_file");
  expect_start_throws(
    [](engine::config& cfg) {
      cfg.tls.cert_file = cert_->cert_file;
      cfg.tls.key_file = dir_->write("garbage-key.pem", "not a key");
    },
    "tls.key_file");
  auto other = make_self_signed(*dir_, "other");
  expect_start_throws(
    [&](engine::config& cfg) {
      cfg.tls.cert_file = cert_->cert_file;
      cfg.tls.key_file = other.key_file;
    },
    "tls.key_file");
  expect_start_throws(
    [](engine::config& cfg) { cfg.auth.jwt_public_key_file = "/nonexistent/key.pem"; },
    "auth.jwt_public_key_file");
}

TEST_F(tls_fixture, tokens_over_wss) {
  const std::string secret = "tls-secret-0123456789abcdef0123456789abcdef";
  auto n = tls_node([&](engine::config& cfg) {
    cfg.auth.anonymous = false;
    cfg.auth.jwt_secret = secret;
  });
  auto refused = tls_client::connect(n->port(), cert_->cert_file);
  EXPECT_FALSE(refused->upgrade("/ws"));
  EXPECT_EQ(refused->answer().status, 401);
  auto c = tls_client::connect(n->port(), cert_->cert_file);
  ASSERT_TRUE(
    c->upgrade("/ws", {{"Authorization", "Bearer " + mint("HS256", secret, claims("alice"))}}));
  auto welcome = c->read_type("welcome");
  ASSERT_TRUE(welcome);
  EXPECT_EQ(json_string(*welcome, "user"), "alice");
}

} // namespace
} // namespace plexus::test
