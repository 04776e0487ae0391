// Aead: authenticated encryption of everything a repository keeps sealed (FORMAT.md §4).
//
// seal(key, plaintext, ad) = nonce (12 random bytes) || AES-256-GCM ciphertext || tag (16).
// The associated data binds a sealed value to its role ("lifeboat:config", "lifeboat:blob" ||
// id, ...), so a value cannot be moved to another place without failing to open.
//
// Thread-safety: an Aead is immutable after construction; Seal() and Open() may be called
// concurrently from any number of threads. Each thread keeps its own cipher context.
// Ownership: the key is copied in and wiped when the Aead is destroyed.
// Errors: Open() returns DataLoss ("authentication failed: ...") for a value that is too short
// or does not authenticate (wrong key, wrong associated data, damaged bytes); callers add which
// object it was. Seal() cannot fail.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lifeboat/status.h"

namespace lifeboat {

class Aead {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;
  static constexpr size_t kOverhead = kNonceSize + kTagSize;  // 28

  // `key` must be kKeySize bytes (asserted).
  explicit Aead(std::string_view key);
  ~Aead();
  Aead(const Aead& other);
  Aead& operator=(const Aead& other);

  // Appends seal(key, plaintext, associated_data) to *out: plaintext.size() + kOverhead bytes.
  void Seal(std::string_view plaintext, std::string_view associated_data, std::string* out) const;

  // Replaces *plaintext with the opened value of `sealed`. On failure *plaintext is empty.
  Status Open(std::string_view sealed, std::string_view associated_data,
              std::string* plaintext) const;

 private:
  std::array<uint8_t, kKeySize> key_{};
  // Identifies this key for the per-thread cipher context cache; unique per process.
  uint64_t key_id_;
};

}  // namespace lifeboat
