// LocalObjectStore: an ObjectStore kept in a directory of a local (or mounted) file system,
// the repository as it exists today (docs/FORMAT.md section 1).
//
// Layout: the key "data/3f/3fa2..." is the file <root>/data/3f/3fa2...; '/' in a key is the
// directory separator and directories are created as needed (mode 0700; files are 0600).
// Put writes "<name>.tmp-<16 random hex>" in the target directory, fsyncs it, renames it over
// the final name and fsyncs the directory (and, the first time this store writes into a
// directory, the parents of every directory below the root, which another thread or process
// may have made without having synced them yet), so an object is either whole or absent and
// survives a crash once Put returns OK.
// An object of at least 1 MiB whose bytes start on a 4 KiB boundary (a pack, filled in an
// AlignedString) is written past the page cache with O_DIRECT, all but its last partial block.
// A crash can leave a temporary behind; it is never listed, read or deleted through the
// store's interface, and RemoveStaleTemporaries() sweeps old ones. Only regular files (or
// symbolic links to them) are objects: directories, fifos and other special files are not
// listed and read as missing, and List does not follow links to directories.
//
// Errors: every message names the action and the path ("cannot write /backups/data/3f/3fa2:
// No space left on device"). ENOENT is NotFound, EACCES/EPERM/EROFS PermissionDenied, a name
// that is too long InvalidArgument, a key that collides with a directory or whose parent is a
// file FailedPrecondition, ENOSPC, EIO and anything else Unavailable. Invalid keys are
// InvalidArgument (ValidateObjectKey). Nothing throws.
//
// Thread-safety: safe for concurrent use from several threads and processes; the store's only
// state of its own is the set of directories whose entries it knows to be durable.
// Ownership: Open returns the store; it holds only the root path.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "lifeboat/status.h"
#include "storage/object_store.h"

namespace lifeboat {

class LocalObjectStore : public ObjectStore {
 public:
  // Opens the repository directory `root`. With `create` false a missing directory is
  // NotFound ("there is no repository at <root>; run `lifeboat init` to create one"); with
  // `create` true the directory (and any missing parents) is made. A `root` that exists but is
  // not a directory is FailedPrecondition.
  static Result<std::unique_ptr<LocalObjectStore>> Open(const std::string& root, bool create);

  LocalObjectStore(const LocalObjectStore&) = delete;
  LocalObjectStore& operator=(const LocalObjectStore&) = delete;

  Status Put(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(std::string_view key) override;
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Delete(std::string_view key) override;
  StoreCapabilities capabilities() const override { return StoreCapabilities{}; }
  // The root directory, as given to Open (without trailing '/').
  std::string Describe() const override { return root_; }

  // Removes the temporaries ("*.tmp-*") that interrupted Puts left anywhere under the root and
  // that were last modified before `older_than_unix_nanos`. Give a time well in the past (an
  // hour ago, say) so that the temporaries of Puts still running are left alone.
  Status RemoveStaleTemporaries(int64_t older_than_unix_nanos);

  // The file that holds `key` (which must be valid).
  std::string PathOf(std::string_view key) const;

 private:
  explicit LocalObjectStore(std::string root);

  // Makes sure the entries of `dir` and of every directory between it and the root are on
  // disk (once per directory and store).
  Status MakeDirectoryDurable(const std::string& dir);

  const std::string root_;
  const std::string root_slash_;  // root_ followed by exactly one '/'
  std::mutex durable_mu_;
  std::set<std::string> durable_dirs_;  // guarded by durable_mu_
};

// The Status for a failed system call: "cannot <action> <path>: <strerror>", with the code
// mapped from `error_number` as described above.
Status ErrnoToStatus(int error_number, std::string_view action, std::string_view path);

}  // namespace lifeboat
