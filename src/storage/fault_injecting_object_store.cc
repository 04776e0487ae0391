#include "storage/fault_injecting_object_store.h"

#include <optional>
#include <utility>

namespace lifeboat {

void FaultInjectingObjectStore::FailPutsAfter(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  put_budget_ = n < 0 ? 0 : n;
}

void FaultInjectingObjectStore::FailAllAfter(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  write_budget_ = n < 0 ? 0 : n;
  dead_ = write_budget_ == 0;
}

void FaultInjectingObjectStore::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  put_budget_ = -1;
  write_budget_ = -1;
  dead_ = false;
}

int FaultInjectingObjectStore::puts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return puts_;
}

int FaultInjectingObjectStore::deletes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return deletes_;
}

int FaultInjectingObjectStore::injected_failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return injected_failures_;
}

Status FaultInjectingObjectStore::InjectedFailure(std::string_view what, std::string_view key) {
  ++injected_failures_;
  std::string message = "injected fault: cannot ";
  message += what;
  if (!key.empty()) {
    message += ' ';
    message += key;
  }
  message += dead_ ? " (the store stopped, as if the process died)" : " (puts are failing)";
  return UnavailableError(std::move(message));
}

Status FaultInjectingObjectStore::Run(Kind kind, std::string_view what, std::string_view key,
                                      const std::function<Status()>& call) {
  if (kind == Kind::kRead) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (dead_) return InjectedFailure(what, key);
    }
    return call();
  }

  std::unique_lock<std::mutex> write_lock(write_mu_, std::defer_lock);
  bool serialize;
  {
    std::lock_guard<std::mutex> lock(mu_);
    serialize = armed();
  }
  if (serialize) write_lock.lock();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (dead_ || (kind == Kind::kPut && put_budget_ == 0)) return InjectedFailure(what, key);
  }
  Status status = call();
  if (!status.ok()) return status;
  std::lock_guard<std::mutex> lock(mu_);
  if (kind == Kind::kPut) {
    ++puts_;
    if (put_budget_ > 0) --put_budget_;
  } else {
    ++deletes_;
  }
  if (write_budget_ > 0 && --write_budget_ == 0) dead_ = true;
  return status;
}

Status FaultInjectingObjectStore::Put(std::string_view key, std::string_view data) {
  return Run(Kind::kPut, "put", key, [&] { return base_->Put(key, data); });
}

Result<std::string> FaultInjectingObjectStore::Get(std::string_view key) {
  std::optional<Result<std::string>> result;
  Status status = Run(Kind::kRead, "get", key, [&] {
    result.emplace(base_->Get(key));
    return result->ok() ? OkStatus() : result->status();
  });
  if (!status.ok()) return status;
  return std::move(*result);
}

Result<std::string> FaultInjectingObjectStore::GetRange(std::string_view key, uint64_t offset,
                                                        uint64_t length) {
  std::optional<Result<std::string>> result;
  Status status = Run(Kind::kRead, "read a range of", key, [&] {
    result.emplace(base_->GetRange(key, offset, length));
    return result->ok() ? OkStatus() : result->status();
  });
  if (!status.ok()) return status;
  return std::move(*result);
}

Result<uint64_t> FaultInjectingObjectStore::Size(std::string_view key) {
  std::optional<Result<uint64_t>> result;
  Status status = Run(Kind::kRead, "get the size of", key, [&] {
    result.emplace(base_->Size(key));
    return result->ok() ? OkStatus() : result->status();
  });
  if (!status.ok()) return status;
  return std::move(*result);
}

Status FaultInjectingObjectStore::List(std::string_view prefix,
                                       const std::function<Status(const ObjectInfo&)>& fn) {
  return Run(Kind::kRead, "list", prefix, [&] { return base_->List(prefix, fn); });
}

Status FaultInjectingObjectStore::Delete(std::string_view key) {
  return Run(Kind::kDelete, "delete", key, [&] { return base_->Delete(key); });
}

}  // namespace lifeboat
