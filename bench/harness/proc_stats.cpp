#include "bench/harness/proc_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace plexus::bench {

proc_sample sample_process(int pid) {
  proc_sample s;
  auto base = "/proc/" + std::to_string(pid);
  std::ifstream stat(base + "/stat");
  std::string line;
  if (!std::getline(stat, line)) {
    return s;
  }
  // The command name may hold spaces and parentheses: fields count from the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) {
    return s;
  }
  std::istringstream fields(line.substr(close + 2));
  std::string f;
  long utime = 0;
  long stime = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14) {
      utime = std::atol(f.c_str());
    } else if (i == 15) {
      stime = std::atol(f.c_str());
    } else if (i == 20) {
      s.threads = std::atol(f.c_str());
      break;
    }
  }
  s.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::ifstream status(base + "/status");
  while (std::getline(status, line)) {
    if (line.compare(0, 6, "VmRSS:") == 0) {
      s.rss_kb = std::atol(line.c_str() + 6);
      break;
    }
  }
  if (auto* dir = ::opendir((base + "/fd").c_str())) {
    while (auto* e = ::readdir(dir)) {
      if (e->d_name[0] != '.') {
        ++s.fds;
      }
    }
    ::closedir(dir);
  }
  s.ok = true;
  return s;
}

proc_sample server_probe::sample() const {
  proc_sample sum;
  for (int pid : pids_) {
    auto s = sample_process(pid);
    if (!s.ok) {
      continue;
    }
    sum.ok = true;
    sum.cpu_s += s.cpu_s;
    sum.rss_kb += s.rss_kb;
    sum.fds += s.fds;
    sum.threads += s.threads;
  }
  return sum;
}

double self_cpu_s() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

} // namespace plexus::bench
