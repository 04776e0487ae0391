#include "codec/chunker.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "codec/hash.h"

namespace lifeboat {
namespace {

const GearTable kGear = GearTable::FromKey("chunker key for tests");
const GearTable kOtherGear = GearTable::FromKey("another chunker key");

std::string PseudoRandom(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    for (int b = 0; b < 8; ++b) out[i + b] = static_cast<char>(v >> (8 * b));
  }
  for (size_t i = n - n % 8; i < n; ++i) out[i] = static_cast<char>(rng());
  return out;
}

// Chunk lengths from StreamChunker, the data written in one piece.
std::vector<std::string> ChunksOf(std::string_view data, const ChunkerParams& params = {},
                                  const GearTable& gear = kGear) {
  std::vector<std::string> chunks;
  StreamChunker chunker(params, &gear, [&](std::string_view chunk) {
    chunks.emplace_back(chunk);
    return OkStatus();
  });
  EXPECT_TRUE(chunker.Write(data).ok());
  EXPECT_TRUE(chunker.Finish().ok());
  return chunks;
}

std::vector<size_t> Lengths(const std::vector<std::string>& chunks) {
  std::vector<size_t> out;
  for (const auto& c : chunks) out.push_back(c.size());
  return out;
}

// FORMAT.md §5 written out directly: the chunk lengths of `data`.
std::vector<size_t> ReferenceLengths(std::string_view data, const GearTable& gear,
                                     const ChunkerParams& p, uint64_t mask_s, uint64_t mask_l) {
  std::vector<size_t> lengths;
  size_t start = 0;
  while (start < data.size()) {
    size_t remaining = data.size() - start;
    size_t length = remaining;
    uint64_t hash = 0;
    for (size_t i = p.min_size; i < remaining; ++i) {
      hash = (hash << 1) + gear[static_cast<uint8_t>(data[start + i])];
      uint64_t mask = i < p.avg_size ? mask_s : mask_l;
      if ((hash & mask) == 0 || i + 1 == p.max_size) {
        length = i + 1;
        break;
      }
    }
    lengths.push_back(length);
    start += length;
  }
  return lengths;
}

// FORMAT.md §5: `bits` ones at 63 - floor(i * 32 / bits).
uint64_t SpreadMask(int bits) {
  uint64_t mask = 0;
  for (int i = 0; i < bits; ++i) mask |= uint64_t{1} << (63 - (i * 32) / bits);
  return mask;
}

TEST(GearTableTest, EntriesAreKeyedHmacPrefixes) {
  std::string key = "chunker key for tests";
  for (int i : {0, 1, 127, 255}) {
    std::string message = "gear";
    message.push_back(static_cast<char>(i));
    EXPECT_EQ(kGear[static_cast<uint8_t>(i)], DecodeFixed64(HmacSha256(key, message).data())) << i;
  }
  EXPECT_NE(kGear[0], kOtherGear[0]);
}

TEST(ChunkerParamsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidateChunkerParams({}).ok());
}

TEST(ChunkerParamsTest, RejectsBadSizes) {
  auto code = [](uint32_t min, uint32_t avg, uint32_t max) {
    return ValidateChunkerParams({min, avg, max}).code();
  };
  EXPECT_EQ(code(16384, 65536, 524288), StatusCode::kOk);
  EXPECT_EQ(code(64, 256, 257), StatusCode::kOk);
  EXPECT_EQ(code(16384, 65535, 524288), StatusCode::kInvalidArgument);  // not a power of two
  EXPECT_EQ(code(16384, 0, 524288), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(65536, 65536, 524288), StatusCode::kInvalidArgument);  // min == avg
  EXPECT_EQ(code(16384, 65536, 65536), StatusCode::kInvalidArgument);   // max == avg
  EXPECT_EQ(code(100000, 65536, 524288), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(32, 128, 1024), StatusCode::kInvalidArgument);              // avg too small
  EXPECT_EQ(code(16, 1024, 4096), StatusCode::kInvalidArgument);             // min too small
  EXPECT_EQ(code(16384, 1u << 25, 1u << 26), StatusCode::kInvalidArgument);  // avg too big
  EXPECT_EQ(code(16384, 65536, 1u << 27), StatusCode::kInvalidArgument);     // max too big
}

TEST(ChunkerTest, MatchesTheFormatDefinitionWithDefaultParameters) {
  std::string data = PseudoRandom(8 << 20, 1);
  // The masks FORMAT.md §5 lists for avg = 65536.
  EXPECT_EQ(SpreadMask(18), 0xd5aad5aa00000000u);
  EXPECT_EQ(SpreadMask(14), 0xaa54aa5400000000u);
  EXPECT_EQ(Lengths(ChunksOf(data)),
            ReferenceLengths(data, kGear, {}, 0xd5aad5aa00000000u, 0xaa54aa5400000000u));
}

