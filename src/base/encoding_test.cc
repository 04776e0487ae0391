#include "base/encoding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace lifeboat {
namespace {

std::string Varint(uint64_t v) {
  std::string out;
  PutVarint64(&out, v);
  return out;
}

TEST(VarintTest, RoundTripsBoundaries) {
  for (uint64_t v :
       {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{16383}, uint64_t{16384},
        uint64_t{1} << 32, uint64_t{1} << 63, std::numeric_limits<uint64_t>::max()}) {
    std::string encoded = Varint(v);
    std::string_view in = encoded;
    uint64_t decoded = 0;
    ASSERT_TRUE(GetVarint64(&in, &decoded)) << v;
    EXPECT_EQ(decoded, v);
    EXPECT_TRUE(in.empty()) << v;
  }
}

TEST(VarintTest, EncodedLengths) {
  EXPECT_EQ(Varint(0), std::string(1, '\0'));
  EXPECT_EQ(Varint(127), "\x7f");
  EXPECT_EQ(Varint(128), "\x80\x01");
  EXPECT_EQ(Varint(300), "\xac\x02");
  EXPECT_EQ(Varint(uint64_t{1} << 63).size(), 10u);
  EXPECT_EQ(Varint(std::numeric_limits<uint64_t>::max()),
            "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
}

TEST(VarintTest, ConsumesOnlyItsOwnBytes) {
  std::string encoded = Varint(300) + "rest";
  std::string_view in = encoded;
  uint64_t v = 0;
  ASSERT_TRUE(GetVarint64(&in, &v));
  EXPECT_EQ(v, 300u);
  EXPECT_EQ(in, "rest");
}

TEST(VarintTest, TruncatedVarintFails) {
  std::string full = Varint(std::numeric_limits<uint64_t>::max());
  for (size_t n = 0; n < full.size(); ++n) {
    std::string_view in = std::string_view(full).substr(0, n);
    uint64_t v = 0;
    EXPECT_FALSE(GetVarint64(&in, &v)) << n;
    EXPECT_EQ(in.size(), n) << "input must not be consumed on failure";
  }
}

TEST(VarintTest, TenByteOverflowIsRejected) {
  uint64_t v = 0;
  std::string_view too_big = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02";  // 2^64 and more
  EXPECT_FALSE(GetVarint64(&too_big, &v));
  std::string_view eleven_bytes = "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00";
  EXPECT_FALSE(GetVarint64(&eleven_bytes, &v));
}

TEST(ZigZagTest, MapsSignedValues) {
  EXPECT_EQ(ZigZagEncode(0), 0u);
  EXPECT_EQ(ZigZagEncode(-1), 1u);
  EXPECT_EQ(ZigZagEncode(1), 2u);
  EXPECT_EQ(ZigZagEncode(-2), 3u);
  EXPECT_EQ(ZigZagEncode(std::numeric_limits<int64_t>::max()),
            std::numeric_limits<uint64_t>::max() - 1);
  EXPECT_EQ(ZigZagEncode(std::numeric_limits<int64_t>::min()),
            std::numeric_limits<uint64_t>::max());
}

TEST(ZigZagTest, RoundTrips) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-64}, int64_t{64},
                    std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                    std::numeric_limits<int64_t>::min() + 1}) {
    EXPECT_EQ(ZigZagDecode(ZigZagEncode(v)), v) << v;
  }
}

TEST(FixedTest, LittleEndianLayout) {
  std::string out;
  PutFixed32(&out, 0x01020304);
  EXPECT_EQ(out, "\x04\x03\x02\x01");
  out.clear();
  PutFixed64(&out, 0x0102030405060708);
  EXPECT_EQ(out, "\x08\x07\x06\x05\x04\x03\x02\x01");
}

