// `plexus`: runs one node until SIGINT or SIGTERM.
#include <csignal>
#include <cstdlib>
#include <pthread.h>

#include <spdlog/spdlog.h>

#include "engine/config_loader.hpp"
#include "engine/node.hpp"

namespace {

/// Blocks SIGINT/SIGTERM in every thread (call before any thread starts), so that only
/// wait_for_signal() receives them.
sigset_t block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

/// The next signal, or 0 after `timeout_ms` without one.
int wait_for_signal(const sigset_t& set, long timeout_ms) {
  timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000};
  int sig = sigtimedwait(&set, nullptr, &ts);
  return sig < 0 ? 0 : sig;
}

} // namespace

int main(int argc, char** argv) {
  auto outcome = plexus::engine::parse_command_line(argc, argv);
  if (outcome.exit_code) {
    return *outcome.exit_code;
  }
  auto& cfg = outcome.cfg;
  spdlog::set_level(spdlog::level::from_str(cfg.node.log_level));
  auto signals = block_signals();
  try {
    plexus::engine::node node{cfg};
    node.start();
    bool draining = false;
    while (true) {
      // Polls so that a drain started over HTTP (POST /v1/drain) also ends the process.
      auto sig = wait_for_signal(signals, 100);
      if (sig == SIGTERM && cfg.cluster.enabled && !draining) {
        // In a cluster, SIGTERM is a rolling restart: hand rooms and clients over first.
        // A second SIGTERM (or SIGINT) stops at once.
        spdlog::info("[{}] received SIGTERM, draining", node.name());
        draining = true;
        node.drain();
        continue;
      }
      if (sig != 0) {
        spdlog::info("[{}] received {}, shutting down", node.name(),
                     sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
      }
      if (node.drained()) {
        break;
      }
    }
    node.stop(std::chrono::seconds(5));
  } catch (const std::exception& e) {
    spdlog::critical("plexus: {}", e.what());
    return 1;
  }
  return 0;
}
