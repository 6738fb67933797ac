#include "engine/config_value.hpp"

#include <algorithm>

namespace plexus::engine::config_table {

std::string_view type_name(value_type t) {
  switch (t) {
    case value_type::boolean:
      return "boolean";
    case value_type::integer:
      return "integer";
    case value_type::string:
      return "string";
    case value_type::string_list:
      return "string list";
    case value_type::choice:
      return "choice";
  }
  return "?";
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  out += '"';
  return out;
}

namespace {

template <class Range>
std::string join(const Range& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) {
      out += separator;
    }
    out += item;
  }
  return out;
}

} // namespace

std::string render(const raw_value& v) {
  if (auto b = std::get_if<bool>(&v)) {
    return *b ? "true" : "false";
  }
  if (auto i = std::get_if<int64_t>(&v)) {
    return std::to_string(*i);
  }
  if (auto s = std::get_if<std::string>(&v)) {
    return quote(*s);
  }
  std::vector<std::string> quoted;
  for (const auto& s : std::get<std::vector<std::string>>(v)) {
    quoted.push_back(quote(s));
  }
  return "[" + join(quoted, ", ") + "]";
}

std::string allowed_text(value_type t, int64_t min, int64_t max,
                         const std::vector<std::string_view>& choices, std::string_view allowed) {
  switch (t) {
    case value_type::boolean:
      return "true, false";
    case value_type::integer:
      return std::to_string(min) + ".." + std::to_string(max);
    case value_type::choice:
      return join(choices, ", ");
    case value_type::string:
    case value_type::string_list:
      break;
  }
  return allowed.empty() ? "any" : std::string{allowed};
}

std::string check_value(value_type t, int64_t min, int64_t max,
                        const std::vector<std::string_view>& choices, text_check check,
                        const raw_value& v) {
  switch (t) {
    case value_type::boolean:
      return std::holds_alternative<bool>(v) ? "" : "expected a boolean";
    case value_type::integer: {
      auto i = std::get_if<int64_t>(&v);
      if (!i) {
        return "expected an integer";
      }
      if (*i < min || *i > max) {
        return "out of range, allowed " + std::to_string(min) + ".." + std::to_string(max);
      }
      return {};
    }
    case value_type::choice: {
      auto s = std::get_if<std::string>(&v);
      if (!s) {
        return "expected a string";
      }
      for (auto c : choices) {
        if (*s == c) {
          return {};
        }
      }
      return "not one of " + join(choices, ", ");
    }
    case value_type::string: {
      auto s = std::get_if<std::string>(&v);
      if (!s) {
        return "expected a string";
      }
      return check ? check(*s) : std::string{};
    }
    case value_type::string_list: {
      auto xs = std::get_if<std::vector<std::string>>(&v);
      if (!xs) {
        return "expected a list of strings";
      }
      for (std::size_t i = 0; check && i < xs->size(); ++i) {
        if (auto why = check((*xs)[i]); !why.empty()) {
          return "element " + std::to_string(i + 1) + " (" + quote((*xs)[i]) + "): " + why;
        }
      }
      return {};
    }
  }
  return "unknown value type";
}

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  // Optimal string alignment distance: typos are mostly one insertion, deletion,
  // substitution or swap of neighbours.
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) {
      d[i][0] = i;
    }
    for (std::size_t j = 0; j <= b.size(); ++j) {
      d[0][j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
      for (std::size_t j = 1; j <= b.size(); ++j) {
        std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.size()][b.size()];
  };
  std::string best;
  auto best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    if (auto dist = distance(word, c); dist < best_distance) {
      best = c;
      best_distance = dist;
    }
  }
  // A key written without its unit suffix (`history` for `history_size`).
  for (std::size_t i = 0; best.empty() && word.size() >= 4 && i < candidates.size(); ++i) {
    if (candidates[i].compare(0, word.size(), word) == 0) {
      best = candidates[i];
    }
  }
  return best;
}

} // namespace plexus::engine::config_table
