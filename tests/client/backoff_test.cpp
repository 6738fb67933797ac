// Reconnect backoff: exponential ceiling, full jitter, bounds, attempt limits.
#include <gtest/gtest.h>

#include <random>

#include "net/client_backoff.hpp"

namespace plexus::net {
namespace {

using namespace std::chrono_literals;

backoff_settings settings(std::chrono::milliseconds base, std::chrono::milliseconds cap,
                          uint32_t max_attempts = 0) {
  backoff_settings s;
  s.base = base;
  s.cap = cap;
  s.max_attempts = max_attempts;
  return s;
}

TEST(backoff, ceiling_doubles_from_base_up_to_cap) {
  auto s = settings(100ms, 3000ms);
  EXPECT_EQ(backoff_ceiling(s, 0), 100ms);
  EXPECT_EQ(backoff_ceiling(s, 1), 200ms);
  EXPECT_EQ(backoff_ceiling(s, 2), 400ms);
  EXPECT_EQ(backoff_ceiling(s, 4), 1600ms);
  EXPECT_EQ(backoff_ceiling(s, 5), 3000ms);
  EXPECT_EQ(backoff_ceiling(s, 6), 3000ms);
}

TEST(backoff, huge_attempt_numbers_stay_at_cap_without_overflow) {
  auto s = settings(1ms, std::chrono::milliseconds(INT64_MAX / 2));
  EXPECT_EQ(backoff_ceiling(s, 4000000000u), s.cap);
  auto t = settings(500ms, 30s);
  EXPECT_EQ(backoff_ceiling(t, 63), 30s);
  EXPECT_EQ(backoff_ceiling(t, 64), 30s);
  EXPECT_EQ(backoff_ceiling(t, UINT32_MAX), 30s);
}

TEST(backoff, full_jitter_spans_zero_to_ceiling) {
  auto s = settings(100ms, 3000ms);
  EXPECT_EQ(backoff_delay(s, 0, 0.0), 0ms);
  EXPECT_EQ(backoff_delay(s, 0, 0.5), 50ms);
  EXPECT_EQ(backoff_delay(s, 3, 0.25), 200ms);
  // Just below 1: strictly below the ceiling.
  EXPECT_EQ(backoff_delay(s, 0, 0.999999), 99ms);
  EXPECT_EQ(backoff_delay(s, 10, 0.9999999999), 2999ms);
}

TEST(backoff, random_units_outside_zero_one_are_clamped) {
  auto s = settings(100ms, 3000ms);
  EXPECT_EQ(backoff_delay(s, 0, -1.0), 0ms);
  EXPECT_EQ(backoff_delay(s, 0, 1.0), 99ms);
  EXPECT_EQ(backoff_delay(s, 0, 7.0), 99ms);
  EXPECT_EQ(backoff_delay(s, 0, std::nan("")), 0ms);
  EXPECT_EQ(backoff_delay(s, 0, std::numeric_limits<double>::infinity()), 99ms);
}

TEST(backoff, random_delays_stay_within_bounds_and_spread) {
  auto s = settings(50ms, 2000ms);
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (uint32_t attempt = 0; attempt < 40; ++attempt) {
    auto ceiling = backoff_ceiling(s, attempt);
    ASSERT_LE(ceiling, s.cap);
    std::chrono::milliseconds lo = ceiling, hi{0};
    for (int i = 0; i < 500; ++i) {
      auto d = backoff_delay(s, attempt, unit(rng));
      ASSERT_GE(d, 0ms);
      ASSERT_LT(d, ceiling);
      ASSERT_LE(d, s.cap);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // Full jitter: 500 draws cover most of [0, ceiling).
    EXPECT_LT(lo.count(), ceiling.count() / 10 + 1) << "attempt " << attempt;
    EXPECT_GT(hi.count(), ceiling.count() * 9 / 10 - 1) << "attempt " << attempt;
  }
}

TEST(backoff, max_attempts_limits_retries) {
  auto forever = settings(10ms, 100ms, 0);
  EXPECT_TRUE(may_retry(forever, 0));
  EXPECT_TRUE(may_retry(forever, 1000000));
  auto three = settings(10ms, 100ms, 3);
  EXPECT_TRUE(may_retry(three, 0));
  EXPECT_TRUE(may_retry(three, 2));
  EXPECT_FALSE(may_retry(three, 3));
  backoff_settings none;
  none.strategy = reconnect_strategy::none;
  EXPECT_FALSE(may_retry(none, 0));
}

TEST(backoff, validate_names_the_bad_field) {
  EXPECT_EQ(validate(backoff_settings{}), "");
  EXPECT_NE(validate(settings(0ms, 100ms)).find("reconnect.base"), std::string::npos);
  EXPECT_NE(validate(settings(200ms, 100ms)).find("reconnect.cap"), std::string::npos);
  backoff_settings none = settings(0ms, 0ms);
  none.strategy = reconnect_strategy::none;
  EXPECT_EQ(validate(none), "");
}

TEST(backoff, defaults_are_half_a_second_to_thirty_seconds_forever) {
  backoff_settings d;
  EXPECT_EQ(d.strategy, reconnect_strategy::exponential);
  EXPECT_EQ(d.base, 500ms);
  EXPECT_EQ(d.cap, 30s);
  EXPECT_EQ(d.max_attempts, 0u);
}

} // namespace
} // namespace plexus::net
