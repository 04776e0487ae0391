// ObjectStore: the only way the repository touches persistent storage. A flat namespace of
// immutable objects named by '/'-separated keys ("data/3f/3fa2...", "snapshots/9c1e...").
// Nothing above this interface may assume a file system: an S3 implementation must fit.
//
// Contract (docs/FORMAT.md section 1):
// - Put is atomic: a reader sees the whole new object or nothing (never a prefix), and once
//   Put returns OK the object survives a crash of the process or the machine. Putting an
//   existing key replaces it atomically (only lock leases do that; data objects are written
//   once under content-derived names).
// - Get of a missing key returns NotFound. GetRange returns exactly `length` bytes starting at
//   `offset`, or OutOfRange-as-DataLoss when the object is shorter.
// - List calls `fn` for every object whose key starts with `prefix`, in no particular order,
//   streaming (memory does not grow with the number of objects). A non-OK status from `fn`
//   stops the listing and is returned. Objects being written (temporaries) are never listed.
// - Delete of a missing key is OK (deletes are idempotent).
// - Keys are validated by ValidateObjectKey (below) in every implementation, so a key that
//   one store accepts is accepted by all of them.
//
// Thread-safety: implementations are safe for concurrent use from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "lifeboat/status.h"

namespace lifeboat {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
};

struct StoreCapabilities {
  bool range_reads = true;     // GetRange is cheaper than Get
  bool atomic_replace = true;  // Put over an existing key is atomic
  bool strongly_consistent_list = true;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual Status Put(std::string_view key, std::string_view data) = 0;
  virtual Result<std::string> Get(std::string_view key) = 0;
  virtual Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) = 0;
  // NotFound when missing.
  virtual Result<uint64_t> Size(std::string_view key) = 0;
  virtual Status List(std::string_view prefix,
                      const std::function<Status(const ObjectInfo&)>& fn) = 0;
  virtual Status Delete(std::string_view key) = 0;
  virtual StoreCapabilities capabilities() const = 0;
  // Where the objects live, for messages: "/var/backups/lifeboat" or "memory".
  virtual std::string Describe() const = 0;
};

// Checks that `key` is a valid object key, else InvalidArgument naming the key. A key is one
// or more '/'-separated components; it must not be empty, start or end with '/', contain an
// empty component ("a//b"), a "." or ".." component, a NUL byte or a backslash. A component
// must not contain ".tmp-": that infix is reserved for the temporaries a store writes before
// it publishes an object, which are never listed.
Status ValidateObjectKey(std::string_view key);

// Checks a List() prefix, else InvalidArgument. A prefix is the beginning of a key: it may be
// empty or end in the middle of a component ("snapshots/ab") or right after a '/' ("data/"),
// but its complete components ("snapshots", "data") obey the rules of ValidateObjectKey.
Status ValidateObjectKeyPrefix(std::string_view prefix);

}  // namespace lifeboat
