// RestoreFiles: brings an instance's files directory back to a backup's files stream
// (FORMAT.md §9.1): deleted and changed files come back byte for byte, with their mode and
// mtime, and files that were not in the backup are gone.
//
// The new tree is built from scratch in a staging directory beside the root
// (`<root>.lifeboat-staging-<16 hex>`, same parent, so same filesystem), every file fsynced,
// then swapped in. Where the filesystem supports renameat2(RENAME_EXCHANGE) the swap is one
// atomic step; otherwise the root is renamed to `<root>.lifeboat-old-<16 hex>` and the staging
// directory to the root. The parent directory is fsynced and the old tree removed. A crash
// leaves the old tree or the new one at the root, plus leftovers that RecoverFilesRoot (run at
// the start of every restore) puts right. A failed or cancelled restore removes its staging
// directory and leaves the root as it was. A root that does not exist yet is created, with
// the directories above it.
//
// Path safety: the list's reader refuses absolute paths, '.', '..', empty components, NUL
// bytes, unsorted entries and entries whose parent is not a directory listed before them
// (such as "link/x" under the symlink "link"). Independently of that, every directory is
// opened relative to its parent's descriptor, one component at a time, with
// O_DIRECTORY|O_NOFOLLOW, and every file is created with O_CREAT|O_EXCL|O_NOFOLLOW, so a
// symlink restored from the backup is never followed and nothing is written outside the
// staging directory. The root's own permissions are kept (0755 for a new root); owners are not
// restored (FORMAT.md §9.1 does not record them).
//
// Thread-safety: one call per thread. The caller must hold the instance's lock (DESIGN.md §5):
// RecoverFilesRoot removes leftover staging directories, including a running restore's.
// Ownership: `store`, `progress` and `cancel` are borrowed (progress and cancel may be null).
// Errors: DataLoss naming the entry for a list that is damaged or tries to leave the files
// directory; DataLoss when a file's blobs do not add up to its recorded size; the store's
// errors; PermissionDenied, Unavailable (disk full, I/O) naming the path; FailedPrecondition
// when the root is a symlink, not a directory, or a mount point (the swap renames it);
// Cancelled.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/cancellation.h"
#include "lifeboat/progress.h"
#include "lifeboat/status.h"
#include "repo/blob_store.h"
#include "repo/stream.h"

namespace lifeboat {

struct FilesRestoreSummary {
  uint64_t files = 0;     // regular files written
  uint64_t bytes = 0;     // their total length
  uint64_t dirs = 0;      // directories created (the root not counted)
  uint64_t symlinks = 0;  // symlinks created
};

// `before_swap`, when given, runs once the new tree is complete and durable and before it
// replaces the old one; if it fails, the staging tree is removed and the old tree stays. A
// restore commits its database transaction there, so a failed commit changes no file.
Result<FilesRestoreSummary> RestoreFiles(BlobStore* store, const StreamRef& files,
                                         const std::string& root, ProgressSink* progress,
                                         CancellationToken* cancel,
                                         const std::function<Status()>& before_swap = {});

// Puts right what a restore killed part-way left beside `root`: when the root is missing and
// one `<root>.lifeboat-old-*` directory exists, renames it back; then removes every
// `<root>.lifeboat-staging-*` directory, and every `<root>.lifeboat-old-*` one once the root
// exists. OK when there is nothing to do. FailedPrecondition when the root is missing and
// several old trees exist (the user chooses which to rename back).
Status RecoverFilesRoot(const std::string& root);

// How RestoreFiles swaps the new tree in: kAuto uses RENAME_EXCHANGE where the filesystem has
// it; kTwoRenames always takes the fallback path, so tests can cover it on any filesystem.
// Process-wide; for tests only.
enum class FilesSwapMethod { kAuto, kTwoRenames };
void SetFilesSwapMethodForTesting(FilesSwapMethod method);

}  // namespace lifeboat
