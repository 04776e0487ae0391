#include "base/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

namespace lifeboat {
namespace {

class RealClock : public Clock {
 public:
  int64_t NowUnixNanos() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t MonotonicNanos() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void SleepForNanos(int64_t nanos) override {
    std::this_thread::sleep_for(std::chrono::nanoseconds(nanos));
  }
};

}  // namespace

Clock* Clock::Real() {
  static RealClock clock;
  return &clock;
}

std::string FormatRfc3339(int64_t unix_nanos) {
  time_t secs = static_cast<time_t>(unix_nanos / kNanosPerSecond);
  if (unix_nanos < 0 && unix_nanos % kNanosPerSecond != 0) --secs;
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string FormatRfc3339Nanos(int64_t unix_nanos) {
  std::string text = FormatRfc3339(unix_nanos);
  int64_t fraction = unix_nanos % kNanosPerSecond;
  if (fraction < 0) fraction += kNanosPerSecond;
  if (fraction == 0) return text;
  char buf[16];
  std::snprintf(buf, sizeof(buf), ".%09lld", static_cast<long long>(fraction));
  text.insert(text.size() - 1, buf);
  return text;
}

bool ParseRfc3339(const std::string& text, int64_t* unix_nanos) {
  // Exactly "YYYY-MM-DDTHH:MM:SS", then optional ".digits", then "Z".
  static constexpr char kShape[] = "dddd-dd-ddTdd:dd:dd";
  constexpr size_t kSeconds = sizeof(kShape) - 1;
  if (text.size() < kSeconds + 1) return false;
  for (size_t i = 0; i < kSeconds; ++i) {
    bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) return false;
  }
  struct tm tm {};
  std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
              &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
  size_t pos = kSeconds;
  int64_t frac = 0;
  if (text[pos] == '.') {
    int64_t scale = 100'000'000;
    size_t digits = 0;
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
      frac += (text[pos] - '0') * scale;
      scale /= 10;
    }
    if (digits == 0) return false;
  }
  if (pos + 1 != text.size() || text[pos] != 'Z') return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t secs = timegm(&tm);
  // Out-of-range fields (month 13, February 30) roll over in timegm: refuse them.
  if (FormatRfc3339(static_cast<int64_t>(secs) * kNanosPerSecond)
          .compare(0, kSeconds, text, 0, kSeconds) != 0) {
    return false;
  }
  *unix_nanos = static_cast<int64_t>(secs) * kNanosPerSecond + frac;
  return true;
}

}  // namespace lifeboat
