#include "codec/kdf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace lifeboat {
namespace {

constexpr size_t kMaxKeyLength = 4096;

std::string Describe(const ScryptParams& params) {
  return "scrypt parameters N=" + std::to_string(params.n) + " r=" + std::to_string(params.r) +
         " p=" + std::to_string(params.p);
}

}  // namespace

Result<std::string> Scrypt(std::string_view password, std::string_view salt,
                           const ScryptParams& params, size_t key_length) {
  if (params.n < 2 || (params.n & (params.n - 1)) != 0) {
    return InvalidArgumentError(Describe(params) + ": N must be a power of two greater than 1");
  }
  if (params.r == 0 || params.p == 0) {
    return InvalidArgumentError(Describe(params) + ": r and p must be at least 1");
  }
  // RFC 7914: r * p < 2^30, and N < 2^(128 * r / 8).
  if (uint64_t{params.r} * params.p >= (uint64_t{1} << 30)) {
    return InvalidArgumentError(Describe(params) + ": r * p must be less than 2^30");
  }
  if (16 * uint64_t{params.r} < 64 && params.n >= (uint64_t{1} << (16 * params.r))) {
    return InvalidArgumentError(Describe(params) + ": N is too large for r");
  }
  if (key_length == 0 || key_length > kMaxKeyLength) {
    return InvalidArgumentError("scrypt key length " + std::to_string(key_length) +
                                " is outside 1.." + std::to_string(kMaxKeyLength));
  }
  // Memory: the V array (128 * r * N bytes), B (128 * r * p) and scratch (256 * r).
  uint64_t block = 128 * uint64_t{params.r};
  if (params.n > kScryptMaxMemory / block || block * (params.n + params.p + 2) > kScryptMaxMemory) {
    return InvalidArgumentError(Describe(params) + " need more than " +
                                std::to_string(kScryptMaxMemory >> 20) + " MiB of memory");
  }
  // Slack over the computed need, for OpenSSL's own accounting.
  const uint64_t max_memory = kScryptMaxMemory + (uint64_t{1} << 20);
  if (EVP_PBE_scrypt(nullptr, 0, nullptr, 0, params.n, params.r, params.p, max_memory, nullptr,
                     0) != 1) {
    return InvalidArgumentError(Describe(params) + " are rejected by the scrypt implementation");
  }
  std::string key(key_length, '\0');
  if (EVP_PBE_scrypt(password.data(), password.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), params.n,
                     params.r, params.p, max_memory, reinterpret_cast<unsigned char*>(key.data()),
                     key.size()) != 1) {
    OPENSSL_cleanse(key.data(), key.size());
    return InternalError("scrypt key derivation failed (" + Describe(params) + ")");
  }
  return key;
}

}  // namespace lifeboat
