#include "engine/config.hpp"

#include <sched.h>

#include <algorithm>
#include <thread>

#include <unistd.h>

#include "engine/config_loader.hpp"

namespace plexus::engine {

namespace {

/// Cores this process may run on: a node pinned with taskset or a cgroup cpuset should
/// not start more threads than it has cores (they would only preempt each other).
std::size_t usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    return std::max(1, CPU_COUNT(&set));
  }
  // hardware_concurrency() may return 0 when it cannot tell.
  return std::max(1u, std::thread::hardware_concurrency());
}

std::size_t or_cores(std::size_t n) {
  return n != 0 ? n : usable_cores();
}

} // namespace

std::string config::resolved_name() const {
  if (!node.name.empty()) {
    return node.name;
  }
  char buffer[256] = {};
  std::string host = gethostname(buffer, sizeof(buffer) - 1) == 0 && buffer[0] != '\0'
                       ? std::string{buffer}
                       : std::string{"localhost"};
  std::string port;
  if (auto hp = parse_host_port(node.listen)) {
    port = std::to_string(hp->port);
  } else {
    port = node.listen.substr(node.listen.rfind(':') + 1);
  }
  return host + ":" + port;
}

std::size_t config::resolved_io_threads() const {
  return or_cores(node.io_threads);
}

std::size_t config::resolved_actor_threads() const {
  return or_cores(node.actor_threads);
}

} // namespace plexus::engine
