#include "base/units.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

namespace lifeboat {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kSecond = 1'000'000'000;

uint64_t Bytes(std::string_view text) {
  Result<uint64_t> r = ParseByteSize(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : 0;
}

int64_t Nanos(std::string_view text) {
  Result<int64_t> r = ParseDuration(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : -1;
}

std::string ByteError(std::string_view text) {
  Result<uint64_t> r = ParseByteSize(text);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? *r : 0);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

std::string DurationError(std::string_view text) {
  Result<int64_t> r = ParseDuration(text);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? *r : 0);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ParseByteSizeTest, ReadsBinaryAndDecimalUnits) {
  EXPECT_EQ(Bytes("512MiB"), 512 * kMiB);
  EXPECT_EQ(Bytes("1GiB"), kGiB);
  EXPECT_EQ(Bytes("10MB"), 10'000'000u);
  EXPECT_EQ(Bytes("1KB"), 1000u);
  EXPECT_EQ(Bytes("1KiB"), 1024u);
  EXPECT_EQ(Bytes("2TiB"), 2 * kTiB);
  EXPECT_EQ(Bytes("3TB"), 3'000'000'000'000u);
  EXPECT_EQ(Bytes("1PiB"), uint64_t{1} << 50);
  EXPECT_EQ(Bytes("1EiB"), uint64_t{1} << 60);
}

TEST(ParseByteSizeTest, BareNumberIsBytes) {
  EXPECT_EQ(Bytes("4096"), 4096u);
  EXPECT_EQ(Bytes("0"), 0u);
  EXPECT_EQ(Bytes("17B"), 17u);
}

TEST(ParseByteSizeTest, UnitsAreCaseInsensitive) {
  EXPECT_EQ(Bytes("512mib"), 512 * kMiB);
  EXPECT_EQ(Bytes("512MIB"), 512 * kMiB);
  EXPECT_EQ(Bytes("10mb"), 10'000'000u);
  EXPECT_EQ(Bytes("7b"), 7u);
}

TEST(ParseByteSizeTest, AcceptsFractionsAndSpaces) {
  EXPECT_EQ(Bytes("1.5GiB"), kGiB + kGiB / 2);
  EXPECT_EQ(Bytes("0.5KiB"), 512u);
  EXPECT_EQ(Bytes(".5KiB"), 512u);
  EXPECT_EQ(Bytes("1.1KiB"), 1126u);  // 1126.4 rounds to the nearest byte
  EXPECT_EQ(Bytes("2.5 MB"), 2'500'000u);
  EXPECT_EQ(Bytes("  64 KiB  "), 64 * kKiB);
}

TEST(ParseByteSizeTest, LargestValueFitsAndOneMoreIsRefused) {
  EXPECT_EQ(Bytes("18446744073709551615"), std::numeric_limits<uint64_t>::max());
  EXPECT_THAT(ByteError("18446744073709551616"), HasSubstr("too large"));
  EXPECT_THAT(ByteError("16EiB"), HasSubstr("too large (the largest is 16 EiB)"));
  EXPECT_THAT(ByteError("99999999999999999999999999999999999TiB"), HasSubstr("too large"));
}

TEST(ParseByteSizeTest, ErrorsNameTheTextAndGiveAnExample) {
  EXPECT_EQ(ByteError("lots"),
            "byte size 'lots' does not start with a number: write a size such as \"512MiB\", "
            "\"10GB\" or \"4096\"");
  EXPECT_EQ(ByteError("12QB"),
            "byte size '12QB': unknown unit 'QB' (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB), "
            "such as \"512MiB\", \"10GB\" or \"4096\"");
  EXPECT_THAT(ByteError(""), HasSubstr("byte size is empty"));
  EXPECT_THAT(ByteError("-5MiB"), HasSubstr("byte size '-5MiB' is negative"));
  EXPECT_THAT(ByteError("5MiB 3"), HasSubstr("unexpected '3'"));
  EXPECT_THAT(ByteError("1.5B"), HasSubstr("not a whole number of bytes"));
  EXPECT_THAT(ByteError("1.5"), HasSubstr("not a whole number of bytes"));
  EXPECT_THAT(ByteError("5 M iB"), HasSubstr("unexpected"));
}

TEST(ParseByteSizeTest, SingleLetterUnitIsAmbiguous) {
  EXPECT_EQ(ByteError("512M"),
            "byte size '512M': unit 'M' is ambiguous: write 'MiB' (powers of 1024) or 'MB' "
            "(powers of 1000), such as \"512MiB\"");
  EXPECT_THAT(ByteError("4g"), HasSubstr("write 'GiB'"));
}

TEST(ParseDurationTest, ReadsEachUnit) {
  EXPECT_EQ(Nanos("7d"), 7 * kNanosPerDay);
  EXPECT_EQ(Nanos("12h"), 12 * kNanosPerHour);
  EXPECT_EQ(Nanos("30m"), 30 * kNanosPerMinute);
  EXPECT_EQ(Nanos("45s"), 45 * kSecond);
  EXPECT_EQ(Nanos("2w"), 14 * kNanosPerDay);
  EXPECT_EQ(Nanos("250ms"), 250'000'000);
  EXPECT_EQ(Nanos("15us"), 15'000);
  EXPECT_EQ(Nanos("15\xc2\xb5s"), 15'000);
  EXPECT_EQ(Nanos("9ns"), 9);
}

TEST(ParseDurationTest, CombinesPartsAndFractions) {
  EXPECT_EQ(Nanos("1d12h"), kNanosPerDay + 12 * kNanosPerHour);
  EXPECT_EQ(Nanos("1h30m15s"), kNanosPerHour + 30 * kNanosPerMinute + 15 * kSecond);
  EXPECT_EQ(Nanos("2w 3d"), 17 * kNanosPerDay);
  EXPECT_EQ(Nanos("1.5h"), 90 * kNanosPerMinute);
  EXPECT_EQ(Nanos(" 0.25s "), kSecond / 4);
}

TEST(ParseDurationTest, ZeroNeedsNoUnitAndUpperCaseIsAccepted) {
  EXPECT_EQ(Nanos("0"), 0);
  EXPECT_EQ(Nanos("0s"), 0);
  EXPECT_EQ(Nanos("7D"), 7 * kNanosPerDay);
  EXPECT_EQ(Nanos("12H"), 12 * kNanosPerHour);
  EXPECT_EQ(Nanos("100MS"), 100'000'000);
}

TEST(ParseDurationTest, ErrorsNameTheTextAndGiveAnExample) {
  EXPECT_EQ(DurationError("7"),
            "duration '7': '7' has no unit: write it as \"7d\", \"7h\", \"7m\" or \"7s\"");
  EXPECT_EQ(DurationError("3y"),
            "duration '3y': unknown unit 'y' (use w, d, h, m, s, ms, us or ns), such as \"7d\", "
            "\"12h\", \"30m\" or \"1d12h\"");
  EXPECT_EQ(DurationError("1M"),
            "duration '1M': unit 'M' is ambiguous: write 'm' for minutes, or days such as "
            "\"30d\" for about a month");
  EXPECT_THAT(DurationError(""), HasSubstr("duration is empty"));
  EXPECT_THAT(DurationError("-1d"), HasSubstr("duration '-1d' is negative"));
  EXPECT_THAT(DurationError("1d12"), HasSubstr("'12' has no unit"));
  EXPECT_THAT(DurationError("soon"), HasSubstr("expected a number at 'soon'"));
  EXPECT_THAT(DurationError("1d,2h"), HasSubstr("expected a number at ',2h'"));
  EXPECT_THAT(DurationError("1 month"), HasSubstr("unknown unit 'month'"));
}

TEST(ParseDurationTest, RefusesDurationsBeyondInt64) {
  EXPECT_EQ(Nanos("15000w"), 15000 * 7 * kNanosPerDay);
  EXPECT_THAT(DurationError("16000w"), HasSubstr("too large"));
  EXPECT_THAT(DurationError("300000000000000000000000000000d"), HasSubstr("too large"));
  EXPECT_THAT(DurationError("15000w15000w"), HasSubstr("too large"));
}

TEST(FormatBytesTest, ShowsBytesBelowOneKiB) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
}

TEST(FormatBytesTest, ShowsOneDecimalInBinaryUnits) {
  EXPECT_EQ(FormatBytes(1024), "1 KiB");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(kGiB + kGiB / 2), "1.5 GiB");
  EXPECT_EQ(FormatBytes(512 * kMiB), "512 MiB");
  EXPECT_EQ(FormatBytes(3 * kTiB + kTiB / 5), "3.2 TiB");
  EXPECT_EQ(FormatBytes(std::numeric_limits<uint64_t>::max()), "16 EiB");
}

TEST(FormatBytesTest, RoundingUpMovesToTheNextUnit) {
  EXPECT_EQ(FormatBytes(kMiB - 1), "1 MiB");
  EXPECT_EQ(FormatBytes(kMiB - 60), "1023.9 KiB");
}

TEST(FormatDurationTest, PicksTheUnitBySize) {
  EXPECT_EQ(FormatDuration(850), "850ns");
  EXPECT_EQ(FormatDuration(12'345), "12us");
  EXPECT_EQ(FormatDuration(45'600'000), "45ms");
  EXPECT_EQ(FormatDuration(3'250'000'000), "3.2s");
  EXPECT_EQ(FormatDuration(kSecond), "1.0s");
  EXPECT_EQ(FormatDuration(45 * kSecond), "45s");
  EXPECT_EQ(FormatDuration(5 * kNanosPerMinute + 7 * kSecond), "5m07s");
  EXPECT_EQ(FormatDuration(kNanosPerHour + 2 * kNanosPerMinute + 59 * kSecond), "1h02m");
  EXPECT_EQ(FormatDuration(3 * kNanosPerDay + 4 * kNanosPerHour), "3d04h");
  EXPECT_EQ(FormatDuration(0), "0ns");
}

TEST(FormatDurationTest, NegativeDurationsGetAMinus) {
  EXPECT_EQ(FormatDuration(-45 * kSecond), "-45s");
  EXPECT_EQ(FormatDuration(std::numeric_limits<int64_t>::min()), "-106751d23h");
}

TEST(FormatDurationTest, ParsesBackWhatItFormats) {
  for (std::string_view text : {"45ms", "45s", "5m07s", "1h02m", "3d04h"}) {
    EXPECT_EQ(FormatDuration(Nanos(text)), text);
  }
}

}  // namespace
}  // namespace lifeboat
