// RandomBytes: cryptographically secure random bytes for keys, salts, nonces and object names
// (FORMAT.md §1-§4), from OpenSSL's DRBG seeded by the operating system.
//
// Thread-safety: may be called concurrently from any thread.
// Ownership: the caller owns the returned bytes.
// Errors: none returned. If the generator fails (it cannot on a working Linux system) the
// process aborts, since continuing with weak randomness would be worse.
#pragma once

#include <cstddef>
#include <string>

namespace lifeboat {

// `n` random bytes.
std::string RandomBytes(size_t n);

}  // namespace lifeboat
