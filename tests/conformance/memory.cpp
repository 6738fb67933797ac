#include "tests/conformance/memory.hpp"

#include <fstream>
#include <sstream>

namespace plexus::test::conformance {

namespace {

std::string proc_path(pid_t pid, const char* file) {
  return pid == 0 ? std::string{"/proc/self/"} + file : "/proc/" + std::to_string(pid) + "/" + file;
}

} // namespace

int64_t memory_kb(const std::string& field, pid_t pid) {
  std::ifstream in(proc_path(pid, "status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size()
        && line[field.size()] == ':') {
      std::istringstream s(line.substr(field.size() + 1));
      int64_t kb = -1;
      s >> kb;
      return kb;
    }
  }
  return -1;
}

bool reset_peak_rss(pid_t pid) {
  std::ofstream out(proc_path(pid, "clear_refs"));
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

} // namespace plexus::test::conformance
