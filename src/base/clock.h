// Clock: where the engine gets the time. Wall time for records (snapshot times, lease
// expiries, the restore window) and a monotonic time for rates and ETAs.
//
// The engine never calls std::chrono clocks directly, so tests can move time (ManualClock)
// to prove lease expiry and restore-window rules without sleeping.
// Thread-safety: implementations are safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace lifeboat {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since the Unix epoch (UTC).
  virtual int64_t NowUnixNanos() = 0;
  // Nanoseconds from an arbitrary origin; never goes backwards.
  virtual int64_t MonotonicNanos() = 0;
  virtual void SleepForNanos(int64_t nanos) = 0;

  // The process-wide real clock.
  static Clock* Real();
};

// A clock that moves only when told; sleeping advances it.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t unix_nanos) : now_(unix_nanos) {}
  int64_t NowUnixNanos() override { return now_.load(); }
  int64_t MonotonicNanos() override { return now_.load(); }
  void SleepForNanos(int64_t nanos) override { now_ += nanos; }
  void Advance(int64_t nanos) { now_ += nanos; }

 private:
  std::atomic<int64_t> now_;
};

constexpr int64_t kNanosPerSecond = 1'000'000'000;

// "2026-11-22T10:04:05Z" (UTC, second precision), as stored in manifests and logs.
std::string FormatRfc3339(int64_t unix_nanos);
// The same with nanoseconds when the sub-second part is not zero:
// "2026-11-22T10:04:05.250000000Z" (leases and log events, FORMAT.md §11-§12).
std::string FormatRfc3339Nanos(int64_t unix_nanos);
// Parses the format above (also with fractional seconds); returns false on malformed input.
bool ParseRfc3339(const std::string& text, int64_t* unix_nanos);

}  // namespace lifeboat
