#include "bench/harness/latency.hpp"

#include <algorithm>
#include <cmath>

namespace plexus::bench {

int latency_histogram::index_of(uint64_t v) {
  if (v < static_cast<uint64_t>(sub_count)) {
    return static_cast<int>(v);
  }
  int e = 63 - __builtin_clzll(v); // floor(log2 v) >= sub_bits
  if (e >= max_exp) {
    return bucket_count - 1;
  }
  auto top = static_cast<int>(v >> (e - sub_bits)); // in [sub_count, 2 * sub_count)
  return sub_count + (e - sub_bits) * sub_count + (top - sub_count);
}

int64_t latency_histogram::upper_edge(int index) {
  if (index < sub_count) {
    return index;
  }
  int e = (index - sub_count) / sub_count + sub_bits;
  int sub = (index - sub_count) % sub_count;
  auto lower = static_cast<int64_t>(sub_count + sub) << (e - sub_bits);
  return lower + (int64_t{1} << (e - sub_bits)) - 1;
}

void latency_histogram::record(int64_t ns) {
  if (ns < 0) {
    ns = 0;
  }
  ++buckets_[static_cast<std::size_t>(index_of(static_cast<uint64_t>(ns)))];
  ++count_;
  sum_ += static_cast<uint64_t>(ns);
  max_ = std::max(max_, ns);
  min_ = std::min(min_, ns);
}

void latency_histogram::merge(const latency_histogram& other) {
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    buckets_[i] += other.buckets_[i];
  }
  count_ += other.count_;
  sum_ += other.sum_;
  if (other.count_ > 0) {
    max_ = std::max(max_, other.max_);
    min_ = std::min(min_, other.min_);
  }
}

void latency_histogram::reset() {
  *this = latency_histogram{};
}

int64_t latency_histogram::quantile(double q) const {
  if (count_ == 0) {
    return 0;
  }
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (int i = 0; i < bucket_count; ++i) {
    seen += buckets_[static_cast<std::size_t>(i)];
    if (seen >= rank) {
      return std::min(upper_edge(i), max_);
    }
  }
  return max_;
}

} // namespace plexus::bench
