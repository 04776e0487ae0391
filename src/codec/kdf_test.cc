#include "codec/kdf.h"

#include <gtest/gtest.h>

#include "base/encoding.h"

namespace lifeboat {
namespace {

TEST(ScryptTest, MatchesRfc7914Vector1) {
  Result<std::string> key = Scrypt("", "", ScryptParams{16, 1, 1}, 64);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(ToHex(*key),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
            "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
}

TEST(ScryptTest, MatchesRfc7914Vector2) {
  Result<std::string> key = Scrypt("password", "NaCl", ScryptParams{1024, 8, 16}, 64);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(ToHex(*key),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
            "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
}

TEST(ScryptTest, DefaultParametersDeriveThirtyTwoBytes) {
  Result<std::string> key = Scrypt("correct horse", "salt", ScryptParams{}, 32);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->size(), 32u);
  Result<std::string> other = Scrypt("correct horse!", "salt", ScryptParams{}, 32);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*key, *other);
}

TEST(ScryptTest, RejectsBadParameters) {
  auto code = [](ScryptParams params, size_t length = 32) {
    return Scrypt("pw", "salt", params, length).status().code();
  };
  EXPECT_EQ(code({0, 8, 1}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({1, 8, 1}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({1000, 8, 1}), StatusCode::kInvalidArgument);  // not a power of two
  EXPECT_EQ(code({1024, 0, 1}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({1024, 8, 0}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({1024, 1 << 20, 1 << 10}), StatusCode::kInvalidArgument);   // r * p >= 2^30
  EXPECT_EQ(code({uint64_t{1} << 20, 8, 1}), StatusCode::kInvalidArgument);  // 1 GiB
  EXPECT_EQ(code({uint64_t{1} << 62, 8, 1}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({1024, 8, 1}, 0), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({1024, 8, 1}, 1 << 20), StatusCode::kInvalidArgument);
}

TEST(ScryptTest, AcceptsTheLargestParametersUnderTheMemoryCap) {
  // 128 * 8 * (2^17 + 3) bytes is just over 128 MiB, under the 256 MiB cap.
  Result<std::string> key = Scrypt("pw", "salt", ScryptParams{uint64_t{1} << 17, 8, 1}, 32);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
}

}  // namespace
}  // namespace lifeboat
