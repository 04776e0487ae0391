#include "repo/memory_blob_store.h"

#include "base/encoding.h"

namespace lifeboat {

namespace {
constexpr char kTestKey[] = "memory blob store key, tests only";
}

MemoryBlobStore::MemoryBlobStore(ChunkerParams params)
    : params_(params), gear_(GearTable::FromKey(kTestKey)), hasher_(kTestKey) {}

Result<SaveResult> MemoryBlobStore::SaveBlob(BlobType, std::string_view plaintext) {
  SaveResult result;
  result.id = hasher_.Compute(plaintext);
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = blobs_.try_emplace(result.id, plaintext);
  result.added = inserted;
  result.stored_bytes = inserted ? plaintext.size() : 0;
  return result;
}

Result<std::string> MemoryBlobStore::LoadBlob(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = blobs_.find(id);
  if (it == blobs_.end()) return NotFoundError("blob " + ToHex(id) + " is not in the store");
  return it->second;
}

Result<uint64_t> MemoryBlobStore::BlobSize(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = blobs_.find(id);
  if (it == blobs_.end()) return NotFoundError("blob " + ToHex(id) + " is not in the store");
  return uint64_t{it->second.size()};
}

size_t MemoryBlobStore::blob_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return blobs_.size();
}

}  // namespace lifeboat
