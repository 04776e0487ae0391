#include "codec/compression.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <random>
#include <string>

namespace lifeboat {
namespace {

std::string PseudoRandom(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// Text-like data that compresses about 3:1.
std::string Compressible(size_t n) {
  std::mt19937 rng(5);
  static const char* const kWords[] = {"lifeboat ", "backup ", "table ", "row ", "snapshot ",
                                       "chunk ",    "pack ",   "index ", "42 ",  "\n"};
  std::string out;
  while (out.size() < n) out += kWords[rng() % 10];
  out.resize(n);
  return out;
}

// A frame that does not state its content size, as a streaming compressor writes it.
std::string FrameWithoutContentSize(std::string_view input) {
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_contentSizeFlag, 0);
  std::string out(ZSTD_compressBound(input.size()) + 64, '\0');
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  ZSTD_outBuffer buffer{out.data(), out.size(), 0};
  while (ZSTD_compressStream2(ctx, &buffer, &in, ZSTD_e_end) != 0) {
  }
  ZSTD_freeCCtx(ctx);
  out.resize(buffer.pos);
  return out;
}

TEST(ZstdTest, RoundTripsVariousInputs) {
  for (const std::string& input : {std::string(), std::string("a"), Compressible(1 << 20),
                                   PseudoRandom(100000, 1), std::string(3 << 20, '\0')}) {
    std::string compressed;
    ZstdCompress(input, 3, &compressed);
    std::string output = "stale";
    ASSERT_TRUE(ZstdDecompress(compressed, input.size(), &output).ok()) << input.size();
    EXPECT_EQ(output, input);
  }
}

TEST(ZstdTest, CompressesRedundantData) {
  std::string input = Compressible(1 << 20);
  std::string compressed;
  ZstdCompress(input, 3, &compressed);
  EXPECT_LT(compressed.size(), input.size() / 2);
  EXPECT_EQ(ZSTD_getFrameContentSize(compressed.data(), compressed.size()), input.size());
}

TEST(ZstdTest, CompressReplacesOutput) {
  std::string compressed = "previous content";
  ZstdCompress("x", 3, &compressed);
  std::string output;
  ASSERT_TRUE(ZstdDecompress(compressed, 10, &output).ok());
  EXPECT_EQ(output, "x");
}

TEST(ZstdTest, HigherLevelsRoundTrip) {
  std::string input = Compressible(200000);
  for (int level : {1, 3, 9, 19}) {
    std::string compressed;
    ZstdCompress(input, level, &compressed);
    std::string output;
    ASSERT_TRUE(ZstdDecompress(compressed, input.size(), &output).ok()) << level;
    EXPECT_EQ(output, input);
  }
}

TEST(ZstdTest, CorruptFrameIsDataLoss) {
  std::string input = Compressible(100000);
  std::string compressed;
  ZstdCompress(input, 3, &compressed);
  std::string damaged = compressed;
  for (size_t i = 20; i < damaged.size(); i += 7) damaged[i] = static_cast<char>(~damaged[i]);
  std::string output;
  EXPECT_EQ(ZstdDecompress(damaged, input.size(), &output).code(), StatusCode::kDataLoss);
  EXPECT_EQ(ZstdDecompress("not zstd at all", 1000, &output).code(), StatusCode::kDataLoss);
  EXPECT_EQ(ZstdDecompress("", 1000, &output).code(), StatusCode::kDataLoss);
}

TEST(ZstdTest, TruncatedFrameIsDataLoss) {
  std::string input = PseudoRandom(50000, 2);
  for (const std::string& compressed : {std::string(), FrameWithoutContentSize(input)}) {
    std::string frame = compressed;
    if (frame.empty()) ZstdCompress(input, 3, &frame);
    for (size_t n : {size_t{3}, frame.size() / 2, frame.size() - 1}) {
      std::string output;
      EXPECT_EQ(ZstdDecompress(std::string_view(frame).substr(0, n), 1 << 20, &output).code(),
                StatusCode::kDataLoss)
          << n;
    }
  }
}

TEST(ZstdTest, TrailingGarbageIsDataLoss) {
  std::string compressed;
  ZstdCompress("payload", 3, &compressed);
  std::string output;
  EXPECT_EQ(ZstdDecompress(compressed + "junk!", 100, &output).code(), StatusCode::kDataLoss);
}

TEST(ZstdTest, ExceedingMaxSizeIsDataLoss) {
  std::string input = Compressible(100000);
  std::string compressed;
  ZstdCompress(input, 3, &compressed);
  std::string output;
  Status status = ZstdDecompress(compressed, input.size() - 1, &output);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find(std::to_string(input.size() - 1)), std::string::npos);
  EXPECT_TRUE(output.empty());
  EXPECT_TRUE(ZstdDecompress(compressed, input.size(), &output).ok());
}

TEST(ZstdTest, ExceedingMaxSizeWithoutStatedSizeIsDataLoss) {
  std::string input(10 << 20, 'z');  // compresses to a few hundred bytes
  std::string frame = FrameWithoutContentSize(input);
  ASSERT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  std::string output;
  EXPECT_EQ(ZstdDecompress(frame, 1 << 20, &output).code(), StatusCode::kDataLoss);
  EXPECT_EQ(ZstdDecompress(frame, input.size() - 1, &output).code(), StatusCode::kDataLoss);
  ASSERT_TRUE(ZstdDecompress(frame, input.size(), &output).ok());
  EXPECT_EQ(output, input);
}

TEST(ZstdTest, ConcatenatedFramesDecodeToTheConcatenation) {
  std::string a;
  std::string b;
  ZstdCompress("first ", 3, &a);
  ZstdCompress("second", 3, &b);
  std::string output;
  ASSERT_TRUE(ZstdDecompress(a + b, 100, &output).ok());
  EXPECT_EQ(output, "first second");
  EXPECT_EQ(ZstdDecompress(a + b, 11, &output).code(), StatusCode::kDataLoss);
}

TEST(ZstdPrefixTest, ASimilarValueCompressesToItsDifferences) {
  const std::string base = PseudoRandom(64 << 10, 11);
  std::string changed = base;
  changed.erase(20000, 700);              // a row removed
  changed.replace(40000, 5, "EDITED");    // a row edited
  changed.append(PseudoRandom(300, 12));  // a row appended
  std::string alone, delta, back;
  ZstdCompress(changed, 3, &alone);
  ZstdCompressWithPrefix(changed, base, 3, &delta);
  EXPECT_GT(alone.size(), changed.size() * 9 / 10) << "random bytes do not compress alone";
  EXPECT_LT(delta.size(), 1200u) << "against its base it is little more than the edits";
  ASSERT_TRUE(ZstdDecompressWithPrefix(delta, base, changed.size(), &back).ok());
  EXPECT_EQ(back, changed);
}

TEST(ZstdPrefixTest, ThePrefixIsNeededToDecode) {
  const std::string base = Compressible(100000);
  const std::string value = base.substr(500, 90000) + "tail";
  std::string delta, back;
  ZstdCompressWithPrefix(value, base, 3, &delta);
  Status wrong = ZstdDecompressWithPrefix(delta, PseudoRandom(100000, 3), value.size(), &back);
  EXPECT_TRUE(!wrong.ok() || back != value);
  EXPECT_FALSE(ZstdDecompress(delta, value.size(), &back).ok() && back == value);
  EXPECT_EQ(ZstdDecompressWithPrefix(delta, base, value.size() - 1, &back).code(),
            StatusCode::kDataLoss)
      << "max_size still bounds the output";
}

TEST(Lz4Test, RoundTripsVariousInputs) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{65536}, size_t{1} << 20}) {
    for (const std::string& input : {PseudoRandom(n, 7), Compressible(n)}) {
      std::string block, output;
      Lz4Compress(input, &block);
      ASSERT_TRUE(Lz4Decompress(block, input.size(), &output).ok()) << n;
      EXPECT_EQ(output, input) << n;
    }
  }
}