TEST(ChunkerTest, MatchesTheFormatDefinitionWithSmallParameters) {
  ChunkerParams params{256, 1024, 4096};
  std::string data = PseudoRandom(1 << 20, 2);
  std::vector<size_t> lengths = Lengths(ChunksOf(data, params));
  EXPECT_GT(lengths.size(), 500u);
  EXPECT_EQ(lengths, ReferenceLengths(data, kGear, params, SpreadMask(12), SpreadMask(8)));
}

TEST(ChunkerTest, ChunksAreWithinMinAndMaxExceptTheLast) {
  for (const ChunkerParams& params :
       {ChunkerParams{}, ChunkerParams{256, 1024, 4096}, ChunkerParams{4096, 8192, 16384}}) {
    std::string data = PseudoRandom(4 << 20, 3);
    std::vector<std::string> chunks = ChunksOf(data, params);
    ASSERT_GT(chunks.size(), 2u);
    size_t total = 0;
    for (size_t i = 0; i < chunks.size(); ++i) {
      total += chunks[i].size();
      EXPECT_LE(chunks[i].size(), params.max_size);
      EXPECT_GT(chunks[i].size(), 0u);
      if (i + 1 < chunks.size()) {
        EXPECT_GE(chunks[i].size(), params.min_size) << i;
      }
    }
    EXPECT_EQ(total, data.size());
  }
}

TEST(ChunkerTest, ChunksConcatenateToTheInput) {
  std::string data = PseudoRandom(3 << 20, 4);
  std::string joined;
  for (const auto& chunk : ChunksOf(data)) joined += chunk;
  EXPECT_EQ(joined, data);
}

TEST(ChunkerTest, DeterministicForTheSameKey) {
  std::string data = PseudoRandom(4 << 20, 5);
  GearTable same = GearTable::FromKey("chunker key for tests");
  EXPECT_EQ(ChunksOf(data, {}, kGear), ChunksOf(data, {}, same));
}

TEST(ChunkerTest, DifferentKeysGiveDifferentCuts) {
  std::string data = PseudoRandom(4 << 20, 6);
  std::vector<size_t> a = Lengths(ChunksOf(data, {}, kGear));
  std::vector<size_t> b = Lengths(ChunksOf(data, {}, kOtherGear));
  std::set<size_t> cuts_a;
  std::set<size_t> cuts_b;
  size_t pos = 0;
  for (size_t n : a) cuts_a.insert(pos += n);
  pos = 0;
  for (size_t n : b) cuts_b.insert(pos += n);
  size_t shared = 0;
  for (size_t cut : cuts_a) shared += cuts_b.count(cut);
  EXPECT_LE(shared, 2u);  // the end of the data, and perhaps a chance coincidence
}

TEST(ChunkerTest, PiecesOfAnySizeGiveTheSameChunks) {
  std::string data = PseudoRandom(4 << 20, 7);
  std::vector<std::string> whole = ChunksOf(data);
  std::mt19937 rng(8);
  for (int round = 0; round < 4; ++round) {
    std::vector<std::string> chunks;
    StreamChunker chunker({}, &kGear, [&](std::string_view chunk) {
      chunks.emplace_back(chunk);
      return OkStatus();
    });
    size_t pos = 0;
    while (pos < data.size()) {
      // Mostly small pieces, some empty, some larger than max_size.
      size_t limit = round == 0 ? 3 : (round == 1 ? 1000 : (round == 2 ? 70000 : 1200000));
      size_t n = std::min<size_t>(data.size() - pos, rng() % limit);
      ASSERT_TRUE(chunker.Write(std::string_view(data).substr(pos, n)).ok());
      pos += n;
    }
    ASSERT_TRUE(chunker.Finish().ok());
    EXPECT_EQ(chunks, whole) << "round " << round;
  }
}

TEST(ChunkerTest, NextReportsCutsAcrossPieces) {
  ChunkerParams params{256, 1024, 4096};
  std::string data = PseudoRandom(200000, 9);
  std::vector<size_t> expected =
      ReferenceLengths(data, kGear, params, SpreadMask(12), SpreadMask(8));
  Chunker chunker(params, &kGear);
  std::vector<size_t> lengths;
  size_t current = 0;
  std::string_view rest = data;
  while (!rest.empty()) {
    std::string_view piece = rest.substr(0, 777);
    bool cut = false;
    size_t n = chunker.Next(piece, &cut);
    ASSERT_LE(n, piece.size());
    if (!cut) {
      ASSERT_EQ(n, piece.size());
    }
    current += n;
    rest.remove_prefix(n);
    if (cut) {
      lengths.push_back(current);
      current = 0;
    }
  }
  if (current > 0) lengths.push_back(current);
  EXPECT_EQ(lengths, expected);
}

TEST(ChunkerTest, ResetStartsANewChunk) {
  ChunkerParams params{256, 1024, 4096};
  std::string data = PseudoRandom(8192, 10);
  Chunker chunker(params, &kGear);
  bool cut = false;
  EXPECT_EQ(chunker.Next(std::string_view(data).substr(0, 100), &cut), 100u);
  EXPECT_FALSE(cut);
  chunker.Reset();
  Chunker fresh(params, &kGear);
  bool fresh_cut = false;
  EXPECT_EQ(chunker.Next(data, &cut), fresh.Next(data, &fresh_cut));
  EXPECT_EQ(cut, fresh_cut);
}

