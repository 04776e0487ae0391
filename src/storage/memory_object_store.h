// MemoryObjectStore: an ObjectStore that keeps every object in a map in memory. Used by unit
// tests and by anything that needs a throw-away repository; nothing survives the process.
//
// Semantics match the contract of ObjectStore (docs/FORMAT.md section 1) and LocalObjectStore:
// the same key validation (InvalidArgument), NotFound for a missing key, DataLoss for a range
// past the end of an object, idempotent Delete, and a List that streams in batches and never
// holds the lock while it calls back, so the callback may use the store (even delete what it
// is shown).
//
// Thread-safety: safe for concurrent use; one mutex guards the map.
// Ownership: owns copies of the objects; Get returns copies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "lifeboat/status.h"
#include "storage/object_store.h"

namespace lifeboat {

class MemoryObjectStore : public ObjectStore {
 public:
  MemoryObjectStore() = default;
  MemoryObjectStore(const MemoryObjectStore&) = delete;
  MemoryObjectStore& operator=(const MemoryObjectStore&) = delete;

  Status Put(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(std::string_view key) override;
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Delete(std::string_view key) override;
  StoreCapabilities capabilities() const override { return StoreCapabilities{}; }
  std::string Describe() const override { return "memory"; }

  // How many objects the store holds (for tests).
  size_t object_count() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> objects_;  // guarded by mu_
};

}  // namespace lifeboat
