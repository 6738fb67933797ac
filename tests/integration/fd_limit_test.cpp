// Issue 13 (high 1): a node out of file descriptors. A real `plexus` process under a low
// RLIMIT_NOFILE (prlimit) gets more idle TCP connections than it has descriptors. It must
// not spin on the failing accept: its CPU time stays near zero, it logs a few lines, it
// answers the connections it cannot take with a 503 at once and counts them as
// plexus_rejected_total{reason="fd_limit"}, and once the connections are closed it serves
// /healthz again by itself.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tests/support/process.hpp"
#include "tests/support/ws_client.hpp"

namespace plexus::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr int fd_limit = 128;

/// utime + stime of `pid` in seconds (/proc/<pid>/stat fields 14 and 15).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')'); // the command name may hold spaces
  if (close == std::string::npos) {
    return -1;
  }
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  uint64_t utime = 0;
  uint64_t stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) { // field 3 (state) comes first
    if (i == 14) {
      utime = std::stoull(f);
    } else if (i == 15) {
      stime = std::stoull(f);
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

int open_fds(pid_t pid) {
  int n = 0;
  auto path = "/proc/" + std::to_string(pid) + "/fd";
  if (DIR* d = ::opendir(path.c_str())) {
    while (auto* e = ::readdir(d)) {
      n += e->d_name[0] != '.';
    }
    ::closedir(d);
  }
  return n;
}

int tcp_connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// What the server sent on `fd` before closing it, or nullopt when it neither sent
/// anything nor closed within `timeout` (an accepted, idle connection).
std::optional<std::string> answer_within(int fd, std::chrono::milliseconds timeout) {
  std::string got;
  auto deadline = clock_type::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      return std::nullopt;
    }
    char buf[512];
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      return got;
    }
    got.append(buf, static_cast<std::size_t>(n));
  }
}

std::size_t count_lines(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    n += line.find(needle) != std::string::npos;
  }
  return n;
}

double metric(uint16_t port, const std::string& series) {
  auto r = http_request(port, "GET", "/metrics");
  std::istringstream in(r.body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, series.size() + 1, series + " ") == 0) {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

TEST(fd_limit, node_out_of_descriptors_refuses_idles_and_recovers) {
  auto port = free_port();
  auto dir = temp_dir("plexus-fdlimit");
  auto log = dir + "/plexus.log";
  process node("/usr/bin/prlimit",
               {"--nofile=" + std::to_string(fd_limit) + ":" + std::to_string(fd_limit),
                std::string(PLEXUS_BINARY_DIR) + "/engine/plexus", "--node.name", "fdnode",
                "--node.listen", "127.0.0.1:" + std::to_string(port), "--node.io_threads", "1",
                "--node.actor_threads", "2", "--auth.anonymous", "true",
                "--limits.handshake_timeout_ms", "120000",
                "--limits.connections_per_ip_per_second", "100000"},
               log);
  ASSERT_TRUE(wait_until(10s, [&] {
    return !node.running() || http_request(port, "GET", "/healthz").status == 200;
  })) << node.log_tail();
  ASSERT_TRUE(node.running()) << node.log_tail();

  // More idle connections than the node has descriptors left: the first ones are accepted
  // and wait for a request (handshake timeout 2 minutes), the rest find it out of them.
  auto spare = fd_limit - open_fds(node.pid());
  ASSERT_GT(spare, 0);
  std::vector<int> idle;
  for (int i = 0; i < spare + 40; ++i) {
    int fd = tcp_connect(port);
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  // The ones past the limit get a 503 and a close, at once.
  std::size_t refused = 0;
  for (auto it = idle.rbegin(); it != idle.rbegin() + 20; ++it) {
    auto a = answer_within(*it, 3s);
    ASSERT_TRUE(a) << "a connection past the limit must be answered, not left hanging\n"
                   << node.log_tail();
    EXPECT_EQ(a->compare(0, 12, "HTTP/1.1 503"), 0) << *a;
    ++refused;
  }

  // While it stays at the limit, new connections keep being refused and the node stays
  // idle. Each probe waits for its answer (an event), 25 probes over ~2.5 s.
  auto cpu_before = cpu_seconds(node.pid());
  auto t0 = clock_type::now();
  for (int i = 0; i < 25; ++i) {
    int fd = tcp_connect(port);
    ASSERT_GE(fd, 0);
    auto a = answer_within(fd, 3s);
    ::close(fd);
    ASSERT_TRUE(a) << "probe " << i << " got no answer\n" << node.log_tail();
    EXPECT_EQ(a->compare(0, 12, "HTTP/1.1 503"), 0) << *a;
    ++refused;
    // An accepted idle connection is kept, not shed: it has no answer (this also spreads
    // the probes over seconds at the limit).
    EXPECT_FALSE(answer_within(idle.front(), 100ms));
  }
  auto wall = std::chrono::duration<double>(clock_type::now() - t0).count();
  auto cpu = cpu_seconds(node.pid()) - cpu_before;
  std::cout << "[ measured ] at the descriptor limit: " << cpu << " s of CPU in " << wall
            << " s of wall time\n";
  EXPECT_GT(wall, 2.0);
  EXPECT_LT(cpu, 0.3) << "the node spins at the descriptor limit\n" << node.log_tail();

  // Descriptors free up: the node serves again by itself.
  for (int fd : idle) {
    ::close(fd);
  }
  EXPECT_TRUE(wait_until(10s, [&] { return http_request(port, "GET", "/healthz").status == 200; }))
    << node.log_tail();
  EXPECT_GE(metric(port, "plexus_rejected_total{reason=\"fd_limit\"}"),
            static_cast<double>(refused));
  EXPECT_TRUE(wait_until(5s, [&] { return count_lines(log, "accepting again") == 1; }))
    << node.log_tail();
  // One report when it started, at most one per 5 s after that, one when it recovered.
  auto reports = count_lines(log, "file descriptors");
  EXPECT_GE(reports, 2u);
  EXPECT_LE(reports, 4u) << node.log_tail();
  std::ifstream in(log, std::ios::ate);
  EXPECT_LT(static_cast<long>(in.tellg()), 64 * 1024) << "the log must not flood";
  node.signal(SIGTERM);
  EXPECT_TRUE(node.wait_exit(10s)) << node.log_tail();
}

} // namespace
} // namespace plexus::test