TEST(ChunkerTest, InsertingBytesUpstreamKeepsLaterBoundaries) {
  std::string data = PseudoRandom(8 << 20, 11);
  std::string edited = data;
  edited.insert(1000, PseudoRandom(100, 12));
  std::vector<std::string> before = ChunksOf(data);
  std::vector<std::string> after = ChunksOf(edited);
  std::set<std::string> ids;
  for (const auto& chunk : before) ids.insert(Sha256(chunk));
  size_t shared = 0;
  for (const auto& chunk : after) shared += ids.count(Sha256(chunk));
  ASSERT_GT(before.size(), 50u);
  EXPECT_GE(shared + 2, before.size());
  EXPECT_GE(shared + 2, after.size());
  // The chunks after the first few are identical and in the same order.
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 2; i < before.size(); ++i) EXPECT_EQ(before[i], after[i]) << i;
}

TEST(ChunkerTest, DeletingBytesKeepsLaterBoundaries) {
  std::string data = PseudoRandom(8 << 20, 13);
  std::string edited = data;
  edited.erase(3 << 20, 5000);
  std::set<std::string> ids;
  std::vector<std::string> before = ChunksOf(data);
  for (const auto& chunk : before) ids.insert(Sha256(chunk));
  std::vector<std::string> after = ChunksOf(edited);
  size_t shared = 0;
  for (const auto& chunk : after) shared += ids.count(Sha256(chunk));
  EXPECT_GE(shared + 3, after.size());
}

TEST(ChunkerTest, AverageSizeOnRandomDataIsNearTheTarget) {
  for (const ChunkerParams& params : {ChunkerParams{}, ChunkerParams{1024, 4096, 32768}}) {
    std::string data = PseudoRandom(32 << 20, 14);
    std::vector<std::string> chunks = ChunksOf(data, params);
    double average = static_cast<double>(data.size()) / static_cast<double>(chunks.size());
    EXPECT_GT(average, 0.7 * params.avg_size) << params.avg_size;
    EXPECT_LT(average, 1.3 * params.avg_size) << params.avg_size;
    size_t at_max = 0;
    for (const auto& chunk : chunks) at_max += chunk.size() == params.max_size;
    EXPECT_LT(at_max, chunks.size() / 50 + 1);  // normalised chunking rarely reaches max
  }
}

TEST(ChunkerTest, AllZeroBytesCutAtMaxSize) {
  ChunkerParams params;
  std::string zeros(5 * params.max_size + 1234, '\0');
  std::vector<size_t> lengths = Lengths(ChunksOf(zeros, params));
  ASSERT_EQ(lengths.size(), 6u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(lengths[i], params.max_size);
  EXPECT_EQ(lengths[5], 1234u);
}

TEST(StreamChunkerTest, EmptyStreamHasNoChunks) {
  EXPECT_TRUE(ChunksOf("").empty());
}

TEST(StreamChunkerTest, ShortStreamIsOneChunk) {
  std::vector<std::string> chunks = ChunksOf("hello");
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0], "hello");
}

TEST(StreamChunkerTest, CountsBytesWritten) {
  StreamChunker chunker({}, &kGear, [](std::string_view) { return OkStatus(); });
  ASSERT_TRUE(chunker.Write("abc").ok());
  ASSERT_TRUE(chunker.Write("").ok());
  ASSERT_TRUE(chunker.Write(std::string(1 << 20, 'x')).ok());
  EXPECT_EQ(chunker.bytes_written(), 3u + (1 << 20));
  ASSERT_TRUE(chunker.Finish().ok());
  EXPECT_EQ(chunker.bytes_written(), 3u + (1 << 20));
}

TEST(StreamChunkerTest, ReusableAfterFinish) {
  std::string data = PseudoRandom(1 << 20, 15);
  std::vector<std::string> chunks;
  StreamChunker chunker({}, &kGear, [&](std::string_view chunk) {
    chunks.emplace_back(chunk);
    return OkStatus();
  });
  ASSERT_TRUE(chunker.Write(std::string_view(data).substr(0, 5000)).ok());
  ASSERT_TRUE(chunker.Finish().ok());
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0], data.substr(0, 5000));
  chunks.clear();
  ASSERT_TRUE(chunker.Write(data).ok());
  ASSERT_TRUE(chunker.Finish().ok());
  EXPECT_EQ(chunks, ChunksOf(data));
}

TEST(StreamChunkerTest, CallbackErrorStopsTheStream) {
  std::string data = PseudoRandom(2 << 20, 16);
  int calls = 0;
  StreamChunker chunker({}, &kGear, [&](std::string_view) {
    ++calls;
    return calls == 2 ? UnavailableError("disk full") : OkStatus();
  });
  Status status = chunker.Write(data);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(chunker.Write("more").code(), StatusCode::kUnavailable);
  EXPECT_EQ(chunker.Finish().code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace lifeboat
