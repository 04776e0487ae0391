// BlobStore: content-addressed storage of chunks, the seam between what is backed up (rows,
// files) and how the repository keeps it (packs, index, FORMAT.md §5-§7).
//
// SaveBlob stores a chunk unless a blob with the same id exists already (deduplication) and
// returns its id, HMAC-SHA-256 of the plaintext under the repository's id key. LoadBlob reads
// it back, checking authenticity. Saved blobs become durable only when the writer flushes
// (Repository::Flush); a manifest must not reference them before that.
//
// Thread-safety: implementations are safe for concurrent SaveBlob/LoadBlob calls.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/chunker.h"
#include "lifeboat/status.h"

namespace lifeboat {

enum class BlobType : uint8_t { kData = 0, kTree = 1 };

struct SaveResult {
  std::string id;             // 32 raw bytes
  bool added = false;         // false when the blob was there already
  uint64_t stored_bytes = 0;  // sealed bytes written when added
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual Result<SaveResult> SaveBlob(BlobType type, std::string_view plaintext) = 0;
  // The same, with a way to name the blobs the chunk probably resembles (the chunks it
  // replaces in the previous backup of the same stream), asked only when the chunk is new: a
  // store may keep it as its difference to them (a delta blob, FORMAT.md §6).
  using BasesFn = std::function<std::vector<std::string>()>;
  virtual Result<SaveResult> SaveBlob(BlobType type, std::string_view plaintext,
                                      const BasesFn& bases) {
    (void)bases;
    return SaveBlob(type, plaintext);
  }
  // NotFound when no index knows the id; DataLoss when the pack is damaged.
  virtual Result<std::string> LoadBlob(std::string_view id) = 0;
  // The plaintext length of a stored blob, without reading it (NotFound as LoadBlob).
  virtual Result<uint64_t> BlobSize(std::string_view id) = 0;
  // The repository's chunking parameters and gear table (FORMAT.md §5).
  virtual const ChunkerParams& chunker_params() const = 0;
  virtual const GearTable* gear_table() const = 0;
};

}  // namespace lifeboat
