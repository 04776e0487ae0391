// The ObjectStore contract (object_store.h, docs/FORMAT.md section 1), checked against every
// implementation.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/fault_injecting_object_store.h"
#include "storage/local_object_store.h"
#include "storage/memory_object_store.h"
#include "storage/object_store.h"
#include "storage/test_directory.h"

namespace lifeboat {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// Each environment makes one fresh store.
class LocalEnvironment {
 public:
  static constexpr const char* kName = "Local";
  Status Init() {
    if (dir_.path().empty()) return UnavailableError("cannot make a temporary directory");
    auto store = LocalObjectStore::Open(dir_.path() + "/repo", /*create=*/true);
    if (!store.ok()) return store.status();
    store_ = std::move(store).value();
    return OkStatus();
  }
  ObjectStore* store() { return store_.get(); }

 private:
  TestDirectory dir_;
  std::unique_ptr<LocalObjectStore> store_;
};

class MemoryEnvironment {
 public:
  static constexpr const char* kName = "Memory";
  Status Init() { return OkStatus(); }
  ObjectStore* store() { return &store_; }

 private:
  MemoryObjectStore store_;
};

// The fault-injecting wrapper with no fault armed must be transparent.
class FaultInjectingEnvironment {
 public:
  static constexpr const char* kName = "FaultInjectingOverMemory";
  Status Init() { return OkStatus(); }
  ObjectStore* store() { return &store_; }

 private:
  MemoryObjectStore base_;
  FaultInjectingObjectStore store_{&base_};
};

template <typename Environment>
class ObjectStoreConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status status = environment_.Init();
    ASSERT_TRUE(status.ok()) << status.ToString();
    store_ = environment_.store();
  }

  // Every object under `prefix`, key -> size; fails the test on an error or a duplicate.
  std::map<std::string, uint64_t> ListAll(std::string_view prefix) {
    std::map<std::string, uint64_t> out;
    Status status = store_->List(prefix, [&](const ObjectInfo& info) {
      EXPECT_TRUE(out.emplace(info.key, info.size).second) << "listed twice: " << info.key;
      return OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
    return out;
  }

  void PutOrFail(std::string_view key, std::string_view data) {
    Status status = store_->Put(key, data);
    ASSERT_TRUE(status.ok()) << key << ": " << status.ToString();
  }

  Environment environment_;
  ObjectStore* store_ = nullptr;
};

class EnvironmentNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

using Environments =
    ::testing::Types<LocalEnvironment, MemoryEnvironment, FaultInjectingEnvironment>;
TYPED_TEST_SUITE(ObjectStoreConformanceTest, Environments, EnvironmentNames);

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(rng() & 0xff);
  return out;
}

TYPED_TEST(ObjectStoreConformanceTest, PutGetRoundTrip) {
  this->PutOrFail("config", "hello");
  auto got = this->store_->Get("config");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "hello");
}

TYPED_TEST(ObjectStoreConformanceTest, EmptyObject) {
  this->PutOrFail("locks/empty", "");
  auto got = this->store_->Get("locks/empty");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "");
  auto size = this->store_->Size("locks/empty");
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, 0u);
  EXPECT_THAT(this->ListAll("locks/"), ElementsAre(Pair("locks/empty", 0u)));
}

TYPED_TEST(ObjectStoreConformanceTest, LargeObject) {
  const std::string data = RandomBytes(8 << 20, 1);
  this->PutOrFail("data/3f/3fa2", data);
  auto got = this->store_->Get("data/3f/3fa2");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  auto size = this->store_->Size("data/3f/3fa2");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, data.size());
  auto tail = this->store_->GetRange("data/3f/3fa2", data.size() - 8, 8);
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_TRUE(*tail == data.substr(data.size() - 8));
}

TYPED_TEST(ObjectStoreConformanceTest, BinaryDataWithNuls) {
  const std::string data("\0a\0\0\xff\x80\n\r\0", 9);
  this->PutOrFail("index/bin", data);
  auto got = this->store_->Get("index/bin");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), 9u);
  EXPECT_TRUE(*got == data);
}

TYPED_TEST(ObjectStoreConformanceTest, MissingObjectIsNotFound) {
  this->PutOrFail("data/3f/other", "x");
  auto got = this->store_->Get("data/3f/missing");
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << got.status().ToString();
  EXPECT_THAT(got.status().message(), HasSubstr("data/3f/missing"));
  auto range = this->store_->GetRange("data/3f/missing", 0, 0);
  EXPECT_EQ(range.status().code(), StatusCode::kNotFound) << range.status().ToString();
  auto size = this->store_->Size("data/3f/missing");
  EXPECT_EQ(size.status().code(), StatusCode::kNotFound) << size.status().ToString();
  auto in_missing_dir = this->store_->Get("nowhere/at/all");
  EXPECT_EQ(in_missing_dir.status().code(), StatusCode::kNotFound);
}

