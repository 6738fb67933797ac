#pragma once

#include <functional>
#include <memory>

#include "engine/config.hpp"
#include "engine/node.hpp"
#include "tests/support/ws_client.hpp"

namespace plexus::test {

/// The config integration tests start from: loopback, port 0, anonymous clients, two
/// threads each, echo endpoint on, an api key, and a `room` namespace with presence and
/// history.
engine::config test_config();

/// A node started in this process on a free port, stopped on destruction.
class test_node {
public:
  explicit test_node(const std::function<void(engine::config&)>& tweak = {});
  ~test_node();

  uint16_t port() const {
    return port_;
  }
  engine::node& node() {
    return *node_;
  }
  actors::metrics& stats() {
    return node_->stats();
  }

  /// Connects a client to /ws (or `req.path`), reads `welcome` when the upgrade works.
  std::unique_ptr<ws_client> connect(ws_request req = {});
  /// The welcome frame of the last connect().
  std::string last_welcome;

  static constexpr const char* api_key = "test-api-key";

private:
  std::unique_ptr<engine::node> node_;
  uint16_t port_ = 0;
};

} // namespace plexus::test
