#include "storage/fault_injecting_object_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "storage/memory_object_store.h"

namespace lifeboat {
namespace {

using ::testing::HasSubstr;

class FaultInjectingObjectStoreTest : public ::testing::Test {
 protected:
  MemoryObjectStore base_;
  FaultInjectingObjectStore store_{&base_};
};

TEST_F(FaultInjectingObjectStoreTest, ForwardsAndCounts) {
  ASSERT_TRUE(store_.Put("a", "1").ok());
  ASSERT_TRUE(store_.Put("b", "2").ok());
  ASSERT_TRUE(store_.Delete("a").ok());
  ASSERT_TRUE(store_.Delete("missing").ok());
  EXPECT_EQ(store_.puts(), 2);
  EXPECT_EQ(store_.deletes(), 2);
  EXPECT_EQ(store_.injected_failures(), 0);
  EXPECT_EQ(base_.object_count(), 1u);
  EXPECT_EQ(store_.Describe(), "memory");
  // A failure of the wrapped store passes through and is not counted.
  EXPECT_EQ(store_.Put("", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.puts(), 2);
}

TEST_F(FaultInjectingObjectStoreTest, FailPutsAfter) {
  ASSERT_TRUE(store_.Put("before", "x").ok());
  store_.FailPutsAfter(2);
  EXPECT_TRUE(store_.Put("one", "1").ok());
  EXPECT_TRUE(store_.Put("two", "2").ok());
  Status third = store_.Put("three", "3");
  EXPECT_EQ(third.code(), StatusCode::kUnavailable);
  EXPECT_THAT(third.message(), HasSubstr("injected fault"));
  EXPECT_THAT(third.message(), HasSubstr("three"));
  EXPECT_EQ(store_.Put("four", "4").code(), StatusCode::kUnavailable);
  // Nothing of the failed puts was written.
  EXPECT_EQ(base_.Get("three").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(base_.object_count(), 3u);
  // Reads, lists and deletes still work.
  EXPECT_TRUE(store_.Get("one").ok());
  int listed = 0;
  EXPECT_TRUE(store_
                  .List("",
                        [&](const ObjectInfo&) {
                          ++listed;
                          return OkStatus();
                        })
                  .ok());
  EXPECT_EQ(listed, 3);
  EXPECT_TRUE(store_.Delete("one").ok());
  EXPECT_EQ(store_.puts(), 3);
  EXPECT_EQ(store_.injected_failures(), 2);

  store_.ClearFaults();
  EXPECT_TRUE(store_.Put("three", "3").ok());
}

TEST_F(FaultInjectingObjectStoreTest, FailPutsAfterZeroFailsTheFirstPut) {
  store_.FailPutsAfter(0);
  EXPECT_EQ(store_.Put("a", "1").code(), StatusCode::kUnavailable);
  EXPECT_EQ(base_.object_count(), 0u);
}

TEST_F(FaultInjectingObjectStoreTest, FailAllAfterStopsEverything) {
  ASSERT_TRUE(base_.Put("existing", "x").ok());
  store_.FailAllAfter(3);
  EXPECT_TRUE(store_.Put("a", "1").ok());
  EXPECT_TRUE(store_.Get("a").ok());  // reads do not count
  EXPECT_TRUE(store_.Delete("existing").ok());
  EXPECT_TRUE(store_.Put("b", "2").ok());
  // The store is now "dead": every call fails, reads included.
  Status put = store_.Put("c", "3");
  EXPECT_EQ(put.code(), StatusCode::kUnavailable);
  EXPECT_THAT(put.message(), HasSubstr("injected fault"));
  EXPECT_EQ(store_.Get("a").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_.GetRange("a", 0, 1).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_.Size("a").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_.Delete("a").code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_.List("", [](const ObjectInfo&) { return OkStatus(); }).code(),
            StatusCode::kUnavailable);
  // What the wrapped store holds is exactly the state after the third write.
  EXPECT_EQ(base_.object_count(), 2u);
  EXPECT_TRUE(base_.Get("a").ok());
  EXPECT_TRUE(base_.Get("b").ok());
  EXPECT_EQ(store_.puts(), 2);
  EXPECT_EQ(store_.deletes(), 1);

  store_.ClearFaults();
  EXPECT_TRUE(store_.Get("a").ok());
}

TEST_F(FaultInjectingObjectStoreTest, FailAllAfterZeroIsDeadAtOnce) {
  store_.FailAllAfter(0);
  EXPECT_EQ(store_.Get("a").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_.Put("a", "1").code(), StatusCode::kUnavailable);
  EXPECT_EQ(base_.object_count(), 0u);
}

TEST_F(FaultInjectingObjectStoreTest, FailedWritesOfTheBaseDoNotSpendTheBudget) {
  store_.FailAllAfter(1);
  EXPECT_EQ(store_.Put("bad//key", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_.Get("missing").status().code() == StatusCode::kNotFound);
  EXPECT_TRUE(store_.Put("good", "x").ok());
  EXPECT_EQ(store_.Get("good").status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace lifeboat
