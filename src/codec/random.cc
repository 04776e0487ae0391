#include "codec/random.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace lifeboat {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  constexpr size_t kMaxPiece = size_t{1} << 30;
  for (size_t done = 0; done < n;) {
    size_t piece = std::min(n - done, kMaxPiece);
    if (RAND_bytes(p + done, static_cast<int>(piece)) != 1) {
      std::fprintf(stderr, "lifeboat: fatal: the random number generator failed\n");
      std::abort();
    }
    done += piece;
  }
  return out;
}

}  // namespace lifeboat
