#include "base/units.h"

#include <array>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <limits>

namespace lifeboat {
namespace {

__extension__ typedef unsigned __int128 Uint128;

// Fraction digits beyond this are dropped: 10^18 times the largest unit (2^60) still fits in
// 128 bits, and no unit is fine enough for the 19th digit to matter.
constexpr int kMaxFractionDigits = 18;
// The integer part stops accumulating above this and is reported as too large.
constexpr Uint128 kIntegerCap = Uint128{1} << 100;

struct Unit {
  std::string_view name;  // lower case
  uint64_t multiplier;
};

constexpr std::array<Unit, 13> kByteUnits = {{
    {"b", 1},
    {"kb", 1'000},
    {"mb", 1'000'000},
    {"gb", 1'000'000'000},
    {"tb", 1'000'000'000'000},
    {"pb", 1'000'000'000'000'000},
    {"eb", 1'000'000'000'000'000'000},
    {"kib", uint64_t{1} << 10},
    {"mib", uint64_t{1} << 20},
    {"gib", uint64_t{1} << 30},
    {"tib", uint64_t{1} << 40},
    {"pib", uint64_t{1} << 50},
    {"eib", uint64_t{1} << 60},
}};

constexpr std::array<Unit, 9> kDurationUnits = {{
    {"ns", 1},
    {"us", 1'000},
    {"\xc2\xb5s", 1'000},  // "µs"
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
    {"d", 86'400'000'000'000},
    {"w", 604'800'000'000'000},
}};

constexpr char kByteSizeExample[] = "such as \"512MiB\", \"10GB\" or \"4096\"";
constexpr char kDurationExample[] = "such as \"7d\", \"12h\", \"30m\" or \"1d12h\"";

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsSpace(char c) {
  return c == ' ' || c == '\t';
}
// Letters, and the bytes of a UTF-8 "µ".
bool IsUnitChar(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || (static_cast<unsigned char>(c) >= 0x80);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A decimal number "12", "1.5", ".5" read from the front of `*in`.
struct Number {
  Uint128 integer = 0;
  Uint128 fraction = 0;        // the fraction digits as an integer
  Uint128 fraction_scale = 1;  // 10^(number of fraction digits kept)
  bool too_large = false;
};

// Returns false if `*in` does not start with a number.
bool ConsumeNumber(std::string_view* in, Number* number) {
  size_t i = 0;
  bool any_digit = false;
  for (; i < in->size() && IsDigit((*in)[i]); ++i) {
    any_digit = true;
    if (number->integer < kIntegerCap) {
      number->integer = number->integer * 10 + static_cast<unsigned>((*in)[i] - '0');
    } else {
      number->too_large = true;
    }
  }
  if (i < in->size() && (*in)[i] == '.') {
    size_t j = i + 1;
    int kept = 0;
    for (; j < in->size() && IsDigit((*in)[j]); ++j) {
      any_digit = true;
      if (kept < kMaxFractionDigits) {
        number->fraction = number->fraction * 10 + static_cast<unsigned>((*in)[j] - '0');
        number->fraction_scale *= 10;
        ++kept;
      }
    }
    i = j;
  }
  if (!any_digit) return false;
  in->remove_prefix(i);
  return true;
}

// number * multiplier, with the fraction rounded to the nearest whole unit of 1.
Uint128 Scale(const Number& number, uint64_t multiplier) {
  Uint128 whole = number.integer * multiplier;
  Uint128 part = (number.fraction * multiplier + number.fraction_scale / 2) / number.fraction_scale;
  return whole + part;
}

std::string_view ConsumeUnit(std::string_view* in) {
  size_t i = 0;
  while (i < in->size() && IsUnitChar((*in)[i])) ++i;
  std::string_view unit = in->substr(0, i);
  in->remove_prefix(i);
  return unit;
}

const Unit* FindUnit(const Unit* begin, const Unit* end, std::string_view lower_name) {
  for (const Unit* u = begin; u != end; ++u) {
    if (u->name == lower_name) return u;
  }
  return nullptr;
}

std::string Quote(std::string_view text) {
  return "'" + std::string(text) + "'";
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text) {
  const std::string subject = "byte size " + Quote(text);
  std::string_view in = Trim(text);
  if (in.empty()) {
    return InvalidArgumentError("byte size is empty: write a number and a unit, " +
                                std::string(kByteSizeExample));
  }
  if (in.front() == '-') {
    return InvalidArgumentError(subject + " is negative: write a size " + kByteSizeExample);
  }
  Number number;
  if (!ConsumeNumber(&in, &number)) {
    return InvalidArgumentError(subject + " does not start with a number: write a size " +
                                kByteSizeExample);
  }
  while (!in.empty() && IsSpace(in.front())) in.remove_prefix(1);
  std::string_view unit_text = ConsumeUnit(&in);
  while (!in.empty() && IsSpace(in.front())) in.remove_prefix(1);
  if (!in.empty()) {
    return InvalidArgumentError(subject + ": unexpected " + Quote(in) +
                                " after the unit: write one size " + kByteSizeExample);
  }
  uint64_t multiplier = 1;
  if (!unit_text.empty()) {
    std::string unit = Lower(unit_text);
    if (unit.size() == 1 && std::string_view("kmgtpe").find(unit[0]) != std::string_view::npos) {
      std::string upper(1, static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0]))));
      return InvalidArgumentError(subject + ": unit " + Quote(unit_text) + " is ambiguous: write " +
                                  Quote(upper + "iB") + " (powers of 1024) or " +
                                  Quote(upper + "B") + " (powers of 1000), such as \"512MiB\"");
    }
    const Unit* found = FindUnit(kByteUnits.data(), kByteUnits.data() + kByteUnits.size(), unit);
    if (found == nullptr) {
      return InvalidArgumentError(subject + ": unknown unit " + Quote(unit_text) +
                                  " (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB), " +
                                  kByteSizeExample);
    }
    multiplier = found->multiplier;
  }
  if (multiplier == 1 && number.fraction != 0) {
    return InvalidArgumentError(subject + " is not a whole number of bytes: write a whole " +
                                "number, or use a larger unit " + kByteSizeExample);
  }
  Uint128 bytes = Scale(number, multiplier);
  if (number.too_large || bytes > std::numeric_limits<uint64_t>::max()) {
    return InvalidArgumentError(subject + " is too large (the largest is 16 EiB)");
  }
  return static_cast<uint64_t>(bytes);
}

Result<int64_t> ParseDuration(std::string_view text) {
  const std::string subject = "duration " + Quote(text);
  std::string_view in = Trim(text);
  if (in.empty()) {
    return InvalidArgumentError("duration is empty: write a number and a unit, " +
                                std::string(kDurationExample));
  }
  if (in == "0") return int64_t{0};
  if (in.front() == '-') {
    return InvalidArgumentError(subject + " is negative: write a duration " + kDurationExample);
  }
  Uint128 total = 0;
  bool too_large = false;
  while (!in.empty()) {
    std::string_view part_start = in;
    Number number;
    if (!ConsumeNumber(&in, &number)) {
      return InvalidArgumentError(subject + ": expected a number at " + Quote(part_start) + ", " +
                                  kDurationExample);
    }
    std::string_view number_text = part_start.substr(0, part_start.size() - in.size());
    while (!in.empty() && IsSpace(in.front())) in.remove_prefix(1);
    std::string_view unit_text = ConsumeUnit(&in);
    if (unit_text.empty()) {
      std::string n(number_text);
      return InvalidArgumentError(subject + ": " + Quote(n) + " has no unit: write it as \"" + n +
                                  "d\", \"" + n + "h\", \"" + n + "m\" or \"" + n + "s\"");
    }
    if (unit_text == "M") {
      return InvalidArgumentError(subject + ": unit 'M' is ambiguous: write 'm' for minutes, " +
                                  "or days such as \"30d\" for about a month");
    }
    const Unit* found = FindUnit(kDurationUnits.data(),
                                 kDurationUnits.data() + kDurationUnits.size(), Lower(unit_text));
    if (found == nullptr) {
      return InvalidArgumentError(subject + ": unknown unit " + Quote(unit_text) +
                                  " (use w, d, h, m, s, ms, us or ns), " + kDurationExample);
    }
    too_large = too_large || number.too_large;
    total += Scale(number, found->multiplier);
    if (total > static_cast<Uint128>(std::numeric_limits<int64_t>::max())) too_large = true;
    if (too_large) break;
    while (!in.empty() && IsSpace(in.front())) in.remove_prefix(1);
  }
  if (too_large) {
    return InvalidArgumentError(subject + " is too large (the longest is about 292 years)");
  }
  return static_cast<int64_t>(total);
}

std::string FormatBytes(uint64_t bytes) {
  char buf[64];
  if (bytes < kKiB) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 " B", bytes);
    return buf;
  }
  static constexpr std::array<const char*, 6> kNames = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  size_t k = 0;  // index into kNames; the unit is 1024^(k+1)
  while (k + 1 < kNames.size() && bytes >= (uint64_t{1} << (10 * (k + 2)))) ++k;
  auto tenths_in = [bytes](size_t unit_index) {
    Uint128 unit = Uint128{1} << (10 * (unit_index + 1));
    return static_cast<uint64_t>((Uint128{bytes} * 10 + unit / 2) / unit);
  };
  uint64_t tenths = tenths_in(k);
  if (tenths >= 10240 && k + 1 < kNames.size()) tenths = tenths_in(++k);
  if (tenths % 10 == 0) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 " %s", tenths / 10, kNames[k]);
  } else {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 ".%" PRIu64 " %s", tenths / 10, tenths % 10,
                  kNames[k]);
  }
  return buf;
}

std::string FormatDuration(int64_t nanos) {
  const bool negative = nanos < 0;
  // Magnitude without overflow for INT64_MIN.
  const uint64_t n =
      negative ? uint64_t{0} - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
  constexpr uint64_t kSecond = 1'000'000'000;
  constexpr uint64_t kMinute = 60 * kSecond;
  constexpr uint64_t kHour = 60 * kMinute;
  constexpr uint64_t kDay = 24 * kHour;
  char buf[64];
  if (n < 1'000) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "ns", n);
  } else if (n < 1'000'000) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "us", n / 1'000);
  } else if (n < kSecond) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "ms", n / 1'000'000);
  } else if (n < 10 * kSecond) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 ".%" PRIu64 "s", n / kSecond,
                  n % kSecond / 100'000'000);
  } else if (n < kMinute) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "s", n / kSecond);
  } else if (n < kHour) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "m%02" PRIu64 "s", n / kMinute,
                  n % kMinute / kSecond);
  } else if (n < kDay) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "h%02" PRIu64 "m", n / kHour, n % kHour / kMinute);
  } else {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "d%02" PRIu64 "h", n / kDay, n % kDay / kHour);
  }
  return negative ? "-" + std::string(buf) : std::string(buf);
}

}  // namespace lifeboat
