// MemoryBlobStore: a BlobStore that keeps blobs in a map, for unit tests of the code that
// writes and reads streams (rows, files). Ids are real keyed hashes, so deduplication behaves
// as in a repository. Not for production use: nothing is persisted.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "codec/hash.h"
#include "repo/blob_store.h"

namespace lifeboat {

class MemoryBlobStore : public BlobStore {
 public:
  explicit MemoryBlobStore(ChunkerParams params = {});
  Result<SaveResult> SaveBlob(BlobType type, std::string_view plaintext) override;
  Result<std::string> LoadBlob(std::string_view id) override;
  Result<uint64_t> BlobSize(std::string_view id) override;
  const ChunkerParams& chunker_params() const override { return params_; }
  const GearTable* gear_table() const override { return &gear_; }

  size_t blob_count() const;

 private:
  ChunkerParams params_;
  GearTable gear_;
  Hmac256 hasher_;
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> blobs_;
};

}  // namespace lifeboat