TEST(Lz4Test, CompressesRedundantDataLessThanZstdButStillWell) {
  const std::string input = Compressible(1 << 20);
  std::string lz4, zstd;
  Lz4Compress(input, &lz4);
  ZstdCompress(input, 3, &zstd);
  EXPECT_LT(lz4.size(), input.size() / 2);
  EXPECT_LT(zstd.size(), lz4.size());
}

TEST(Lz4Test, TheStatedSizeMustBeExact) {
  const std::string input = Compressible(10000);
  std::string block, output = "stale";
  Lz4Compress(input, &block);
  Status shorter = Lz4Decompress(block, input.size() - 1, &output);
  EXPECT_EQ(shorter.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(output.empty()) << "nothing partial is handed back";
  Status longer = Lz4Decompress(block, input.size() + 1, &output);
  EXPECT_EQ(longer.code(), StatusCode::kDataLoss);
  EXPECT_NE(longer.message().find("not the 10001 expected"), std::string::npos) << longer.message();
}

TEST(Lz4Test, DamagedOrTruncatedBlockIsDataLoss) {
  const std::string input = Compressible(50000);
  std::string block, output;
  Lz4Compress(input, &block);
  for (size_t n : {size_t{0}, size_t{1}, block.size() / 2, block.size() - 1}) {
    Status status = Lz4Decompress(std::string_view(block).substr(0, n), input.size(), &output);
    EXPECT_EQ(status.code(), StatusCode::kDataLoss) << n;
  }
  std::string damaged = block;
  damaged[damaged.size() / 3] ^= 0x5a;
  damaged[damaged.size() / 2] ^= 0xa5;
  Status status = Lz4Decompress(damaged, input.size(), &output);
  EXPECT_TRUE(!status.ok() || output != input) << "a damaged block never passes for the input";
  EXPECT_EQ(Lz4Decompress("not an lz4 block at all", 1000, &output).code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace lifeboat
