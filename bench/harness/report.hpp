#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace plexus::bench {

/// One named value of a result. Keys carry their unit (`p99_ms`, `deliveries_per_s`), so
/// the JSON needs no schema.
struct field {
  std::string key;
  double num = 0;
  std::string text; // non-empty: a string field
};

/// What one scenario run (or one step of a sweep) measured.
struct result {
  std::string scenario;
  std::string label; // peer, sweep step, ...
  std::vector<field> fields;

  void add(const std::string& key, double v) {
    fields.push_back({key, v, {}});
  }
  void add_text(const std::string& key, const std::string& v) {
    fields.push_back({key, 0, v});
  }
  /// The value of `key`, or `fallback`.
  double get(const std::string& key, double fallback = 0) const;
};

/// One JSON object on one line: {"scenario":..,"label":..,<fields>}.
std::string to_json(const result& r);

/// A readable table: one row per key, one column per result.
std::string to_table(const std::vector<result>& rs);

/// The live progress line on stderr (overwritten in place; a newline on finish()).
class progress_line {
public:
  explicit progress_line(bool enabled) : enabled_(enabled) {
  }
  void show(const std::string& text);
  void finish();

private:
  bool enabled_;
  std::size_t last_len_ = 0;
};

/// "%.3g"-style formatting that keeps integers whole: the table's number format.
std::string format_number(double v);

} // namespace plexus::bench
