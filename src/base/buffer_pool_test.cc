#include "base/buffer_pool.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "base/aligned_string.h"

namespace lifeboat {
namespace {

TEST(BufferPoolTest, GivesBackTheSameStorageCleared) {
  BufferPool pool(4096, 2);
  std::string a = pool.Take();
  EXPECT_TRUE(a.empty());
  EXPECT_GE(a.capacity(), 4096u);
  a.assign(100, 'x');
  const char* storage = a.data();
  pool.Give(std::move(a));
  std::string b = pool.Take();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.data(), storage);
}

TEST(BufferPoolTest, KeepsAtMostMaxSpare) {
  BufferPool pool(1024, 1);
  std::string a = pool.Take();
  std::string b = pool.Take();
  const char* kept = a.data();
  pool.Give(std::move(a));
  pool.Give(std::move(b));  // dropped: the pool holds one already
  std::string c = pool.Take();
  std::string d = pool.Take();
  EXPECT_EQ(c.data(), kept);
  EXPECT_NE(d.data(), kept);
}

TEST(BufferPoolTest, DropsBuffersOfTheWrongSize) {
  BufferPool pool(1024, 4);
  std::string small;
  pool.Give(std::move(small));  // no capacity: not worth keeping
  std::string big;
  big.reserve(1 << 20);  // grew far past the pool's size: would pin memory
  const char* big_storage = big.data();
  pool.Give(std::move(big));
  std::string taken = pool.Take();
  EXPECT_NE(taken.data(), big_storage);
  EXPECT_GE(taken.capacity(), 1024u);
}

TEST(BufferPoolTest, AlignedStringsStayAlignedAsTheyGrow) {
  BasicBufferPool<AlignedString> pool(100'000, 2);
  AlignedString buffer = pool.Take();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % kStorageAlignment, 0u);
  for (int i = 0; i < 5; ++i) {
    buffer.append(std::string(77'777, static_cast<char>('a' + i)));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % kStorageAlignment, 0u) << i;
  }
  EXPECT_EQ(std::string_view(buffer).substr(77'777 * 4, 3), "eee");
}

}  // namespace
}  // namespace lifeboat
