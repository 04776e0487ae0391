// SHA-256 and HMAC-SHA-256: the hashes behind every id in a repository (FORMAT.md §1, §5).
//
// Pack, index and snapshot ids are the SHA-256 of the object (Sha256, Sha256Hasher). Blob ids
// are HMAC-SHA-256 of the plaintext under the repository's id key (Hmac256), and the chunker's
// gear table is derived with HMAC-SHA-256 under the chunker key (FORMAT.md §5). Digests are
// kHashSize raw bytes; use ToHex (base/encoding.h) for names and JSON.
//
// Thread-safety: Sha256 and HmacSha256 are pure functions. A Sha256Hasher is used by one
// thread at a time. An Hmac256 is immutable after construction: Compute() may be called
// concurrently from any number of threads, and copies share the prepared key state.
// Ownership: nothing is borrowed past a call. Errors: none; these cannot fail.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace lifeboat {

constexpr size_t kHashSize = 32;

// The SHA-256 digest of `data`, 32 raw bytes.
std::string Sha256(std::string_view data);

// SHA-256 over data fed in pieces; Finish() returns the same digest Sha256() would give for
// the concatenation of every Update().
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view data);
  // Returns the digest (32 raw bytes) and starts over, so the hasher may be reused.
  std::string Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// HMAC-SHA-256 under one key. The inner and outer padded key blocks are hashed once, here;
// Compute() only copies those prepared states, so it costs no more than hashing `data`.
class Hmac256 {
 public:
  explicit Hmac256(std::string_view key);

  // HMAC-SHA-256(key, data), 32 raw bytes.
  std::string Compute(std::string_view data) const;

 private:
  struct State;
  std::shared_ptr<const State> state_;
};

// One-shot HMAC-SHA-256(key, data), 32 raw bytes. Prefer Hmac256 for many messages.
std::string HmacSha256(std::string_view key, std::string_view data);

}  // namespace lifeboat
