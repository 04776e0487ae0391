#include "codec/random.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace lifeboat {
namespace {

TEST(RandomBytesTest, ReturnsTheRequestedLength) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(1).size(), 1u);
  EXPECT_EQ(RandomBytes(96).size(), 96u);
  EXPECT_EQ(RandomBytes(1 << 20).size(), size_t{1} << 20);
}

TEST(RandomBytesTest, CallsDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(RandomBytes(16));
  EXPECT_EQ(seen.size(), 100u);
}

TEST(RandomBytesTest, UsesEveryByteValue) {
  std::string bytes = RandomBytes(1 << 16);
  std::set<unsigned char> values(bytes.begin(), bytes.end());
  EXPECT_EQ(values.size(), 256u);
}

}  // namespace
}  // namespace lifeboat
