// MemoryObjectStore specifics and key validation. The ObjectStore contract itself is in
// object_store_conformance_test.cc.

#include "storage/memory_object_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "storage/object_store.h"

namespace lifeboat {
namespace {

using ::testing::HasSubstr;

TEST(MemoryObjectStoreTest, ObjectCountAndDescribe) {
  MemoryObjectStore store;
  EXPECT_EQ(store.object_count(), 0u);
  ASSERT_TRUE(store.Put("a", "1").ok());
  ASSERT_TRUE(store.Put("a", "2").ok());
  ASSERT_TRUE(store.Put("b/c", "3").ok());
  EXPECT_EQ(store.object_count(), 2u);
  ASSERT_TRUE(store.Delete("a").ok());
  EXPECT_EQ(store.object_count(), 1u);
  EXPECT_EQ(store.Describe(), "memory");
}

TEST(ValidateObjectKeyTest, AcceptsRepositoryKeys) {
  for (const char* key : {"config", "keys/0123abcd", "data/3f/3fa2", "index/9c", "snapshots/ab",
                          "locks/00ff", "log/00000000001234567890-deadbeef"}) {
    EXPECT_TRUE(ValidateObjectKey(key).ok()) << key;
  }
}

TEST(ValidateObjectKeyTest, MessagesNameTheKeyAndTheRule) {
  Status dots = ValidateObjectKey("data/../config");
  EXPECT_EQ(dots.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(dots.message(), HasSubstr("\"data/../config\""));
  EXPECT_THAT(dots.message(), HasSubstr(".."));
  Status nul = ValidateObjectKey(std::string("a\0b", 3));
  EXPECT_THAT(nul.message(), HasSubstr("\"a\\x00b\""));
  EXPECT_THAT(nul.message(), HasSubstr("NUL"));
  EXPECT_THAT(ValidateObjectKey("").message(), HasSubstr("empty"));
  EXPECT_THAT(ValidateObjectKey("x.tmp-1").message(), HasSubstr("temporaries"));
}

TEST(ValidateObjectKeyPrefixTest, AcceptsPartialKeys) {
  for (const char* prefix :
       {"", "d", "data/", "data/3f", "data/3f/", "snapshots/ab", "..x", "data/.", "data/.."}) {
    EXPECT_TRUE(ValidateObjectKeyPrefix(prefix).ok()) << prefix;
  }
}

TEST(ValidateObjectKeyPrefixTest, RejectsBadCompleteComponents) {
  for (const char* prefix : {"/", "/data", "../", "data/../", "./", "a//", "a\\", "x.tmp-1/"}) {
    EXPECT_EQ(ValidateObjectKeyPrefix(prefix).code(), StatusCode::kInvalidArgument) << prefix;
  }
}

}  // namespace
}  // namespace lifeboat
