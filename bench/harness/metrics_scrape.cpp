#include "bench/harness/metrics_scrape.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace plexus::bench {

std::optional<metric_map> scrape_metrics(const ws_url& node) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(node.port);
  auto host = node.host == "localhost" ? std::string("127.0.0.1") : node.host;
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return std::nullopt;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::nullopt;
  }
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::string body;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string req
      = "GET /metrics HTTP/1.1\r\nHost: " + node.authority() + "\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[16384];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof(buf))) > 0) {
        body.append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  ::close(fd);
  if (body.compare(0, 12, "HTTP/1.1 200") != 0) {
    return std::nullopt;
  }
  auto start = body.find("\r\n\r\n");
  // Chunked or not, sample lines are "name value": anything else (chunk sizes, comments)
  // does not parse as one and is skipped.
  std::istringstream in(body.substr(start == std::string::npos ? 0 : start + 4));
  metric_map out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    auto sp = line.rfind(' ');
    if (sp == std::string::npos || sp == 0) {
      continue;
    }
    char* end = nullptr;
    double v = std::strtod(line.c_str() + sp + 1, &end);
    if (end == line.c_str() + sp + 1) {
      continue;
    }
    out[line.substr(0, sp)] = v;
  }
  return out;
}

double metric_delta(const metric_map& before, const metric_map& after, const std::string& name) {
  auto a = before.find(name);
  auto b = after.find(name);
  if (a == before.end() || b == after.end()) {
    return 0;
  }
  return b->second - a->second;
}

} // namespace plexus::bench
