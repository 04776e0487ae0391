#include "codec/aead.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

namespace lifeboat {
namespace {

std::string PseudoRandom(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

const std::string kKey = PseudoRandom(Aead::kKeySize, 1);
const std::string kOtherKey = PseudoRandom(Aead::kKeySize, 2);

std::string Seal(const Aead& aead, std::string_view plaintext, std::string_view ad) {
  std::string out;
  aead.Seal(plaintext, ad, &out);
  return out;
}

// Opens with a fresh OpenSSL context, independently of Aead's context reuse.
bool ReferenceOpen(std::string_view key, std::string_view sealed, std::string_view ad,
                   std::string* plaintext) {
  if (sealed.size() < Aead::kOverhead) return false;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  auto u = [](std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  std::string_view ct = sealed.substr(12, sealed.size() - 28);
  std::string tag(sealed.substr(sealed.size() - 16));
  plaintext->assign(ct.size(), '\0');
  int len = 0;
  unsigned char final_block[16];
  bool ok =
      EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, u(key), u(sealed)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag.data()) == 1 &&
      (ad.empty() ||
       EVP_DecryptUpdate(ctx, nullptr, &len, u(ad), static_cast<int>(ad.size())) == 1) &&
      (ct.empty() || EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(plaintext->data()),
                                       &len, u(ct), static_cast<int>(ct.size())) == 1) &&
      EVP_DecryptFinal_ex(ctx, final_block, &len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

TEST(AeadTest, RoundTripsEmptyPlaintext) {
  Aead aead(kKey);
  std::string sealed = Seal(aead, "", "lifeboat:test");
  EXPECT_EQ(sealed.size(), Aead::kOverhead);
  std::string plaintext = "stale";
  ASSERT_TRUE(aead.Open(sealed, "lifeboat:test", &plaintext).ok());
  EXPECT_EQ(plaintext, "");
}

TEST(AeadTest, RoundTripsOneMebibyte) {
  Aead aead(kKey);
  std::string data = PseudoRandom(1 << 20, 3);
  std::string sealed = Seal(aead, data, "lifeboat:blob");
  std::string plaintext;
  ASSERT_TRUE(aead.Open(sealed, "lifeboat:blob", &plaintext).ok());
  EXPECT_EQ(plaintext, data);
}

TEST(AeadTest, OutputIsPlaintextPlusOverhead) {
  Aead aead(kKey);
  EXPECT_EQ(Aead::kOverhead, 28u);
  for (size_t n : {0, 1, 15, 16, 17, 1000, 65536}) {
    EXPECT_EQ(Seal(aead, std::string(n, 'x'), "ad").size(), n + 28) << n;
  }
}

TEST(AeadTest, SealAppendsToOutput) {
  Aead aead(kKey);
  std::string out = "prefix";
  aead.Seal("hello", "ad", &out);
  ASSERT_EQ(out.size(), 6 + 5 + Aead::kOverhead);
  EXPECT_EQ(out.substr(0, 6), "prefix");
  std::string plaintext;
  ASSERT_TRUE(aead.Open(std::string_view(out).substr(6), "ad", &plaintext).ok());
  EXPECT_EQ(plaintext, "hello");
}

TEST(AeadTest, FormatIsNonceCiphertextTag) {
  Aead aead(kKey);
  std::string data = PseudoRandom(5000, 4);
  std::string sealed = Seal(aead, data, "lifeboat:config");
  std::string plaintext;
  ASSERT_TRUE(ReferenceOpen(kKey, sealed, "lifeboat:config", &plaintext));
  EXPECT_EQ(plaintext, data);
}

TEST(AeadTest, TwoSealsOfTheSamePlaintextDiffer) {
  Aead aead(kKey);
  std::string a = Seal(aead, "same", "ad");
  std::string b = Seal(aead, "same", "ad");
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(0, Aead::kNonceSize), b.substr(0, Aead::kNonceSize));
}

TEST(AeadTest, WrongKeyFails) {
  std::string sealed = Seal(Aead(kKey), "secret", "ad");
  std::string plaintext = "stale";
  Status status = Aead(kOtherKey).Open(sealed, "ad", &plaintext);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("authentication failed"), std::string::npos);
  EXPECT_EQ(plaintext, "");
}

TEST(AeadTest, ChangedAssociatedDataFails) {
  Aead aead(kKey);
  std::string sealed = Seal(aead, "secret", "lifeboat:index-footer");
  std::string plaintext;
  EXPECT_EQ(aead.Open(sealed, "lifeboat:pack-header", &plaintext).code(), StatusCode::kDataLoss);
  EXPECT_EQ(aead.Open(sealed, "", &plaintext).code(), StatusCode::kDataLoss);
  EXPECT_TRUE(aead.Open(sealed, "lifeboat:index-footer", &plaintext).ok());
}

TEST(AeadTest, FlippedByteAnywhereFails) {
  Aead aead(kKey);
  std::string sealed = Seal(aead, "the quick brown fox", "ad");
  // Every byte: the nonce, the ciphertext and the tag.
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string damaged = sealed;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
    std::string plaintext;
    EXPECT_EQ(aead.Open(damaged, "ad", &plaintext).code(), StatusCode::kDataLoss) << i;
    EXPECT_TRUE(plaintext.empty()) << i;
  }
}

TEST(AeadTest, TruncatedInputFailsWithDataLoss) {
  Aead aead(kKey);
  std::string sealed = Seal(aead, "some plaintext", "ad");
  for (size_t n : {size_t{0}, size_t{1}, Aead::kOverhead - 1, Aead::kOverhead, sealed.size() - 1}) {
    std::string plaintext;
    Status status = aead.Open(std::string_view(sealed).substr(0, n), "ad", &plaintext);
    EXPECT_EQ(status.code(), StatusCode::kDataLoss) << n;
    EXPECT_NE(status.message().find("authentication failed"), std::string::npos) << n;
  }
}

TEST(AeadTest, OpenWorksAfterAFailedOpen) {
  Aead aead(kKey);
  std::string good = Seal(aead, "good", "ad");
  std::string bad = good;
  bad.back() = static_cast<char>(bad.back() ^ 0x80);
  std::string plaintext;
  EXPECT_FALSE(aead.Open(bad, "ad", &plaintext).ok());
  ASSERT_TRUE(aead.Open(good, "ad", &plaintext).ok());
  EXPECT_EQ(plaintext, "good");
}

TEST(AeadTest, InterleavedKeysOnOneThreadStaySeparate) {
  Aead one(kKey);
  Aead two(kOtherKey);
  for (int i = 0; i < 10; ++i) {
    std::string text = "message " + std::to_string(i);
    std::string a = Seal(one, text, "ad");
    std::string b = Seal(two, text, "ad");
    std::string plaintext;
    ASSERT_TRUE(ReferenceOpen(kKey, a, "ad", &plaintext));
    ASSERT_TRUE(ReferenceOpen(kOtherKey, b, "ad", &plaintext));
    EXPECT_FALSE(two.Open(a, "ad", &plaintext).ok());
    ASSERT_TRUE(one.Open(a, "ad", &plaintext).ok());
    EXPECT_EQ(plaintext, text);
    EXPECT_FALSE(one.Open(b, "ad", &plaintext).ok());
    ASSERT_TRUE(two.Open(b, "ad", &plaintext).ok());
    EXPECT_EQ(plaintext, text);
  }
}

TEST(AeadTest, AnAeadAtAReusedAddressUsesItsOwnKey) {
  std::string sealed;
  {
    Aead first(kKey);
    sealed = Seal(first, "data", "ad");
  }
  // Likely constructed where `first` was; must not inherit its key schedule.
  Aead second(kOtherKey);
  std::string plaintext;
  EXPECT_FALSE(second.Open(sealed, "ad", &plaintext).ok());
  std::string mine = Seal(second, "mine", "ad");
  ASSERT_TRUE(ReferenceOpen(kOtherKey, mine, "ad", &plaintext));
  EXPECT_EQ(plaintext, "mine");
}

TEST(AeadTest, CopyOpensWhatTheOriginalSealed) {
  Aead original(kKey);
  Aead copy = original;
  std::string plaintext;
  ASSERT_TRUE(copy.Open(Seal(original, "x", "ad"), "ad", &plaintext).ok());
  EXPECT_EQ(plaintext, "x");
}

TEST(AeadTest, OpenIntoTheBufferHoldingTheSealedValue) {
  Aead aead(kKey);
  std::string buffer = Seal(aead, "in place", "ad");
  ASSERT_TRUE(aead.Open(buffer, "ad", &buffer).ok());
  EXPECT_EQ(buffer, "in place");
}

TEST(AeadTest, SealFromTheOutputBuffer) {
  Aead aead(kKey);
  std::string buffer = "abcdef";
  aead.Seal(buffer, "ad", &buffer);
  ASSERT_EQ(buffer.size(), 6 + 6 + Aead::kOverhead);
  std::string plaintext;
  ASSERT_TRUE(aead.Open(std::string_view(buffer).substr(6), "ad", &plaintext).ok());
  EXPECT_EQ(plaintext, "abcdef");
}

TEST(AeadTest, ConcurrentSealAndOpenWithSeveralKeys) {
  std::vector<Aead> aeads;
  for (uint32_t i = 0; i < 3; ++i) aeads.emplace_back(PseudoRandom(Aead::kKeySize, 10 + i));
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const Aead& aead = aeads[static_cast<size_t>(i + t) % aeads.size()];
        const Aead& other = aeads[static_cast<size_t>(i + t + 1) % aeads.size()];
        std::string text = PseudoRandom(static_cast<size_t>(i) * 31, static_cast<uint32_t>(i));
        std::string sealed;
        aead.Seal(text, "ad", &sealed);
        std::string plaintext;
        if (!aead.Open(sealed, "ad", &plaintext).ok() || plaintext != text) ++failures[t];
        if (other.Open(sealed, "ad", &plaintext).ok()) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace lifeboat
