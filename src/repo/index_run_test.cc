#include "repo/index_run.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "codec/hash.h"
#include "codec/random.h"
#include "storage/memory_object_store.h"

namespace lifeboat {
namespace {

std::vector<IndexRecord> MakeRecords(size_t n, const std::vector<std::string>& packs) {
  std::vector<IndexRecord> records;
  for (size_t i = 0; i < n; ++i) {
    IndexRecord r;
    r.id = Sha256("blob " + std::to_string(i));
    r.location.pack_id = packs[i % packs.size()];
    r.location.offset = static_cast<uint32_t>(i * 100);
    r.location.sealed_length = static_cast<uint32_t>(100 + i);
    r.location.raw_length = static_cast<uint32_t>(200 + i);
    r.location.type = i % 3 ? BlobType::kData : BlobType::kTree;
    r.location.compression = i % 2 ? Compression::kZstd : Compression::kNone;
    records.push_back(std::move(r));
  }
  std::sort(records.begin(), records.end(),
            [](const IndexRecord& a, const IndexRecord& b) { return a.id < b.id; });
  return records;
}

class IndexRunTest : public ::testing::Test {
 protected:
  IndexRunTest() : aead_(RandomBytes(32)), cache_(1 << 20) {}
  Aead aead_;
  BlockCache cache_;
  MemoryObjectStore store_;
};

TEST_F(IndexRunTest, FindsEveryRecordAcrossBlocks) {
  std::vector<std::string> packs = {Sha256("p1"), Sha256("p2"), Sha256("p3")};
  std::vector<IndexRecord> records = MakeRecords(1000, packs);  // 4 blocks
  ASSERT_TRUE(store_.Put("index/run", BuildIndexRun(records, aead_)).ok());
  auto run = IndexRun::Open(&store_, "index/run", &aead_, &cache_);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ((*run)->entry_count(), 1000u);
  EXPECT_EQ((*run)->packs().size(), 3u);
  for (const IndexRecord& r : records) {
    auto found = (*run)->Find(r.id);
    ASSERT_TRUE(found.ok());
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->pack_id, r.location.pack_id);
    EXPECT_EQ((*found)->offset, r.location.offset);
    EXPECT_EQ((*found)->sealed_length, r.location.sealed_length);
    EXPECT_EQ((*found)->raw_length, r.location.raw_length);
    EXPECT_EQ((*found)->type, r.location.type);
    EXPECT_EQ((*found)->compression, r.location.compression);
  }
}

TEST_F(IndexRunTest, UnknownIdsAreNotFoundAndMostAreRejectedByTheFilter) {
  std::vector<IndexRecord> records = MakeRecords(2000, {Sha256("p")});
  ASSERT_TRUE(store_.Put("index/run", BuildIndexRun(records, aead_)).ok());
  auto run = IndexRun::Open(&store_, "index/run", &aead_, &cache_);
  ASSERT_TRUE(run.ok());
  int passed_filter = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string id = Sha256("absent " + std::to_string(i));
    if ((*run)->MayContain(id)) ++passed_filter;
    auto found = (*run)->Find(id);
    ASSERT_TRUE(found.ok());
    EXPECT_FALSE(found->has_value());
  }
  EXPECT_LT(passed_filter, 300);  // about 1% false positives at 10 bits per entry
}

TEST_F(IndexRunTest, ForEachVisitsRecordsInOrder) {
  std::vector<IndexRecord> records = MakeRecords(600, {Sha256("p")});
  ASSERT_TRUE(store_.Put("index/run", BuildIndexRun(records, aead_)).ok());
  auto run = IndexRun::Open(&store_, "index/run", &aead_, &cache_);
  ASSERT_TRUE(run.ok());
  size_t i = 0;
  ASSERT_TRUE((*run)
                  ->ForEach([&](const IndexRecord& r) {
                    EXPECT_EQ(r.id, records[i++].id);
                    return OkStatus();
                  })
                  .ok());
  EXPECT_EQ(i, 600u);
}

TEST_F(IndexRunTest, TruncatedRunIsDataLoss) {
  std::string run = BuildIndexRun(MakeRecords(300, {Sha256("p")}), aead_);
  ASSERT_TRUE(store_.Put("index/cut", run.substr(0, run.size() - 3)).ok());
  auto opened = IndexRun::Open(&store_, "index/cut", &aead_, &cache_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(opened.status().message().find("index/cut"), std::string::npos);
}

TEST_F(IndexRunTest, FlippedByteInBlockIsDataLossOnLookup) {
  std::vector<IndexRecord> records = MakeRecords(300, {Sha256("p")});
  std::string run = BuildIndexRun(records, aead_);
  run[10] ^= 0x40;  // inside the first block
  ASSERT_TRUE(store_.Put("index/bad", run).ok());
  auto opened = IndexRun::Open(&store_, "index/bad", &aead_, &cache_);
  ASSERT_TRUE(opened.ok());
  auto found = (*opened)->Find(records[0].id);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), StatusCode::kDataLoss);
}

TEST(BlockCacheTest, EvictsLeastRecentlyUsedPastCapacity) {
  BlockCache cache(250);
  for (int i = 0; i < 3; ++i) {
    cache.Put("k" + std::to_string(i), std::make_shared<const std::string>(100, 'x'));
  }
  EXPECT_EQ(cache.Get("k0"), nullptr);
  EXPECT_NE(cache.Get("k1"), nullptr);
  EXPECT_NE(cache.Get("k2"), nullptr);
}

}  // namespace
}  // namespace lifeboat
