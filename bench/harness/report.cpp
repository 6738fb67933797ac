#include "bench/harness/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace plexus::bench {

double result::get(const std::string& key, double fallback) const {
  for (const auto& f : fields) {
    if (f.key == key && f.text.empty()) {
      return f.num;
    }
  }
  return fallback;
}

namespace {

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) {
    return "null";
  }
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.10g", v);
  }
  return buf;
}

} // namespace

std::string format_number(double v) {
  if (!std::isfinite(v)) {
    return "-";
  }
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else if (std::fabs(v) >= 1000) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else if (std::fabs(v) >= 1) {
    std::snprintf(buf, sizeof(buf), "%.3g", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.3f", v);
  }
  return buf;
}

std::string to_json(const result& r) {
  std::string out = "{\"scenario\":\"" + json_escape(r.scenario) + "\",\"label\":\""
                    + json_escape(r.label) + "\"";
  for (const auto& f : r.fields) {
    out += ",\"" + json_escape(f.key) + "\":";
    out += f.text.empty() ? json_number(f.num) : "\"" + json_escape(f.text) + "\"";
  }
  out += "}";
  return out;
}

std::string to_table(const std::vector<result>& rs) {
  // Keys in first-seen order over all results.
  std::vector<std::string> keys;
  for (const auto& r : rs) {
    for (const auto& f : r.fields) {
      if (std::find(keys.begin(), keys.end(), f.key) == keys.end()) {
        keys.push_back(f.key);
      }
    }
  }
  std::vector<std::vector<std::string>> cols;
  std::size_t key_w = 6;
  for (const auto& k : keys) {
    key_w = std::max(key_w, k.size());
  }
  std::vector<std::size_t> widths;
  for (const auto& r : rs) {
    std::vector<std::string> col;
    col.push_back(r.label.empty() ? r.scenario : r.scenario + " " + r.label);
    for (const auto& k : keys) {
      std::string cell = "";
      for (const auto& f : r.fields) {
        if (f.key == k) {
          cell = f.text.empty() ? format_number(f.num) : f.text;
          break;
        }
      }
      col.push_back(cell);
    }
    std::size_t w = 0;
    for (const auto& c : col) {
      w = std::max(w, c.size());
    }
    widths.push_back(w);
    cols.push_back(std::move(col));
  }
  std::string out;
  auto line = [&](std::size_t row, const std::string& name) {
    char buf[256];
    std::snprintf(buf, sizeof(buf), "%-*s", static_cast<int>(key_w), name.c_str());
    out += buf;
    for (std::size_t c = 0; c < cols.size(); ++c) {
      std::snprintf(buf, sizeof(buf), "  %*s", static_cast<int>(widths[c]), cols[c][row].c_str());
      out += buf;
    }
    out += '\n';
  };
  line(0, "metric");
  std::size_t total = key_w;
  for (auto w : widths) {
    total += w + 2;
  }
  out += std::string(total, '-') + '\n';
  for (std::size_t i = 0; i < keys.size(); ++i) {
    line(i + 1, keys[i]);
  }
  return out;
}

void progress_line::show(const std::string& text) {
  if (!enabled_) {
    return;
  }
  std::string pad = last_len_ > text.size() ? std::string(last_len_ - text.size(), ' ') : "";
  std::fprintf(stderr, "\r%s%s", text.c_str(), pad.c_str());
  std::fflush(stderr);
  last_len_ = text.size();
}

void progress_line::finish() {
  if (enabled_ && last_len_ > 0) {
    std::fprintf(stderr, "\n");
    last_len_ = 0;
  }
}

} // namespace plexus::bench
