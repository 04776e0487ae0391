// Content-defined chunking (FastCDC with normalised chunking), FORMAT.md §5.
//
// A stream is cut into chunks at points chosen by its content, so inserting or deleting bytes
// moves only the cuts near the change and the rest of the stream deduplicates against earlier
// backups. The rolling hash is a 64-bit gear hash whose table is derived from the repository's
// chunker key (GearTable), so cut points do not reveal content across repositories.
//
//   GearTable      the 256 keyed gear values; immutable, shareable between threads.
//   Chunker        finds cut points in bytes fed in arbitrary pieces; holds no data.
//   StreamChunker  a ByteSink that buffers at most max_size bytes and hands each complete
//                  chunk to a callback.
//
// Thread-safety: a GearTable may be read from any number of threads. A Chunker or
// StreamChunker is used by one thread at a time.
// Ownership: Chunker and StreamChunker borrow the GearTable, which must outlive them.
// Errors: invalid parameters are reported by ValidateChunkerParams (constructors assert
// valid ones); StreamChunker passes on the first error of its callback.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/byte_stream.h"
#include "lifeboat/status.h"

namespace lifeboat {

// Chunk sizes in bytes. The defaults are the repository defaults (FORMAT.md §3).
struct ChunkerParams {
  uint32_t min_size = 16384;
  uint32_t avg_size = 65536;
  uint32_t max_size = 524288;
};

// OK when 64 <= min_size < avg_size < max_size <= 64 MiB and avg_size is a power of two
// between 256 and 16 MiB; InvalidArgument naming the offending value otherwise.
Status ValidateChunkerParams(const ChunkerParams& params);

// gear[i] = the first 8 bytes, little-endian, of HMAC-SHA-256(chunker key, "gear" || byte i).
class GearTable {
 public:
  static GearTable FromKey(std::string_view chunker_key);
  uint64_t operator[](uint8_t b) const { return t_[b]; }

 private:
  GearTable() = default;
  std::array<uint64_t, 256> t_;
};

class Chunker {
 public:
  Chunker(const ChunkerParams& params, const GearTable* gear);

  // Scans `data` as the continuation of the current chunk. Returns how many bytes of `data`
  // belong to the current chunk; sets *cut to true if the chunk ends exactly after those bytes
  // (the state is then reset for the next chunk), or to false if all of `data` was consumed
  // without a cut.
  size_t Next(std::string_view data, bool* cut);

  // Forgets the current chunk; the next byte starts a new one.
  void Reset();

 private:
  // The cut masks for an average size of 2^avg_bits (FORMAT.md §5).
  static uint64_t MaskS(int avg_bits);
  static uint64_t MaskL(int avg_bits);

  const GearTable* gear_;
  uint32_t min_size_;
  uint32_t avg_size_;
  uint32_t max_size_;
  uint64_t mask_s_;
  uint64_t mask_l_;
  uint32_t pos_ = 0;   // bytes of the current chunk seen so far
  uint64_t hash_ = 0;  // gear hash over the current chunk's bytes from offset min_size
};

// Cuts a stream into chunks and hands each to `on_chunk`, in order. Chunks are passed as views
// valid only during the call. At most max_size bytes are buffered.
class StreamChunker : public ByteSink {
 public:
  using ChunkFn = std::function<Status(std::string_view chunk)>;

  StreamChunker(const ChunkerParams& params, const GearTable* gear, ChunkFn on_chunk);

  // Fails with the callback's error; after an error every later call returns it again.
  Status Write(std::string_view data) override;

  // Emits the final partial chunk (if non-empty). The chunker may then be reused for a new
  // stream.
  Status Finish();

  // Bytes passed to Write() since construction, over all streams.
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  Status Emit(std::string_view chunk);

  Chunker chunker_;
  ChunkFn on_chunk_;
  uint32_t max_size_;
  std::string buffer_;  // the current chunk's bytes, when it spans several writes
  uint64_t bytes_written_ = 0;
  Status error_;
};

}  // namespace lifeboat
