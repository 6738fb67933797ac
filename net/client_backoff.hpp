#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace plexus::net {

/// How the client retries after a connection drops or an attempt fails.
enum class reconnect_strategy : uint8_t {
  /// Exponential backoff with full jitter: attempt n waits a uniformly random time in
  /// [0, min(cap, base * 2^n)). Spreads a crowd of clients whose node died at once.
  exponential,
  /// Never reconnect: a dropped connection ends in `closed`.
  none,
};

/// Reconnect settings (the seed document's `reconnect_strategy = "exponential"`).
struct backoff_settings {
  reconnect_strategy strategy = reconnect_strategy::exponential;
  /// Ceiling of the first retry's delay: 500 ms brings a client back quickly after a
  /// blip without hammering a node that is restarting.
  std::chrono::milliseconds base{500};
  /// Largest delay: 30 s bounds how stale a client gets while a node is down for long.
  std::chrono::milliseconds cap{30000};
  /// Failed attempts in a row before giving up (state `closed`); 0 = never give up, which
  /// suits a long-running service whose node will come back.
  uint32_t max_attempts = 0;
};

/// "" when `s` is usable, else a message naming the bad field and its allowed range.
std::string validate(const backoff_settings& s);

/// min(cap, base * 2^attempt) without overflow; `attempt` counts from 0.
std::chrono::milliseconds backoff_ceiling(const backoff_settings& s, uint32_t attempt);

/// The delay before retry number `attempt` (from 0) with full jitter: `unit` is a uniform
/// random number in [0, 1) the caller draws (values outside are clamped), so this function
/// is pure and testable. Result: floor(unit * backoff_ceiling(s, attempt)), which lies in
/// [0, ceiling) and never exceeds `cap`.
std::chrono::milliseconds backoff_delay(const backoff_settings& s, uint32_t attempt, double unit);

/// Whether attempt number `attempt` (from 0) may still be made under `s`.
bool may_retry(const backoff_settings& s, uint32_t attempt);

} // namespace plexus::net
