// Packs: files of sealed blobs with a sealed header that lists them (FORMAT.md §6).
//
// PackWriter collects sealed blobs in memory up to the pack size (16 MiB) and produces the
// pack's bytes; the repository writes them whole under `data/<xx>/<SHA-256 of the bytes>`.
// ReadPackHeader recovers the list of blobs from a pack alone, which is what lets `check`
// and index repair work without any index.
//
// Thread-safety: PackWriter is not thread-safe (the repository serialises access); the free
// functions are. Errors: DataLoss naming the pack for a bad magic, a short object or a
// header that fails authentication.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/aligned_string.h"
#include "base/buffer_pool.h"
#include "codec/aead.h"
#include "lifeboat/status.h"
#include "repo/blob_store.h"
#include "storage/object_store.h"

namespace lifeboat {

inline constexpr char kPackMagic[] = "LBP1";  // FORMAT.md §6
inline constexpr uint8_t kPackVersion = 1;
inline constexpr size_t kPackTrailerSize = 8;  // header_length u32 + magic

// How a blob is stored (the `compression` byte of its pack entry).
enum class Compression : uint8_t { kNone = 0, kZstd = 1, kZstdDelta = 2, kLz4 = 3 };

// The zstd levels a repository or a backup may ask for: 1 is the fastest, 19 the smallest.
inline constexpr int kMinZstdLevel = 1;
inline constexpr int kMaxZstdLevel = 19;
inline constexpr int kDefaultZstdLevel = 3;

// How writers compress new blobs: the repository's config, or one backup's choice. Delta
// blobs are zstd frames whatever the method (zstd alone can compress against references).
enum class CompressionMethod : uint8_t { kZstd, kLz4 };
struct CompressionSettings {
  CompressionMethod method = CompressionMethod::kZstd;
  int zstd_level = kDefaultZstdLevel;  // of zstd blobs and of every delta blob
};

// A delta blob names 1 to this many references (FORMAT.md §6).
inline constexpr size_t kMaxDeltaReferences = 3;

// One blob inside a pack.
struct PackedBlob {
  std::string id;  // 32 raw bytes
  BlobType type = BlobType::kData;
  Compression compression = Compression::kNone;
  uint32_t offset = 0;
  uint32_t sealed_length = 0;
  uint32_t raw_length = 0;
};

// Compresses (when that saves bytes) and seals one blob. Appends the sealed bytes to `out`.
Compression SealBlob(const Aead& aead, std::string_view id, std::string_view plaintext,
                     const CompressionSettings& settings, std::string* out);
// Compresses `plaintext` against `prefix`, the concatenated plaintexts of `references` (blob
// ids, 1 to kMaxDeltaReferences, none of them a delta), and appends the sealed delta blob to
// `out`. Returns false, appending nothing, when the delta would not be worth it: when it is
// not under an eighth of the plaintext (zstd alone does about a fourth on business rows, and
// the caller then stores the blob alone).
bool SealDeltaBlob(const Aead& aead, std::string_view id, std::string_view plaintext,
                   const std::vector<std::string>& references, std::string_view prefix,
                   int zstd_level, std::string* out);

// Loads the plaintext of a delta blob's reference; fails for a reference that is itself a
// delta.
using ReferenceLoader = std::function<Result<std::string>(std::string_view id)>;

// Opens a sealed blob. A delta blob needs `load_reference` (else FailedPrecondition). The
// plaintext is not re-hashed here: the caller does when it must prove identity (check
// --read-data).
Status OpenBlob(const Aead& aead, std::string_view id, Compression compression, uint32_t raw_length,
                std::string_view sealed, std::string* plaintext,
                const ReferenceLoader* load_reference = nullptr);
// The references a sealed delta blob names.
Result<std::vector<std::string>> ReadDeltaReferences(const Aead& aead, std::string_view id,
                                                     std::string_view sealed);

// Packs are filled in aligned buffers so that the object store can write them past the page
// cache as they are (aligned_string.h).
using PackBufferPool = BasicBufferPool<AlignedString>;

class PackWriter {
 public:
  // With a pool, each pack is filled in a buffer taken from it (give the bytes Finish returns
  // back to it once written), so that packs do not reallocate as they grow.
  explicit PackWriter(const Aead* aead, PackBufferPool* buffers = nullptr);

  void Add(std::string_view id, BlobType type, Compression compression, uint32_t raw_length,
           std::string_view sealed);
  size_t size() const { return data_.size(); }
  size_t count() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<PackedBlob>& entries() const { return entries_; }
  // Appends the header and trailer and returns the pack's bytes; the writer is then empty.
  AlignedString Finish();

 private:
  const Aead* aead_;
  PackBufferPool* buffers_;
  AlignedString data_;
  std::vector<PackedBlob> entries_;
};

// Parses the trailer and header of a whole pack held in memory.
Result<std::vector<PackedBlob>> ParsePack(std::string_view pack, const Aead& aead,
                                          std::string_view pack_name);
// Reads only the trailer and header of a stored pack (two range reads).
Result<std::vector<PackedBlob>> ReadPackHeader(ObjectStore* store, std::string_view key,
                                               const Aead& aead);

// "data/3f/3fa2…" for a pack id (32 raw bytes).
std::string PackKey(std::string_view pack_id);

}  // namespace lifeboat
