#include "tests/support/test_node.hpp"

namespace plexus::test {

engine::config test_config() {
  engine::config cfg;
  cfg.node.name = "test";
  cfg.node.listen = "127.0.0.1:0";
  cfg.node.io_threads = 2;
  cfg.node.actor_threads = 2;
  cfg.auth.anonymous = true;
  cfg.auth.api_key = test_node::api_key;
  cfg.websocket.echo_endpoint = true;
  actors::namespace_settings room;
  room.name = "room";
  cfg.namespaces.push_back(room);
  return cfg;
}

test_node::test_node(const std::function<void(engine::config&)>& tweak) {
  auto cfg = test_config();
  if (tweak) {
    tweak(cfg);
  }
  node_ = std::make_unique<engine::node>(cfg);
  port_ = node_->start();
}

test_node::~test_node() {
  node_->stop(std::chrono::seconds(2));
}

std::unique_ptr<ws_client> test_node::connect(ws_request req) {
  auto c = ws_client::connect(port_, req);
  if (c->open() && req.path == "/ws") {
    // welcome is always the first frame (msgpack for plexus.msgpack clients).
    last_welcome = c->read_message().value_or("");
  }
  return c;
}

} // namespace plexus::test
