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
  // The same, with the ids of blobs the chunk probably resembles (the chunks it replaces in the
  // previous backup of the same stream): a store may keep a new chunk as its difference to
  // them (a delta blob, FORMAT.md §6). `bases` is consulted only when the chunk is new.
  virtual Result<SaveResult> SaveBlob(BlobType type, std::string_view plaintext,
                                      const std::vector<std::string>& bases) {
    (void)bases;
    return SaveBlob(type, plaintext);
  }
  // NotFound when no index knows the id; DataLoss when the pack is damaged.
  virtual Result<std::string> LoadBlob(std::string_view id) = 0;
  // The repository's chunking parameters and gear table (FORMAT.md §5).
  virtual const ChunkerParams& chunker_params() const = 0;
  virtual const GearTable* gear_table() const = 0;
};

}  // namespace lifeboat
