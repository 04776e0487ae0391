// Units: byte sizes and durations as people write them in lifeboat.toml and on the command
// line ("512MiB", "7d", "1d12h"), and as Lifeboat shows them back ("1.5 GiB", "1h02m").
//
// Byte sizes: a decimal number (fraction allowed, "1.5GiB"), optional spaces, then a unit,
// case-insensitive: B, KB/MB/GB/TB/PB/EB (powers of 1000) or KiB/MiB/GiB/TiB/PiB/EiB (powers
// of 1024). A bare number is bytes. Single letters ("512M") are refused because they are read
// both ways by other tools; the error says which to write. Fractions round to the nearest byte.
//
// Durations: one or more <number><unit> parts ("1d12h", "1.5h", "2w 3d"), units w (7 days),
// d, h, m (minutes), s, ms, us, ns; upper-case letters are accepted except "M", which would
// be read as months by some and minutes by others. A bare "0" is zero; any other number needs
// a unit. Months and years are not units: their length varies.
//
// Thread-safety: pure functions. Errors: InvalidArgument naming the text, what is wrong, and
// an example of what is accepted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lifeboat/status.h"

namespace lifeboat {

constexpr uint64_t kKiB = uint64_t{1} << 10;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kTiB = uint64_t{1} << 40;

constexpr int64_t kNanosPerMinute = int64_t{60} * 1'000'000'000;
constexpr int64_t kNanosPerHour = 60 * kNanosPerMinute;
constexpr int64_t kNanosPerDay = 24 * kNanosPerHour;

// "512MiB" -> 536870912, "10MB" -> 10000000, "4096" -> 4096, "1.5GiB" -> 1610612736.
Result<uint64_t> ParseByteSize(std::string_view text);

// "7d", "12h", "30m", "45s", "2w", "1d12h" -> nanoseconds (never negative).
Result<int64_t> ParseDuration(std::string_view text);

// Binary units with at most one decimal: "512 B", "1 KiB", "1.5 GiB", "3.2 TiB".
std::string FormatBytes(uint64_t bytes);

// Short, truncated (never rounded up) forms: "850ns", "12us", "45ms", "3.2s", "45s",
// "5m07s", "1h02m", "3d04h"; negative durations get a leading '-'.
std::string FormatDuration(int64_t nanos);

}  // namespace lifeboat
