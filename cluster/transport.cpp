#include "cluster/transport.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <stdexcept>
#include <unordered_map>

#include <caf/logger.hpp>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

namespace plexus::cluster {

namespace {

// A member's whole backlog while it is unreachable is bounded by this. Messages to a peer
// whose connection is still being made are queued, not dropped (no ZMQ_IMMEDIATE): a node
// that just came up must get the replies to its first requests. A peer that goes down has
// its socket, and so its backlog, discarded (`forget`).
constexpr int peer_hwm = 50000;
// Inbound: what a burst from all peers may queue before the router drains it.
constexpr int inbound_hwm = 200000;
// Anything larger is a broken or hostile peer (a snapshot of a 10,000-message history of
// 4 KiB payloads is 40 MiB).
constexpr int64_t max_message_bytes = int64_t{64} << 20;
// Messages taken from the ROUTER per wake-up before queued sends get their turn.
constexpr int receive_batch = 512;

std::string tcp(const std::string& host_port) {
  return "tcp://" + host_port;
}

} // namespace

struct transport::command {
  enum class kind : uint8_t { send, forget, connect } what = kind::send;
  std::vector<std::string> endpoints;
  std::string bytes;
  uint64_t tag = 0;
};

struct transport::impl {
  zmq::context_t ctx{1};
  zmq::socket_t router{ctx, zmq::socket_type::router};
  std::unordered_map<std::string, zmq::socket_t> dealers;
  std::chrono::steady_clock::time_point last_drop_log{};
};

transport::transport(std::string node_name)
  : node_name_(std::move(node_name)), impl_(std::make_unique<impl>()) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    throw std::runtime_error("cluster: eventfd failed");
  }
}

transport::~transport() {
  stop();
  ::close(wake_fd_);
}

void transport::bind(const std::string& host_port) {
  try {
    auto& r = impl_->router;
    r.set(zmq::sockopt::linger, 0);
    // A restarted peer connects again under the same routing id before the old pipe is
    // gone: the new connection takes the id over instead of being refused.
    r.set(zmq::sockopt::router_handover, 1);
    r.set(zmq::sockopt::rcvhwm, inbound_hwm);
    r.set(zmq::sockopt::maxmsgsize, max_message_bytes);
    r.bind(tcp(host_port));
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cluster.bind: cannot bind " + host_port + ": " + e.what());
  }
}

void transport::start(receive_fn on_receive, drop_fn on_drop) {
  on_receive_ = std::move(on_receive);
  on_drop_ = std::move(on_drop);
  thread_ = std::thread([this] { run(); });
}

void transport::stop(std::chrono::milliseconds linger) {
  if (stopping_.exchange(true)) {
    return;
  }
  linger_ = linger;
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) {
    thread_.join();
  }
  try {
    impl_->router.close();
    impl_->ctx.shutdown();
  } catch (const zmq::error_t&) {
    // closing twice is harmless
  }
}

