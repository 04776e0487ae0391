// The low-level SHA256_* interface is deprecated in OpenSSL 3.0 but remains supported. It is
// used here because its context is a plain value: an HMAC key schedule is prepared once and
// copied per message with no allocation, which the EVP interface cannot do.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "codec/hash.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdint>

namespace lifeboat {
namespace {

constexpr size_t kBlockSize = SHA256_CBLOCK;  // 64
static_assert(SHA256_DIGEST_LENGTH == kHashSize);

void HashUpdate(SHA256_CTX* ctx, std::string_view data) {
  if (!data.empty()) SHA256_Update(ctx, data.data(), data.size());
}

}  // namespace

std::string Sha256(std::string_view data) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  HashUpdate(&ctx, data);
  std::string out(kHashSize, '\0');
  SHA256_Final(reinterpret_cast<unsigned char*>(out.data()), &ctx);
  OPENSSL_cleanse(&ctx, sizeof(ctx));
  return out;
}

struct Sha256Hasher::State {
  SHA256_CTX ctx;
};

Sha256Hasher::Sha256Hasher() : state_(std::make_unique<State>()) {
  SHA256_Init(&state_->ctx);
}

Sha256Hasher::~Sha256Hasher() {
  OPENSSL_cleanse(&state_->ctx, sizeof(state_->ctx));
}

void Sha256Hasher::Update(std::string_view data) {
  HashUpdate(&state_->ctx, data);
}

std::string Sha256Hasher::Finish() {
  std::string out(kHashSize, '\0');
  SHA256_Final(reinterpret_cast<unsigned char*>(out.data()), &state_->ctx);
  SHA256_Init(&state_->ctx);
  return out;
}

// SHA-256 states after absorbing (key ^ ipad) and (key ^ opad), RFC 2104.
struct Hmac256::State {
  SHA256_CTX inner;
  SHA256_CTX outer;
  ~State() {
    OPENSSL_cleanse(&inner, sizeof(inner));
    OPENSSL_cleanse(&outer, sizeof(outer));
  }
};

Hmac256::Hmac256(std::string_view key) {
  unsigned char block[kBlockSize] = {};
  if (key.size() > kBlockSize) {
    std::string digest = Sha256(key);
    std::copy(digest.begin(), digest.end(), block);
    OPENSSL_cleanse(digest.data(), digest.size());
  } else {
    std::copy(key.begin(), key.end(), block);
  }
  auto state = std::make_shared<State>();
  unsigned char pad[kBlockSize];
  for (size_t i = 0; i < kBlockSize; ++i) pad[i] = block[i] ^ 0x36;
  SHA256_Init(&state->inner);
  SHA256_Update(&state->inner, pad, kBlockSize);
  for (size_t i = 0; i < kBlockSize; ++i) pad[i] = block[i] ^ 0x5c;
  SHA256_Init(&state->outer);
  SHA256_Update(&state->outer, pad, kBlockSize);
  OPENSSL_cleanse(pad, sizeof(pad));
  OPENSSL_cleanse(block, sizeof(block));
  state_ = std::move(state);
}

std::string Hmac256::Compute(std::string_view data) const {
  unsigned char inner_digest[kHashSize];
  SHA256_CTX ctx = state_->inner;
  HashUpdate(&ctx, data);
  SHA256_Final(inner_digest, &ctx);
  ctx = state_->outer;
  SHA256_Update(&ctx, inner_digest, kHashSize);
  std::string out(kHashSize, '\0');
  SHA256_Final(reinterpret_cast<unsigned char*>(out.data()), &ctx);
  OPENSSL_cleanse(&ctx, sizeof(ctx));
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  return Hmac256(key).Compute(data);
}

}  // namespace lifeboat
