#include "storage/memory_object_store.h"

#include <utility>
#include <vector>

namespace lifeboat {
namespace {

// How many entries List copies out of the map per visit under the lock.
constexpr size_t kListBatchSize = 256;

Status MissingObject(std::string_view key) {
  std::string message = "object ";
  message += key;
  message += " does not exist in memory";
  return NotFoundError(std::move(message));
}

}  // namespace

Status MemoryObjectStore::Put(std::string_view key, std::string_view data) {
  LB_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string copy(data);  // copied outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it != objects_.end()) {
    it->second.swap(copy);
  } else {
    objects_.emplace(std::string(key), std::move(copy));
  }
  return OkStatus();
}

Result<std::string> MemoryObjectStore::Get(std::string_view key) {
  LB_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return MissingObject(key);
  return it->second;
}

Result<std::string> MemoryObjectStore::GetRange(std::string_view key, uint64_t offset,
                                                uint64_t length) {
  LB_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return MissingObject(key);
  const uint64_t size = it->second.size();
  if (offset > size || length > size - offset) {
    return DataLossError("object " + std::string(key) + " is " + std::to_string(size) +
                         " bytes, cannot read " + std::to_string(offset) + ".." +
                         std::to_string(offset + length));
  }
  return it->second.substr(offset, length);
}

Result<uint64_t> MemoryObjectStore::Size(std::string_view key) {
  LB_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return MissingObject(key);
  return static_cast<uint64_t>(it->second.size());
}

Status MemoryObjectStore::List(std::string_view prefix,
                               const std::function<Status(const ObjectInfo&)>& fn) {
  LB_RETURN_IF_ERROR(ValidateObjectKeyPrefix(prefix));
  std::vector<ObjectInfo> batch;
  batch.reserve(kListBatchSize);
  std::string resume_after;  // the last key handed out; empty before the first batch
  bool first = true;
  while (true) {
    batch.clear();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = first ? objects_.lower_bound(prefix) : objects_.upper_bound(resume_after);
      for (; it != objects_.end() && batch.size() < kListBatchSize; ++it) {
        if (!std::string_view(it->first).starts_with(prefix)) break;
        batch.push_back(ObjectInfo{it->first, static_cast<uint64_t>(it->second.size())});
      }
    }
    if (batch.empty()) return OkStatus();
    for (const ObjectInfo& info : batch) LB_RETURN_IF_ERROR(fn(info));
    if (batch.size() < kListBatchSize) return OkStatus();
    resume_after = batch.back().key;
    first = false;
  }
}

Status MemoryObjectStore::Delete(std::string_view key) {
  LB_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it != objects_.end()) objects_.erase(it);
  return OkStatus();
}

size_t MemoryObjectStore::object_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

}  // namespace lifeboat
