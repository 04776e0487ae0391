#include "codec/hash.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/encoding.h"

namespace lifeboat {
namespace {

std::string Hex(std::string_view bytes) {
  return ToHex(bytes);
}

std::string PseudoRandom(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// HMAC-SHA-256 by OpenSSL's own HMAC(), as an independent reference.
std::string ReferenceHmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

TEST(Sha256Test, MatchesFips180Vectors) {
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Hex(Sha256(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, DigestIsThirtyTwoBytes) {
  EXPECT_EQ(Sha256("x").size(), kHashSize);
}

TEST(Sha256HasherTest, IncrementalEqualsOneShot) {
  std::string data = PseudoRandom(300000, 1);
  std::mt19937 rng(2);
  for (int round = 0; round < 20; ++round) {
    Sha256Hasher hasher;
    size_t pos = 0;
    while (pos < data.size()) {
      size_t n = std::min<size_t>(data.size() - pos, rng() % 5000);
      hasher.Update(std::string_view(data).substr(pos, n));
      pos += n;
    }
    EXPECT_EQ(hasher.Finish(), Sha256(data)) << "round " << round;
  }
}

TEST(Sha256HasherTest, FinishStartsOver) {
  Sha256Hasher hasher;
  hasher.Update("ab");
  hasher.Update("c");
  EXPECT_EQ(hasher.Finish(), Sha256("abc"));
  EXPECT_EQ(hasher.Finish(), Sha256(""));
  hasher.Update("abc");
  EXPECT_EQ(hasher.Finish(), Sha256("abc"));
}

TEST(HmacSha256Test, MatchesRfc4231Case1) {
  EXPECT_EQ(Hex(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256Test, MatchesRfc4231Case2) {
  EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, MatchesRfc4231Case6KeyLongerThanBlock) {
  EXPECT_EQ(Hex(HmacSha256(std::string(131, '\xaa'),
                           "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Hmac256Test, EqualsOneShotAndReferenceOnManySizes) {
  for (size_t key_size : {0, 1, 32, 63, 64, 65, 200}) {
    std::string key = PseudoRandom(key_size, static_cast<uint32_t>(key_size) + 7);
    Hmac256 hmac(key);
    for (size_t n : {0, 1, 31, 55, 56, 63, 64, 65, 127, 128, 1000, 65536, 65537, 300001}) {
      std::string data = PseudoRandom(n, static_cast<uint32_t>(n));
      std::string mac = hmac.Compute(data);
      EXPECT_EQ(mac.size(), kHashSize);
      EXPECT_EQ(mac, HmacSha256(key, data)) << "key " << key_size << " data " << n;
      EXPECT_EQ(mac, ReferenceHmac(key, data)) << "key " << key_size << " data " << n;
    }
  }
}

TEST(Hmac256Test, RepeatedComputeIsStable) {
  Hmac256 hmac("key");
  std::string first = hmac.Compute("message");
  EXPECT_EQ(hmac.Compute("other"), HmacSha256("key", "other"));
  EXPECT_EQ(hmac.Compute("message"), first);
}

TEST(Hmac256Test, DifferentKeysGiveDifferentMacs) {
  EXPECT_NE(Hmac256("key one").Compute("data"), Hmac256("key two").Compute("data"));
}

TEST(Hmac256Test, CopiesComputeTheSame) {
  Hmac256 original("shared key");
  Hmac256 copy = original;
  EXPECT_EQ(copy.Compute("data"), original.Compute("data"));
  EXPECT_EQ(copy.Compute("data"), HmacSha256("shared key", "data"));
}

TEST(Hmac256Test, ConcurrentComputeMatchesSerial) {
  Hmac256 hmac(PseudoRandom(32, 99));
  std::vector<std::string> inputs;
  std::vector<std::string> expected;
  for (int i = 0; i < 64; ++i) {
    inputs.push_back(PseudoRandom(static_cast<size_t>(i) * 977, static_cast<uint32_t>(i)));
    expected.push_back(hmac.Compute(inputs.back()));
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < inputs.size(); ++i) {
          if (hmac.Compute(inputs[i]) != expected[i]) ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace lifeboat
