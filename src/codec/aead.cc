#include "codec/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>

namespace lifeboat {
namespace {

// EVP lengths are ints; larger values are fed in pieces of this size.
constexpr size_t kMaxPiece = size_t{1} << 30;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "lifeboat: fatal: AES-256-GCM %s failed\n", what);
  std::abort();
}

const EVP_CIPHER* Cipher() {
  // Fetched once: an explicit fetch spares every context initialisation the lookup.
  static const EVP_CIPHER* cipher = [] {
    EVP_CIPHER* fetched = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return fetched != nullptr ? fetched : EVP_aes_256_gcm();
  }();
  return cipher;
}

uint64_t NextKeyId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// A cipher context per thread and direction. It keeps the key schedule of the Aead that used
// it last (named by its key id), so a run of calls with one key only sets a new nonce.
class CachedContext {
 public:
  CachedContext() = default;
  CachedContext(const CachedContext&) = delete;
  CachedContext& operator=(const CachedContext&) = delete;
  ~CachedContext() { EVP_CIPHER_CTX_free(ctx_); }

  // Returns a context ready for `nonce` under `key`, or nullptr if OpenSSL fails.
  EVP_CIPHER_CTX* Prepare(const uint8_t* key, uint64_t key_id, const uint8_t* nonce, int enc) {
    if (ctx_ == nullptr) {
      ctx_ = EVP_CIPHER_CTX_new();
      if (ctx_ == nullptr) return nullptr;
    }
    if (key_id_ == key_id) {
      if (EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, nonce, enc) == 1) return ctx_;
    } else if (EVP_CipherInit_ex(ctx_, Cipher(), nullptr, key, nonce, enc) == 1) {
      key_id_ = key_id;
      return ctx_;
    }
    Forget();
    return nullptr;
  }

  // Drops the context, so the next call starts from a fresh one.
  void Forget() {
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = nullptr;
    key_id_ = 0;
  }

 private:
  EVP_CIPHER_CTX* ctx_ = nullptr;
  uint64_t key_id_ = 0;  // 0: no key loaded
};

thread_local CachedContext seal_context;
thread_local CachedContext open_context;

bool AddAssociatedData(EVP_CIPHER_CTX* ctx, std::string_view ad) {
  while (!ad.empty()) {
    size_t n = std::min(ad.size(), kMaxPiece);
    int len = 0;
    if (EVP_CipherUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(ad.data()),
                         static_cast<int>(n)) != 1) {
      return false;
    }
    ad.remove_prefix(n);
  }
  return true;
}

bool Transform(EVP_CIPHER_CTX* ctx, std::string_view in, unsigned char* out) {
  while (!in.empty()) {
    size_t n = std::min(in.size(), kMaxPiece);
    int len = 0;
    if (EVP_CipherUpdate(ctx, out, &len, reinterpret_cast<const unsigned char*>(in.data()),
                         static_cast<int>(n)) != 1 ||
        static_cast<size_t>(len) != n) {
      return false;
    }
    in.remove_prefix(n);
    out += n;
  }
  return true;
}

// Whether `view` points into the buffer of `s` (so resizing `s` would invalidate it).
bool Overlaps(std::string_view view, const std::string& s) {
  std::less<const char*> less;
  return !view.empty() && !less(view.data(), s.data()) &&
         less(view.data(), s.data() + s.capacity());
}

}  // namespace

Aead::Aead(std::string_view key) : key_id_(NextKeyId()) {
  assert(key.size() == kKeySize && "AES-256-GCM needs a 32-byte key");
  std::memcpy(key_.data(), key.data(), std::min(key.size(), kKeySize));
}

Aead::~Aead() {
  OPENSSL_cleanse(key_.data(), key_.size());
}

Aead::Aead(const Aead& other) = default;
Aead& Aead::operator=(const Aead& other) = default;

void Aead::Seal(std::string_view plaintext, std::string_view associated_data,
                std::string* out) const {
  std::string copy;
  if (Overlaps(plaintext, *out)) {
    copy.assign(plaintext);
    plaintext = copy;
  }
  std::string ad_copy;
  if (Overlaps(associated_data, *out)) {
    ad_copy.assign(associated_data);
    associated_data = ad_copy;
  }
  size_t start = out->size();
  out->resize(start + plaintext.size() + kOverhead);
  auto* nonce = reinterpret_cast<unsigned char*>(out->data() + start);
  unsigned char* ciphertext = nonce + kNonceSize;
  unsigned char* tag = ciphertext + plaintext.size();
  if (RAND_bytes(nonce, static_cast<int>(kNonceSize)) != 1) Die("nonce generation");

  EVP_CIPHER_CTX* ctx = seal_context.Prepare(key_.data(), key_id_, nonce, /*enc=*/1);
  if (ctx == nullptr) Die("initialisation");
  int len = 0;
  if (!AddAssociatedData(ctx, associated_data) || !Transform(ctx, plaintext, ciphertext) ||
      EVP_EncryptFinal_ex(ctx, tag, &len) != 1 || len != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize), tag) != 1) {
    Die("encryption");
  }
}

Status Aead::Open(std::string_view sealed, std::string_view associated_data,
                  std::string* plaintext) const {
  if (sealed.size() < kOverhead) {
    plaintext->clear();
    return DataLossError("authentication failed: sealed value is " + std::to_string(sealed.size()) +
                         " bytes, shorter than the " + std::to_string(kOverhead) +
                         "-byte nonce and tag");
  }
  std::string temp;
  std::string* out = plaintext;
  if (Overlaps(sealed, *plaintext) || Overlaps(associated_data, *plaintext)) out = &temp;

  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string_view ciphertext = sealed.substr(kNonceSize, sealed.size() - kOverhead);
  std::string_view tag = sealed.substr(sealed.size() - kTagSize);
  out->resize(ciphertext.size());

  EVP_CIPHER_CTX* ctx = open_context.Prepare(key_.data(), key_id_, nonce, /*enc=*/0);
  if (ctx == nullptr) Die("initialisation");
  int len = 0;
  bool ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize),
                                const_cast<char*>(tag.data())) == 1 &&
            AddAssociatedData(ctx, associated_data) &&
            Transform(ctx, ciphertext, reinterpret_cast<unsigned char*>(out->data())) &&
            EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out->data()) + out->size(),
                                &len) == 1 &&
            len == 0;
  if (!ok) {
    OPENSSL_cleanse(out->data(), out->size());
    out->clear();
    plaintext->clear();
    return DataLossError("authentication failed: wrong key, or the value was damaged or moved");
  }
  if (out != plaintext) *plaintext = std::move(temp);
  return OkStatus();
}

}  // namespace lifeboat
