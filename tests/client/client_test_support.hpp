#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/client.hpp"

namespace plexus::test {

using namespace std::chrono_literals;

/// Records every event a client reports, and lets a test wait (bounded) for a condition
/// over them.
class recorder {
public:
  net::client_handlers handlers();

  /// Waits until `pred()` (evaluated under the lock) holds, at most `timeout`.
  bool wait(std::chrono::milliseconds timeout, const std::function<bool()>& pred);

  /// Counts of events of a kind, and whether a state was ever reported.
  bool saw_state(net::client_state s);

  std::mutex mu;
  std::vector<net::client_state> states;
  std::vector<net::welcome_event> welcomes;
  std::vector<net::message_event> messages;
  std::vector<net::presence_event> presences;
  std::vector<net::presence_diff_event> diffs;
  std::vector<net::subscribed_event> subscribed;
  std::vector<net::subscribed_event> resyncs;
  std::vector<net::error_event> errors;
  std::vector<net::disconnect_info> disconnects;

private:
  template <class T>
  std::function<void(const T&)> push(std::vector<T>& into) {
    return [this, &into](const T& x) {
      {
        std::lock_guard<std::mutex> lock(mu);
        into.push_back(x);
      }
      cv_.notify_all();
    };
  }

  std::condition_variable cv_;
};

/// A free TCP port on 127.0.0.1 right now (bound, read, released), for tests that must
/// restart a node on the same port.
uint16_t free_port();

/// Client options for a node on 127.0.0.1:`port` with fast reconnects for tests.
net::client_options local_options(uint16_t port, net::wire_format f = net::wire_format::json);

/// Waits for a future at most `timeout`; true when it is ready.
template <class T>
bool ready(std::future<T>& f, std::chrono::milliseconds timeout = 5s) {
  return f.wait_for(timeout) == std::future_status::ready;
}

/// A scripted stand-in for a node: accepts WebSocket upgrades on 127.0.0.1, answers each
/// with 101 (`plexus.json`) and then `on_open(send)`, where `send` writes a text frame.
/// Everything the client sends is read and ignored. For behaviour a real node cannot be
/// made to show on demand: silence, `reconnect` frames.
class fake_node {
public:
  using sender = std::function<void(const std::string& text)>;
  explicit fake_node(std::function<void(const sender&)> on_open);
  ~fake_node();

  uint16_t port() const {
    return port_;
  }
  /// Upgrades served so far.
  int upgrades() const {
    return upgrades_.load();
  }

private:
  void serve(int fd);

  std::function<void(const sender&)> on_open_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> upgrades_{0};
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> conns_;
};

} // namespace plexus::test