TYPED_TEST(ObjectStoreConformanceTest, AKeyThatIsOnlyAPrefixOfOthersIsNotFound) {
  this->PutOrFail("data/3f/abc", "x");
  EXPECT_EQ(this->store_->Get("data/3f").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->Size("data").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(this->store_->Delete("data/3f").ok());
  EXPECT_TRUE(this->store_->Get("data/3f/abc").ok());
}

TYPED_TEST(ObjectStoreConformanceTest, GetRange) {
  this->PutOrFail("data/00/r", "0123456789");
  auto middle = this->store_->GetRange("data/00/r", 3, 4);
  ASSERT_TRUE(middle.ok()) << middle.status().ToString();
  EXPECT_EQ(*middle, "3456");
  auto end = this->store_->GetRange("data/00/r", 6, 4);
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_EQ(*end, "6789");
  auto whole = this->store_->GetRange("data/00/r", 0, 10);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(*whole, "0123456789");
  auto empty_at_start = this->store_->GetRange("data/00/r", 0, 0);
  ASSERT_TRUE(empty_at_start.ok());
  EXPECT_EQ(*empty_at_start, "");
  auto empty_at_end = this->store_->GetRange("data/00/r", 10, 0);
  ASSERT_TRUE(empty_at_end.ok()) << empty_at_end.status().ToString();
  EXPECT_EQ(*empty_at_end, "");
}

TYPED_TEST(ObjectStoreConformanceTest, GetRangeBeyondTheEndIsDataLoss) {
  this->PutOrFail("data/00/r", "0123456789");
  auto past_end = this->store_->GetRange("data/00/r", 8, 4);
  EXPECT_EQ(past_end.status().code(), StatusCode::kDataLoss) << past_end.status().ToString();
  EXPECT_THAT(past_end.status().message(), HasSubstr("is 10 bytes, cannot read 8..12"));
  auto start_past_end = this->store_->GetRange("data/00/r", 11, 0);
  EXPECT_EQ(start_past_end.status().code(), StatusCode::kDataLoss);
  auto overflowing = this->store_->GetRange("data/00/r", 2, UINT64_MAX);
  EXPECT_EQ(overflowing.status().code(), StatusCode::kDataLoss);
  auto from_empty = this->store_->GetRange("data/00/r", UINT64_MAX, 1);
  EXPECT_EQ(from_empty.status().code(), StatusCode::kDataLoss);
}

TYPED_TEST(ObjectStoreConformanceTest, Size) {
  this->PutOrFail("snapshots/9c1e", std::string(12345, 'z'));
  auto size = this->store_->Size("snapshots/9c1e");
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, 12345u);
}

TYPED_TEST(ObjectStoreConformanceTest, ListByPrefix) {
  for (const char* key : {"config", "keys/k1", "data/3f/abc", "data/3f/abd", "data/40/xyz",
                          "index/i1", "snapshots/ab12", "snapshots/ac34", "snapshotsx"}) {
    this->PutOrFail(key, key);
  }
  EXPECT_THAT(this->ListAll("data/"),
              UnorderedElementsAre(Pair("data/3f/abc", 11u), Pair("data/3f/abd", 11u),
                                   Pair("data/40/xyz", 11u)));
  EXPECT_THAT(this->ListAll("data/3f/"),
              UnorderedElementsAre(Pair("data/3f/abc", 11u), Pair("data/3f/abd", 11u)));
  EXPECT_THAT(this->ListAll("data/3f/abd"), ElementsAre(Pair("data/3f/abd", 11u)));
  EXPECT_THAT(this->ListAll("data/3"),
              UnorderedElementsAre(Pair("data/3f/abc", 11u), Pair("data/3f/abd", 11u)));
  EXPECT_THAT(this->ListAll("snapshots/ab"), ElementsAre(Pair("snapshots/ab12", 14u)));
  EXPECT_THAT(this->ListAll("snapshots/"),
              UnorderedElementsAre(Pair("snapshots/ab12", 14u), Pair("snapshots/ac34", 14u)));
  EXPECT_THAT(this->ListAll("snapshots"),
              UnorderedElementsAre(Pair("snapshots/ab12", 14u), Pair("snapshots/ac34", 14u),
                                   Pair("snapshotsx", 10u)));
  EXPECT_THAT(this->ListAll("con"), ElementsAre(Pair("config", 6u)));
  EXPECT_THAT(this->ListAll("locks/"), ElementsAre());
  EXPECT_THAT(this->ListAll("config/"), ElementsAre());
  EXPECT_THAT(this->ListAll("zzz"), ElementsAre());
  EXPECT_EQ(this->ListAll("").size(), 9u);
}

TYPED_TEST(ObjectStoreConformanceTest, ListStopsWhenTheCallbackFails) {
  for (int i = 0; i < 10; ++i) this->PutOrFail("log/" + std::to_string(i), "e");
  int calls = 0;
  Status status = this->store_->List("log/", [&](const ObjectInfo&) {
    ++calls;
    return calls == 3 ? CancelledError("stop here") : OkStatus();
  });
  EXPECT_EQ(status.code(), StatusCode::kCancelled);
  EXPECT_EQ(status.message(), "stop here");
  EXPECT_EQ(calls, 3);
}

