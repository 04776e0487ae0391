// Scrypt: the password-based key derivation of password slots (FORMAT.md §2).
//
// The key-encryption key of a slot is scrypt(password, salt, N, r, p), 32 bytes. The defaults
// (N = 2^15, r = 8, p = 1) cost about 32 MiB of memory and 0.1 s. Parameters are read from
// slots, which anyone with access to the store can write, so they are checked and the memory
// scrypt may use is capped at kScryptMaxMemory.
//
// Thread-safety: Scrypt may be called concurrently from any thread.
// Ownership: the password and salt are only read during the call.
// Errors: InvalidArgument for parameters outside RFC 7914 or beyond the memory cap; Internal if
// the library fails otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lifeboat/status.h"

namespace lifeboat {

struct ScryptParams {
  uint64_t n = 32768;  // CPU/memory cost, a power of two greater than 1
  uint32_t r = 8;      // block size
  uint32_t p = 1;      // parallelism
};

// The most memory one derivation may use: 128 * r * (n + p + 2) bytes must fit.
constexpr uint64_t kScryptMaxMemory = uint64_t{256} << 20;

// Derives `key_length` bytes (1 to 4096).
Result<std::string> Scrypt(std::string_view password, std::string_view salt,
                           const ScryptParams& params, size_t key_length);

}  // namespace lifeboat
