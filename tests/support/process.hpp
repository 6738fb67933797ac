#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace plexus::test {

/// A child process for multi-process tests (real `plexus` nodes). Its stdout and stderr go
/// to `log_path`. The destructor SIGKILLs it if it still runs and always reaps it, so a
/// failing test leaves no stray process behind.
class process {
public:
  /// Starts `binary` with `args`; throws std::runtime_error when fork/exec fails.
  process(const std::string& binary, const std::vector<std::string>& args,
          const std::string& log_path);
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const {
    return pid_;
  }
  const std::string& log_path() const {
    return log_path_;
  }

  /// Sends `sig` (SIGKILL, SIGSTOP, SIGCONT, SIGTERM...) if the process has not been reaped.
  void signal(int sig);
  /// True while it has not exited (reaps it when it has).
  bool running();
  /// Waits up to `timeout` for it to exit (polling, bounded); its exit status, or
  /// nullopt when it still runs. Killed by a signal: 128 + signal.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  /// SIGKILL and reap (no-op when already gone).
  void kill_now();
  /// The last `bytes` of its log, for failure messages.
  std::string log_tail(std::size_t bytes = 4000) const;

private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string log_path_;
};

/// A TCP port on 127.0.0.1 that is free and reserved for this process (an flock under
/// /tmp/plexus-test-ports, so parallel test processes never pick the same). With `span` > 1, the
/// next `span - 1` ports are free too (a cluster ROUTER reserves port + 1).
uint16_t free_port(int span = 1);

/// A fresh directory under the test temp dir.
std::string temp_dir(const std::string& prefix);

} // namespace plexus::test
