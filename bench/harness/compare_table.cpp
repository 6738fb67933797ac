#include "bench/harness/compare_table.hpp"

#include <cstdio>
#include <cstdlib>

namespace plexus::bench {

namespace {

/// Parses one flat JSON object of string and number values; false when it is not one.
bool parse_flat(const std::string& line, result& r) {
  std::size_t i = line.find('{');
  if (i == std::string::npos) {
    return false;
  }
  ++i;
  auto skip = [&] {
    while (i < line.size() && (line[i] == ' ' || line[i] == ',')) {
      ++i;
    }
  };
  auto read_string = [&](std::string& out) {
    if (i >= line.size() || line[i] != '"') {
      return false;
    }
    ++i;
    while (i < line.size() && line[i] != '"') {
      if (line[i] == '\\' && i + 1 < line.size()) {
        ++i;
      }
      out += line[i++];
    }
    ++i;
    return true;
  };
  while (true) {
    skip();
    if (i >= line.size() || line[i] == '}') {
      return true;
    }
    std::string key;
    if (!read_string(key) || i >= line.size() || line[i] != ':') {
      return false;
    }
    ++i;
    if (i < line.size() && line[i] == '"') {
      std::string v;
      read_string(v);
      if (key == "scenario") {
        r.scenario = v;
      } else if (key == "label") {
        r.label = v;
      } else {
        r.add_text(key, v);
      }
    } else {
      char* end = nullptr;
      double v = std::strtod(line.c_str() + i, &end);
      if (end == line.c_str() + i) {
        // null or garbage: skip to the next comma
        while (i < line.size() && line[i] != ',' && line[i] != '}') {
          ++i;
        }
        continue;
      }
      i = static_cast<std::size_t>(end - line.c_str());
      r.add(key, v);
    }
  }
}

} // namespace

std::vector<result> read_json_lines(std::istream& in) {
  std::vector<result> out;
  std::string line;
  while (std::getline(in, line)) {
    result r;
    if (parse_flat(line, r) && !r.scenario.empty()) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

std::string compare_table(const std::vector<result>& rs) {
  const result* base = nullptr;
  for (const auto& r : rs) {
    if (r.label.rfind("plexus", 0) == 0) {
      base = &r;
      break;
    }
  }
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%-14s %12s %8s %8s %8s %8s %9s %12s %8s %8s %8s\n", "server",
                "deliv/s", "ratio", "p50 ms", "p99 ms", "max ms", "srv cpu%", "deliv/cpu-s",
                "x plexus", "x p99", "gen cpu%");
  out += buf;
  out += std::string(112, '-') + "\n";
  for (const auto& r : rs) {
    auto rate = r.get("deliveries_per_s");
    auto per_cpu = r.get("deliveries_per_server_cpu_s");
    auto p99 = r.get("p99_ms");
    std::string vs = "-";
    std::string vs_p99 = "-";
    if (base != nullptr && base != &r) {
      auto b = base->get("deliveries_per_s");
      if (rate > 0) {
        std::snprintf(buf, sizeof(buf), "%.2f", b / rate);
        vs = buf;
      }
      if (base->get("p99_ms") > 0) {
        std::snprintf(buf, sizeof(buf), "%.1f", p99 / base->get("p99_ms"));
        vs_p99 = buf;
      }
    }
    std::snprintf(
      buf, sizeof(buf), "%-14s %12.0f %8.4f %8.2f %8.2f %8.1f %9.0f %12.0f %8s %8s %8.0f\n",
      r.label.c_str(), rate, r.get("delivery_ratio"), r.get("p50_ms"), p99, r.get("max_ms"),
      r.get("server_cpu_pct"), per_cpu, vs.c_str(), vs_p99.c_str(), r.get("generator_cpu_pct"));
    out += buf;
  }
  out
    += "\nx plexus = plexus deliveries/s divided by the peer's (how many times faster plexus is);\n"
       "x p99 = the peer's p99 divided by plexus's. ratio = delivered / expected.\n";
  return out;
}

} // namespace plexus::bench
