#include "repo/pack.h"

#include <gtest/gtest.h>

#include "codec/hash.h"
#include "codec/random.h"
#include "repo/repo_test_util.h"
#include "storage/memory_object_store.h"

namespace lifeboat {
namespace {

using testing::TestBytes;

struct Packed {
  std::string bytes;
  std::vector<PackedBlob> entries;
  std::vector<std::string> plaintexts;
};

Packed MakePack(const Aead& aead, int blobs) {
  Packed p;
  PackWriter writer(&aead);
  Hmac256 hasher("id key");
  for (int i = 0; i < blobs; ++i) {
    std::string plain = TestBytes(1000 + i * 777, i);
    std::string id = hasher.Compute(plain);
    std::string sealed;
    const CompressionMethod method =
        i % 3 == 1 ? CompressionMethod::kLz4 : CompressionMethod::kZstd;
    Compression c = SealBlob(aead, id, plain, {method, 3}, &sealed);
    writer.Add(id, i % 2 ? BlobType::kTree : BlobType::kData, c,
               static_cast<uint32_t>(plain.size()), sealed);
    p.plaintexts.push_back(plain);
  }
  p.entries = writer.entries();
  p.bytes = std::string(writer.Finish());
  return p;
}

TEST(PackTest, TrailerRebuildsEveryIndexEntry) {
  Aead aead(RandomBytes(32));
  Packed p = MakePack(aead, 20);
  Result<std::vector<PackedBlob>> parsed = ParsePack(p.bytes, aead, "test");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 20u);
  for (size_t i = 0; i < parsed->size(); ++i) {
    const PackedBlob& a = (*parsed)[i];
    const PackedBlob& b = p.entries[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.offset, b.offset);
    EXPECT_EQ(a.sealed_length, b.sealed_length);
    EXPECT_EQ(a.raw_length, b.raw_length);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.compression, b.compression);
    std::string plain;
    ASSERT_TRUE(OpenBlob(aead, a.id, a.compression, a.raw_length,
                         std::string_view(p.bytes).substr(a.offset, a.sealed_length), &plain)
                    .ok());
    EXPECT_EQ(plain, p.plaintexts[i]);
  }
}

TEST(PackTest, HeaderReadByRangeMatchesWholeParse) {
  Aead aead(RandomBytes(32));
  Packed p = MakePack(aead, 5);
  MemoryObjectStore store;
  ASSERT_TRUE(store.Put("data/aa/pack", p.bytes).ok());
  Result<std::vector<PackedBlob>> header = ReadPackHeader(&store, "data/aa/pack", aead);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->size(), 5u);
}

TEST(PackTest, WrongKeyFailsAuthentication) {
  Aead aead(RandomBytes(32));
  Aead other(RandomBytes(32));
  Packed p = MakePack(aead, 3);
  Result<std::vector<PackedBlob>> parsed = ParsePack(p.bytes, other, "p1");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(parsed.status().message().find("p1"), std::string::npos);
}

TEST(PackTest, FlippedByteInBlobIsDetected) {
  Aead aead(RandomBytes(32));
  Packed p = MakePack(aead, 3);
  const PackedBlob& b = p.entries[1];
  p.bytes[b.offset + 20] ^= 0x01;
  std::string plain;
  Status s = OpenBlob(aead, b.id, b.compression, b.raw_length,
                      std::string_view(p.bytes).substr(b.offset, b.sealed_length), &plain);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
}

TEST(PackTest, BlobMovedUnderAnotherIdFailsAuthentication) {
  Aead aead(RandomBytes(32));
  Packed p = MakePack(aead, 2);
  const PackedBlob& b = p.entries[0];
  std::string plain;
  Status s = OpenBlob(aead, p.entries[1].id, b.compression, b.raw_length,
                      std::string_view(p.bytes).substr(b.offset, b.sealed_length), &plain);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
}

TEST(PackTest, TruncatedPackIsRejected) {
  Aead aead(RandomBytes(32));
  Packed p = MakePack(aead, 3);
  for (size_t cut : {size_t{0}, size_t{3}, p.bytes.size() / 2, p.bytes.size() - 1}) {
    Result<std::vector<PackedBlob>> parsed =
        ParsePack(std::string_view(p.bytes).substr(0, cut), aead, "cut");
    EXPECT_FALSE(parsed.ok()) << "cut at " << cut;
    EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss);
  }
}

