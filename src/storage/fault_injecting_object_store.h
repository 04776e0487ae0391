// FaultInjectingObjectStore: an ObjectStore that forwards to another one and fails on cue.
// Crash tests of the repository use it to stop the writes of an operation at every possible
// point and then prove that what is left is consistent (docs/FORMAT.md section 1: objects are
// whole or absent, a manifest is the only commit point).
//
// Two faults can be armed; each counts from the moment it is armed:
// - FailPutsAfter(n): the first n Puts go through, every later Put fails with Unavailable
//   ("injected fault ...") and writes nothing. Reads, lists and deletes still work.
// - FailAllAfter(n): after n successful mutating calls (Put or Delete) the store "dies":
//   every later call of any kind fails with Unavailable, as if the process had been killed
//   right after the n-th write. With n = 0 it is dead at once.
// ClearFaults() disarms both and revives the store. Calls with invalid keys and failures of
// the wrapped store pass through unchanged and do not count.
//
// Thread-safety: safe for concurrent use. While a fault is armed, mutating calls are
// serialized so that exactly n of them get through; otherwise they run concurrently.
// Ownership: does not own the wrapped store, which must outlive this one.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "lifeboat/status.h"
#include "storage/object_store.h"

namespace lifeboat {

class FaultInjectingObjectStore : public ObjectStore {
 public:
  explicit FaultInjectingObjectStore(ObjectStore* base) : base_(base) {}
  FaultInjectingObjectStore(const FaultInjectingObjectStore&) = delete;
  FaultInjectingObjectStore& operator=(const FaultInjectingObjectStore&) = delete;

  // Lets the next `n` Puts through and fails every Put after them.
  void FailPutsAfter(int n);
  // Lets the next `n` successful Puts or Deletes through, then fails every call.
  void FailAllAfter(int n);
  // Disarms both faults; the store works again.
  void ClearFaults();

  // Successful Puts and Deletes forwarded to the wrapped store since construction.
  int puts() const;
  int deletes() const;
  // Calls failed by an injected fault since construction.
  int injected_failures() const;

  Status Put(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(std::string_view key) override;
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Delete(std::string_view key) override;
  StoreCapabilities capabilities() const override { return base_->capabilities(); }
  std::string Describe() const override { return base_->Describe(); }

 private:
  enum class Kind { kRead, kPut, kDelete };

  // Runs `call` (which forwards to base_) unless an armed fault fails it first.
  Status Run(Kind kind, std::string_view what, std::string_view key,
             const std::function<Status()>& call);
  // The injected failure; requires mu_.
  Status InjectedFailure(std::string_view what, std::string_view key);
  bool armed() const { return put_budget_ >= 0 || write_budget_ >= 0 || dead_; }

  ObjectStore* const base_;
  // Serializes mutating calls while a fault is armed.
  std::mutex write_mu_;
  mutable std::mutex mu_;
  int put_budget_ = -1;    // Puts still allowed; -1 when FailPutsAfter is not armed
  int write_budget_ = -1;  // mutating calls still allowed; -1 when FailAllAfter is not armed
  bool dead_ = false;      // FailAllAfter's budget is spent
  int puts_ = 0;
  int deletes_ = 0;
  int injected_failures_ = 0;
};

}  // namespace lifeboat
