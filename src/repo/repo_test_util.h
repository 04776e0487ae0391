// Helpers shared by the repo layer's unit tests: a repository in memory with cheap KDF
// parameters, so tests run in milliseconds.
#pragma once

#include <memory>
#include <string>

#include "base/clock.h"
#include "repo/repository.h"
#include "storage/memory_object_store.h"

namespace lifeboat::testing {

inline RepositoryOptions FastRepositoryOptions() {
  RepositoryOptions options;
  options.kdf = ScryptParams{1024, 8, 1};
  options.pack_size = 256 * 1024;  // small packs, so tests see several
  return options;
}

inline KeySlotInfo TestSlotInfo() {
  return KeySlotInfo{"tester", "testhost", 0};
}

// Deterministic bytes that compress about 2:1, so compression paths are exercised.
inline std::string TestBytes(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = (i % 2 == 0) ? static_cast<char>(x) : static_cast<char>('a' + (x >> 60));
  }
  return out;
}

}  // namespace lifeboat::testing