TEST(FixedTest, RoundTripsAndDecodes) {
  std::string out;
  PutFixed32(&out, 0xdeadbeef);
  PutFixed64(&out, 0xfedcba9876543210);
  PutFixed32(&out, 0);
  EXPECT_EQ(DecodeFixed32(out.data()), 0xdeadbeefu);
  EXPECT_EQ(DecodeFixed64(out.data() + 4), 0xfedcba9876543210u);
  std::string_view in = out;
  uint32_t a = 1;
  uint64_t b = 0;
  uint32_t c = 1;
  ASSERT_TRUE(GetFixed32(&in, &a));
  ASSERT_TRUE(GetFixed64(&in, &b));
  ASSERT_TRUE(GetFixed32(&in, &c));
  EXPECT_EQ(a, 0xdeadbeefu);
  EXPECT_EQ(b, 0xfedcba9876543210u);
  EXPECT_EQ(c, 0u);
  EXPECT_TRUE(in.empty());
}

TEST(FixedTest, TruncatedFails) {
  std::string_view three = "abc";
  uint32_t v32 = 0;
  EXPECT_FALSE(GetFixed32(&three, &v32));
  EXPECT_EQ(three.size(), 3u);
  std::string_view seven = "abcdefg";
  uint64_t v64 = 0;
  EXPECT_FALSE(GetFixed64(&seven, &v64));
  EXPECT_EQ(seven.size(), 7u);
}

TEST(LengthPrefixedTest, RoundTrips) {
  std::string out;
  PutLengthPrefixed(&out, "");
  PutLengthPrefixed(&out, std::string("bin\0ary", 7));
  PutLengthPrefixed(&out, std::string(300, 'x'));
  std::string_view in = out;
  std::string_view v;
  ASSERT_TRUE(GetLengthPrefixed(&in, &v));
  EXPECT_EQ(v, "");
  ASSERT_TRUE(GetLengthPrefixed(&in, &v));
  EXPECT_EQ(v, std::string_view("bin\0ary", 7));
  ASSERT_TRUE(GetLengthPrefixed(&in, &v));
  EXPECT_EQ(v, std::string(300, 'x'));
  EXPECT_TRUE(in.empty());
}

TEST(LengthPrefixedTest, LengthBeyondInputFails) {
  std::string out;
  PutLengthPrefixed(&out, "hello");
  out.pop_back();
  std::string_view in = out;
  std::string_view v;
  EXPECT_FALSE(GetLengthPrefixed(&in, &v));
  EXPECT_EQ(in.size(), out.size()) << "input must not be consumed on failure";
  std::string huge = Varint(std::numeric_limits<uint64_t>::max()) + "abc";
  std::string_view huge_in = huge;
  EXPECT_FALSE(GetLengthPrefixed(&huge_in, &v));
}

TEST(GetBytesTest, TakesExactlyN) {
  std::string_view in = "abcdef";
  std::string_view v;
  ASSERT_TRUE(GetBytes(&in, 4, &v));
  EXPECT_EQ(v, "abcd");
  EXPECT_EQ(in, "ef");
  EXPECT_FALSE(GetBytes(&in, 3, &v));
  EXPECT_EQ(in, "ef");
}

TEST(HexTest, RoundTripsEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  std::string hex = ToHex(bytes);
  EXPECT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(504), "fcfdfeff");
  std::optional<std::string> back = FromHex(hex);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, bytes);
}

TEST(HexTest, AcceptsUpperCaseAndEmpty) {
  EXPECT_EQ(FromHex("DEADbeef"), std::string("\xde\xad\xbe\xef"));
  EXPECT_EQ(FromHex(""), std::string());
  EXPECT_EQ(ToHex(""), "");
}

TEST(HexTest, InvalidHexIsRejected) {
  EXPECT_FALSE(FromHex("abc").has_value());  // odd length
  EXPECT_FALSE(FromHex("zz").has_value());
  EXPECT_FALSE(FromHex("0g").has_value());
  EXPECT_FALSE(FromHex("a ").has_value());
  EXPECT_FALSE(FromHex("-1").has_value());
  EXPECT_FALSE(FromHex(std::string_view("0\0", 2)).has_value());
}

}  // namespace
}  // namespace lifeboat