TEST(PackTest, IncompressibleBlobIsStoredRaw) {
  Aead aead(RandomBytes(32));
  std::string random = RandomBytes(4096);
  for (CompressionMethod method : {CompressionMethod::kZstd, CompressionMethod::kLz4}) {
    std::string sealed;
    EXPECT_EQ(SealBlob(aead, std::string(32, 'x'), random, {method, 3}, &sealed),
              Compression::kNone);
    EXPECT_EQ(sealed.size(), random.size() + Aead::kOverhead);
  }
}

TEST(PackTest, EachMethodNamesItsCompressionInTheEntry) {
  Aead aead(RandomBytes(32));
  const std::string rows = std::string(20000, 'r') + TestBytes(3000, 4) + std::string(20000, 's');
  for (auto [method, expected] : {std::pair{CompressionMethod::kZstd, Compression::kZstd},
                                  std::pair{CompressionMethod::kLz4, Compression::kLz4}}) {
    std::string sealed, plain;
    ASSERT_EQ(SealBlob(aead, std::string(32, 'x'), rows, {method, 3}, &sealed), expected);
    EXPECT_LT(sealed.size(), rows.size() / 4);
    ASSERT_TRUE(OpenBlob(aead, std::string(32, 'x'), expected, static_cast<uint32_t>(rows.size()),
                         sealed, &plain)
                    .ok());
    EXPECT_EQ(plain, rows);
    // Read as the other method, the same bytes do not pass for the blob.
    const Compression other =
        expected == Compression::kLz4 ? Compression::kZstd : Compression::kLz4;
    EXPECT_FALSE(OpenBlob(aead, std::string(32, 'x'), other, static_cast<uint32_t>(rows.size()),
                          sealed, &plain)
                     .ok() &&
                 plain == rows);
  }
}

TEST(PackTest, DeltaBlobOpensWithItsReferencesOnly) {
  const Aead aead(std::string(32, 'k'));
  Hmac256 hasher("id key");
  const std::string base = TestBytes(60000, 7);
  std::string changed = base;
  changed.replace(30000, 100, std::string(100, '#'));
  const std::string base_id = hasher.Compute(base);
  const std::string id = hasher.Compute(changed);
  std::string sealed;
  ASSERT_TRUE(SealDeltaBlob(aead, id, changed, {base_id}, base, 3, &sealed));
  EXPECT_LT(sealed.size(), changed.size() / 8);

  int loads = 0;
  const ReferenceLoader loader = [&](std::string_view ref) -> Result<std::string> {
    ++loads;
    if (ref != base_id) return NotFoundError("unknown reference");
    return base;
  };
  std::string plain;
  ASSERT_TRUE(OpenBlob(aead, id, Compression::kZstdDelta, static_cast<uint32_t>(changed.size()),
                       sealed, &plain, &loader)
                  .ok());
  EXPECT_EQ(plain, changed);
  EXPECT_EQ(loads, 1);
  Result<std::vector<std::string>> refs = ReadDeltaReferences(aead, id, sealed);
  ASSERT_TRUE(refs.ok());
  EXPECT_EQ(*refs, std::vector<std::string>{base_id});

  EXPECT_EQ(OpenBlob(aead, id, Compression::kZstdDelta, static_cast<uint32_t>(changed.size()),
                     sealed, &plain)
                .code(),
            StatusCode::kFailedPrecondition)
      << "without a way to load the references";
  const ReferenceLoader missing = [](std::string_view) -> Result<std::string> {
    return NotFoundError("blob is not in any index");
  };
  Status status = OpenBlob(aead, id, Compression::kZstdDelta, static_cast<uint32_t>(changed.size()),
                           sealed, &plain, &missing);
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_NE(status.message().find("reference"), std::string::npos) << status.ToString();
}

TEST(PackTest, DeltaThatDoesNotPayIsNotWritten) {
  const Aead aead(std::string(32, 'k'));
  const std::string unrelated = RandomBytes(50000);
  const std::string value = RandomBytes(50000);
  std::string sealed;
  EXPECT_FALSE(SealDeltaBlob(aead, std::string(32, 'i'), value, {std::string(32, 'r')}, unrelated,
                             3, &sealed));
  EXPECT_TRUE(sealed.empty());
}

TEST(PackTest, HeaderWithADeltaEntryParses) {
  const Aead aead(std::string(32, 'k'));
  PackWriter writer(&aead);
  writer.Add(std::string(32, 'a'), BlobType::kData, Compression::kZstdDelta, 1000,
             std::string(100, 'x'));
  const AlignedString pack = writer.Finish();
  Result<std::vector<PackedBlob>> blobs = ParsePack(pack, aead, "p");
  ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
  EXPECT_EQ((*blobs)[0].compression, Compression::kZstdDelta);
}

}  // namespace
}  // namespace lifeboat
