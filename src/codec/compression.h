// Zstandard compression of blobs and sealed JSON documents (FORMAT.md §4, §6).
//
// A compressed value is one zstd frame that records its content size. Decompression is bounded
// by the caller's max_size, so a damaged or hostile frame cannot make a reader allocate more
// than the value it expects.
//
// Thread-safety: both functions may be called concurrently from any thread; each thread keeps
// its own compression and decompression contexts.
// Ownership: the input is only read during the call; *out is replaced.
// Errors: ZstdDecompress returns DataLoss when the input is not a complete, valid zstd frame
// or would decompress to more than max_size bytes. ZstdCompress cannot fail.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "lifeboat/status.h"

namespace lifeboat {

// Replaces *out with the zstd frame of `input` at compression `level` (1..19; 3 is the
// repository default).
void ZstdCompress(std::string_view input, int level, std::string* out);

// Replaces *out with the decompressed content of `input`.
Status ZstdDecompress(std::string_view input, size_t max_size, std::string* out);

}  // namespace lifeboat
