#include "actors/placement.hpp"

#include <algorithm>

namespace plexus::actors {

namespace {

/// FNV-1a: tiny, stable and good enough before the finalizer below.
uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// MurmurHash3's 64-bit finalizer: spreads FNV's weak low bits over the whole word, so
/// nodes whose names differ in one character still get unrelated weights.
uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

} // namespace

uint64_t hrw_weight(std::string_view channel, std::string_view node) {
  auto h = fnv1a(0xcbf29ce484222325ULL, channel);
  h = fnv1a(h ^ 0xff, node); // separator: ("ab","c") and ("a","bc") must differ
  return fmix64(h);
}

std::vector<std::string> placement::order(std::string_view channel) const {
  std::vector<std::pair<uint64_t, const std::string*>> ranked;
  ranked.reserve(owners.size());
  for (const auto& n : owners) {
    ranked.emplace_back(hrw_weight(channel, n), &n);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  });
  std::vector<std::string> out;
  out.reserve(ranked.size());
  for (const auto& r : ranked) {
    out.push_back(*r.second);
  }
  return out;
}

bool placement::is_alive(std::string_view node) const {
  return std::binary_search(alive.begin(), alive.end(), node);
}

bool placement::is_owner_eligible(std::string_view node) const {
  return std::binary_search(owners.begin(), owners.end(), node);
}

} // namespace plexus::actors
