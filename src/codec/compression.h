// Compression of blobs and sealed JSON documents (FORMAT.md §4, §6): Zstandard, and LZ4 for
// blobs when speed matters more than size.
//
// A zstd value is one zstd frame that records its content size. Decompression is bounded by
// the caller's max_size, so a damaged or hostile frame cannot make a reader allocate more than
// the value it expects. An LZ4 value is one LZ4 block, which records no size: its reader
// states the exact size (a blob's raw_length).
//
// Thread-safety: all functions may be called concurrently from any thread; each thread keeps
// its own zstd contexts.
// Ownership: the input is only read during the call; *out is replaced.
// Errors: ZstdDecompress returns DataLoss when the input is not a complete, valid zstd frame
// or would decompress to more than max_size bytes; Lz4Decompress when the input is not a
// valid block of exactly the stated size. The compressors cannot fail.
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

// The same with `prefix` as history the frame refers to (zstd's raw-content prefix, as in
// `zstd --patch-from`): a value that resembles the prefix compresses to little more than its
// differences. The frame decompresses only with the same prefix. Used for delta blobs
// (FORMAT.md §6); the window covers prefix and value (up to 128 MiB together).
void ZstdCompressWithPrefix(std::string_view input, std::string_view prefix, int level,
                            std::string* out);
// DataLoss as ZstdDecompress; also when the frame does not record its content size.
Status ZstdDecompressWithPrefix(std::string_view input, std::string_view prefix, size_t max_size,
                                std::string* out);

// Replaces *out with the LZ4 block of `input` (at most 2^30 bytes). On business rows LZ4
// compresses about 2.5 times as fast as zstd level 1, to 1.6 to 1.8 times the size.
void Lz4Compress(std::string_view input, std::string* out);
// Replaces *out with the `raw_length` bytes the LZ4 block `input` holds.
Status Lz4Decompress(std::string_view input, size_t raw_length, std::string* out);

}  // namespace lifeboat
