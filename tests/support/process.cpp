#include "tests/support/process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace plexus::test {

process::process(const std::string& binary, const std::vector<std::string>& args,
                 const std::string& log_path)
  : log_path_(log_path) {
  std::vector<std::string> argv_s;
  argv_s.push_back(binary);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error("cannot open " + log_path);
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fd);
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    // Child: own process group (a test's SIGINT does not reach it), log to the file,
    // signals unblocked (a test thread may have blocked some).
    ::setpgid(0, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fd);
}

process::~process() {
  kill_now();
}

void process::signal(int sig) {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, sig);
  }
}

bool process::running() {
  if (reaped_) {
    return false;
  }
  int status = 0;
  auto r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = status;
    return false;
  }
  return r == 0;
}

std::optional<int> process::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status_)) {
    return WEXITSTATUS(status_);
  }
  if (WIFSIGNALED(status_)) {
    return 128 + WTERMSIG(status_);
  }
  return -1;
}

void process::kill_now() {
  if (reaped_ || pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGCONT); // a stopped process must be able to die
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  reaped_ = true;
  status_ = status;
}

std::string process::log_tail(std::size_t bytes) const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

namespace {

bool port_free(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

} // namespace

uint16_t free_port(int span) {
  // Parallel test processes (ctest -j) each pick ports for nodes they start later, so a
  // bind check alone races: two processes can both see a port free. Each candidate is
  // therefore also reserved with an flock on a file named for it, held (fd left open) for
  // the life of this process, and only then checked by binding it. The window 20000-32000
  // sits below the kernel's ephemeral range, so outgoing connections never take them.
  static std::mutex m;
  static std::mt19937 rng{std::random_device{}()};
  std::lock_guard<std::mutex> guard{m};
  const std::string dir = "/tmp/plexus-test-ports";
  ::mkdir(dir.c_str(), 0777);
  for (int attempt = 0; attempt < 2000; ++attempt) {
    auto base = 20000 + static_cast<int>(rng() % (12000 - static_cast<unsigned>(span)));
    std::vector<int> locks;
    bool ok = true;
    for (int i = 0; i < span && ok; ++i) {
      auto path = dir + "/" + std::to_string(base + i);
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
      ok = fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0;
      if (fd >= 0) {
        locks.push_back(fd);
      }
      ok = ok && port_free(static_cast<uint16_t>(base + i));
    }
    if (ok) {
      return static_cast<uint16_t>(base); // the locks stay held until this process exits
    }
    for (int fd : locks) {
      ::close(fd);
    }
  }
  throw std::runtime_error("no free port found");
}

std::string temp_dir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed for " + tmpl);
  }
  return buf.data();
}

} // namespace plexus::test
