#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace plexus::test::conformance {

/// A `Vm*` field of /proc/<pid>/status in KiB (VmRSS: resident now, VmHWM: peak resident);
/// -1 when unreadable. pid 0 = this process.
int64_t memory_kb(const std::string& field, pid_t pid = 0);

/// Resets VmHWM to the current RSS (writes 5 to /proc/<pid>/clear_refs, Linux >= 4.0), so
/// the next VmHWM is the peak from now on. False when the kernel refuses.
bool reset_peak_rss(pid_t pid = 0);

} // namespace plexus::test::conformance