void transport::post(command c) {
  {
    std::lock_guard<std::mutex> guard{mu_};
    queue_.push_back(std::move(c));
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
}

void transport::send(std::vector<std::string> endpoints, std::string bytes) {
  if (!endpoints.empty()) {
    post(command{command::kind::send, std::move(endpoints), std::move(bytes), 0});
  }
}

void transport::send(const std::string& endpoint, std::string bytes, uint64_t tag) {
  post(command{command::kind::send, {endpoint}, std::move(bytes), tag});
}

void transport::forget(const std::string& endpoint) {
  post(command{command::kind::forget, {endpoint}, {}, 0});
}

void transport::connect(const std::string& endpoint) {
  post(command{command::kind::connect, {endpoint}, {}, 0});
}

void transport::run() {
  auto& d = *impl_;
  auto dealer = [&](const std::string& ep) -> zmq::socket_t* {
    auto i = d.dealers.find(ep);
    if (i != d.dealers.end()) {
      return &i->second;
    }
    try {
      zmq::socket_t s{d.ctx, zmq::socket_type::dealer};
      s.set(zmq::sockopt::linger, 0);
      s.set(zmq::sockopt::sndhwm, peer_hwm);
      s.set(zmq::sockopt::reconnect_ivl, 100);
      s.set(zmq::sockopt::reconnect_ivl_max, 500);
      s.set(zmq::sockopt::routing_id, node_name_);
      s.connect(tcp(ep));
      return &d.dealers.emplace(ep, std::move(s)).first->second;
    } catch (const zmq::error_t& e) {
      spdlog::warn("[{}] cluster: cannot connect to {}: {}", node_name_, ep, e.what());
      return nullptr;
    }
  };
  auto dropped = [&](const std::string& ep) {
    stats_.dropped.fetch_add(1, std::memory_order_relaxed);
    auto now = std::chrono::steady_clock::now();
    if (now - d.last_drop_log > std::chrono::seconds(5)) { // one line per burst
      d.last_drop_log = now;
      spdlog::debug("[{}] cluster: dropped a message to {} (not connected or queue full)",
                    node_name_, ep);
    }
  };
  zmq::pollitem_t items[2]
    = {{d.router.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, wake_fd_, ZMQ_POLLIN, 0}};
  std::vector<command> work;
  while (true) {
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(-1));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) {
        spdlog::error("[{}] cluster: poll failed: {}", node_name_, e.what());
      }
      continue;
    }
    if (items[1].revents & ZMQ_POLLIN) {
      uint64_t n = 0;
      [[maybe_unused]] auto r = ::read(wake_fd_, &n, sizeof(n));
      {
        std::lock_guard<std::mutex> guard{mu_};
        work.swap(queue_);
      }
      for (auto& c : work) {
        if (c.what == command::kind::forget) {
          d.dealers.erase(c.endpoints.front());
          continue;
        }
        if (c.what == command::kind::connect) {
          dealer(c.endpoints.front());
          continue;
        }
        for (const auto& ep : c.endpoints) {
          auto* s = dealer(ep);
          bool ok = false;
          if (s != nullptr) {
            try {
              ok = s->send(zmq::buffer(c.bytes), zmq::send_flags::dontwait).has_value();
            } catch (const zmq::error_t&) {
              ok = false;
            }
          }
          if (ok) {
            stats_.sent.fetch_add(1, std::memory_order_relaxed);
          } else {
            dropped(ep);
            if (c.tag != 0 && on_drop_) {
              on_drop_(c.tag);
            }
          }
        }
      }
      work.clear();
      if (stopping_.load()) {
        break;
      }
    }
    if (items[0].revents & ZMQ_POLLIN) {
      for (int i = 0; i < receive_batch; ++i) {
        zmq::message_t identity;
        zmq::message_t body;
        try {
          if (!d.router.recv(identity, zmq::recv_flags::dontwait)) {
            break;
          }
          if (!identity.more() || !d.router.recv(body, zmq::recv_flags::dontwait)) {
            continue;
          }
          bool extra = false;
          while (body.more()) { // more frames than a DEALER of ours sends: drop it all
            extra = true;
            if (!d.router.recv(body, zmq::recv_flags::dontwait)) {
              break;
            }
          }
          if (extra) {
            on_receive_(std::string{}); // counted and logged as garbage by the decoder
            continue;
          }
        } catch (const zmq::error_t& e) {
          spdlog::warn("[{}] cluster: receive failed: {}", node_name_, e.what());
          break;
        }
        stats_.received.fetch_add(1, std::memory_order_relaxed);
        on_receive_(body.to_string());
      }
    }
  }
  // Let the last messages (the leave announcement) out, then close.
  for (auto& kv : d.dealers) {
    try {
      kv.second.set(zmq::sockopt::linger, static_cast<int>(linger_.count()));
      kv.second.close();
    } catch (const zmq::error_t&) {
      // already closed
    }
  }
  d.dealers.clear();
  on_receive_ = nullptr; // drops the router handle it captured
  on_drop_ = nullptr;
  // on_receive used caf::anon_send from this thread (engine/node.hpp explains why).
  caf::logger::set_current_actor_system(nullptr);
}

} // namespace plexus::cluster
