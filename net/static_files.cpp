#include "net/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace plexus::net {

namespace fs = std::filesystem;

std::string content_type_for(const std::string& name) {
  auto ext = fs::path{name}.extension().string();
  if (ext == ".html") {
    return "text/html; charset=utf-8";
  }
  if (ext == ".js" || ext == ".mjs") {
    return "text/javascript; charset=utf-8";
  }
  if (ext == ".css") {
    return "text/css; charset=utf-8";
  }
  if (ext == ".json") {
    return "application/json";
  }
  if (ext == ".svg") {
    return "image/svg+xml";
  }
  if (ext == ".png") {
    return "image/png";
  }
  if (ext == ".ico") {
    return "image/x-icon";
  }
  return "application/octet-stream";
}

std::optional<http_response> serve_static(const std::string& dir, const std::string& path) {
  if (dir.empty() || path.empty() || path.front() != '/'
      || path.find("..") != std::string::npos || path.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  std::error_code ec;
  auto root = fs::canonical(dir, ec);
  if (ec) {
    return std::nullopt;
  }
  auto rel = path == "/" ? std::string{"index.html"} : path.substr(1);
  auto file = fs::weakly_canonical(root / rel, ec);
  if (ec || file.string().compare(0, root.string().size(), root.string()) != 0
      || !fs::is_regular_file(file, ec)) {
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream body;
  body << in.rdbuf();
  http_response r;
  r.content_type = content_type_for(file.filename().string());
  r.body = body.str();
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

} // namespace plexus::net
