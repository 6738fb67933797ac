#pragma once

#include <array>
#include <cstdint>
#include <limits>

namespace plexus::bench {

/// Log-linear latency histogram in nanoseconds: exact below 64 ns, then 64 sub-buckets per
/// power of two (about 1.5 % resolution) up to 2^41 ns (~36 min). Fixed size, no allocation
/// when recording, and merged by adding buckets, so each load thread keeps its own.
class latency_histogram {
public:
  /// Records one value (negative values count as 0).
  void record(int64_t ns);
  /// Adds every value of `other`.
  void merge(const latency_histogram& other);
  /// Forgets everything.
  void reset();

  /// The value at quantile `q` in [0, 1] (upper edge of its bucket), 0 when empty.
  int64_t quantile(double q) const;
  uint64_t count() const {
    return count_;
  }
  int64_t max() const {
    return count_ == 0 ? 0 : max_;
  }
  int64_t min() const {
    return count_ == 0 ? 0 : min_;
  }
  double mean() const {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
  }

private:
  static constexpr int sub_bits = 6;
  static constexpr int sub_count = 1 << sub_bits;
  static constexpr int max_exp = 41;
  static constexpr int bucket_count = sub_count + (max_exp - sub_bits) * sub_count;

  static int index_of(uint64_t v);
  static int64_t upper_edge(int index);

  std::array<uint64_t, bucket_count> buckets_{};
  uint64_t count_ = 0;
  int64_t max_ = 0;
  int64_t min_ = std::numeric_limits<int64_t>::max();
  uint64_t sum_ = 0; // ns; 2^64 ns is 584 years of samples
};

} // namespace plexus::bench
