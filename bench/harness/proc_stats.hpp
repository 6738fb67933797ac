#pragma once

#include <cstdint>
#include <vector>

namespace plexus::bench {

/// One reading of a process's resource use from /proc.
struct proc_sample {
  bool ok = false;
  double cpu_s = 0;   // utime + stime
  int64_t rss_kb = 0; // VmRSS
  int64_t fds = 0;    // entries of /proc/<pid>/fd
  int64_t threads = 0;
};

/// Reads /proc/<pid>/stat, status and fd of one process.
proc_sample sample_process(int pid);

/// The server processes given with --server-pid (several for nginx workers or a cluster),
/// summed. Disabled (all zero) when none were given.
class server_probe {
public:
  explicit server_probe(std::vector<int> pids) : pids_(std::move(pids)) {
  }
  bool enabled() const {
    return !pids_.empty();
  }
  proc_sample sample() const;

private:
  std::vector<int> pids_;
};

/// CPU seconds this process (the load generator) used so far.
double self_cpu_s();

} // namespace plexus::bench