TYPED_TEST(ObjectStoreConformanceTest, ListCallbackMayDeleteWhatItIsShown) {
  // More than one batch of MemoryObjectStore::List.
  for (int i = 0; i < 300; ++i) this->PutOrFail("locks/" + std::to_string(i), "l");
  int calls = 0;
  Status status = this->store_->List("locks/", [&](const ObjectInfo& info) {
    ++calls;
    return this->store_->Delete(info.key);
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(calls, 300);
  EXPECT_TRUE(this->ListAll("").empty());
}

TYPED_TEST(ObjectStoreConformanceTest, PutReplaces) {
  this->PutOrFail("locks/lease", "first, longer version");
  this->PutOrFail("locks/lease", "second");
  auto got = this->store_->Get("locks/lease");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "second");
  EXPECT_THAT(this->ListAll("locks/"), ElementsAre(Pair("locks/lease", 6u)));
}

TYPED_TEST(ObjectStoreConformanceTest, ReadersSeeTheOldOrTheNewObjectNeverAMix) {
  const std::string a(256 << 10, 'a');
  const std::string b(100 << 10, 'b');
  this->PutOrFail("locks/lease", a);
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto got = this->store_->Get("locks/lease");
      if (!got.ok() || (*got != a && *got != b)) ++torn;
      ++reads;
    }
  });
  for (int i = 0; i < 50; ++i) {
    this->PutOrFail("locks/lease", i % 2 == 0 ? b : a);
  }
  done = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0) << "of " << reads.load() << " reads";
}

TYPED_TEST(ObjectStoreConformanceTest, DeleteIsIdempotentAndPrecise) {
  this->PutOrFail("data/3f/abc", "1");
  this->PutOrFail("data/3f/abcd", "2");
  EXPECT_TRUE(this->store_->Delete("data/3f/abc").ok());
  EXPECT_EQ(this->store_->Get("data/3f/abc").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(this->store_->Delete("data/3f/abc").ok());
  EXPECT_TRUE(this->store_->Delete("never/was").ok());
  EXPECT_THAT(this->ListAll(""), ElementsAre(Pair("data/3f/abcd", 1u)));
}

TYPED_TEST(ObjectStoreConformanceTest, InvalidKeysAreRejected) {
  const std::vector<std::string> invalid = {
      "",     "/abs",  "a/../b",       "..",     "../x",
      "./a",  "a/./b", "a/.",          "a/b/..", "a\\b",
      "a//b", "a/",    "data/x.tmp-1", ".tmp-x", std::string("a\0b", 3)};
  for (const std::string& key : invalid) {
    SCOPED_TRACE(::testing::PrintToString(key));
    Status put = this->store_->Put(key, "x");
    EXPECT_EQ(put.code(), StatusCode::kInvalidArgument) << put.ToString();
    EXPECT_EQ(this->store_->Get(key).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(this->store_->GetRange(key, 0, 0).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(this->store_->Size(key).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(this->store_->Delete(key).code(), StatusCode::kInvalidArgument);
  }
  for (const char* prefix : {"/", "../", "a/../", "./", "a//", "a\\"}) {
    SCOPED_TRACE(prefix);
    Status list = this->store_->List(prefix, [](const ObjectInfo&) { return OkStatus(); });
    EXPECT_EQ(list.code(), StatusCode::kInvalidArgument) << list.ToString();
  }
  EXPECT_TRUE(this->ListAll("").empty());
}

TYPED_TEST(ObjectStoreConformanceTest, UnusualButValidKeys) {
  for (const char* key : {"a", "...", "a..b/c", ".hidden", "x.tmp", "x/y z/ü"}) {
    SCOPED_TRACE(key);
    this->PutOrFail(key, key);
    auto got = this->store_->Get(key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, key);
  }
  EXPECT_EQ(this->ListAll("").size(), 6u);
}

TYPED_TEST(ObjectStoreConformanceTest, ConcurrentPutsOfDifferentKeys) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 64;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Threads share directories, so they race to create them.
        const std::string key =
            "data/" + std::to_string(i % 8) + "/" + std::to_string(t) + "-" + std::to_string(i);
        if (!this->store_->Put(key, key).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  const auto all = this->ListAll("data/");
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const auto& [key, size] : all) {
    auto got = this->store_->Get(key);
    ASSERT_TRUE(got.ok()) << key;
    EXPECT_EQ(*got, key);
    EXPECT_EQ(size, key.size());
  }
}

TYPED_TEST(ObjectStoreConformanceTest, DescribeIsNotEmpty) {
  EXPECT_FALSE(this->store_->Describe().empty());
}

}  // namespace
}  // namespace lifeboat
