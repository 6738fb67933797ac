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

int wait_for_signal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
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
    auto sig = wait_for_signal(signals);
    spdlog::info("[{}] received {}, shutting down", node.name(),
                 sig == SIGTERM ? "SIGTERM" : "SIGINT");
    node.stop(std::chrono::seconds(5));
  } catch (const std::exception& e) {
    spdlog::critical("plexus: {}", e.what());
    return 1;
  }
  return 0;
}
