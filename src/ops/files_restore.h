// RestoreFiles: brings an instance's files directory back to a backup's files stream
// (FORMAT.md §9.1): deleted and changed files come back byte for byte, with their mode and
// mtime, and files that were not in the backup are gone.
//
// The new tree is built from scratch in a staging directory beside the root
// (`<root>.lifeboat-staging-<16 hex>`, same parent, so same filesystem), every file fsynced,
// then swapped in. Where the filesystem supports renameat2(RENAME_EXCHANGE) the swap is one
// atomic step; otherwise the root is renamed to `<root>.lifeboat-old-<16 hex>` and the staging
// directory to the root. The parent directory is fsynced and the old tree removed. A crash
// leaves the old tree or the new one at the root, plus leftovers that RecoverFilesRoot (run by
// every backup and restore, and by `maintenance off`) puts right; with a database commit in
// between, the restore journal tells it which tree is the right one. A failed or cancelled restore
// removes its staging directory and leaves the root as it was. A root that does not exist yet is
// created, with the directories above it.
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
// Thread-safety: one call per thread. A restore holds the root's lock file
// (`<root>.lifeboat-lock`, FORMAT.md section 13) from before it stages anything until its journal
// is gone, and RecoverFilesRoot takes it before it settles anything, so neither ever settles a
// restore that is still running, in this process or another (Aborted instead); the holder
// removes the lock file when it is done.
// Ownership: `store`, `progress` and `cancel` are borrowed (progress and cancel may be null).
// Errors: DataLoss naming the entry for a list that is damaged or tries to leave the files
// directory; DataLoss when a file's blobs do not add up to its recorded size; the store's
// errors; PermissionDenied, Unavailable (disk full, I/O) naming the path; FailedPrecondition
// when the root is a symlink, not a directory, or a mount point (the swap renames it);
// Cancelled.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/cancellation.h"
#include "lifeboat/progress.h"
#include "lifeboat/status.h"
#include "repo/blob_store.h"
#include "repo/stream.h"
#include "source/source.h"

namespace lifeboat {

struct FilesRestoreSummary {
  uint64_t files = 0;     // regular files written
  uint64_t bytes = 0;     // their total length
  uint64_t dirs = 0;      // directories created (the root not counted)
  uint64_t symlinks = 0;  // symlinks created
};

// The database transaction a restore commits between staging the tree and swapping it in
// (RestoreTransaction::RecordCommitToken and Commit).
struct DatabaseCommit {
  std::function<Result<std::string>()> record_token;
  std::function<Status()> commit;
  // Asked when commit fails, since a commit whose answer was lost may have happened.
  std::function<Result<CommitState>(const std::string& token)> state;
};

// With `commit`, once the new tree is complete and durable: records the commit token, writes
// the restore journal (restore_journal.h) naming the tree and the token, commits, swaps the tree
// in and removes the journal. A failed commit removes the staged tree and the journal: no file
// changed. A failure after the commit leaves the journal, so that RecoverFilesRoot finishes the
// swap.
Result<FilesRestoreSummary> RestoreFiles(BlobStore* store, const StreamRef& files,
                                         const std::string& root, ProgressSink* progress,
                                         CancellationToken* cancel,
                                         const DatabaseCommit* commit = nullptr);

// What became of the transaction with a given commit token (Source::RestoreCommitState).
using CommitStateFn = std::function<Result<CommitState>(const std::string& token)>;

// Puts right what a restore killed part-way left beside `root`. First a restore journal: if its
// token committed, the staged tree it names is swapped in (unless the swap was done); if not,
// that tree is removed; either way the journal goes, and its token is returned so that the
// caller can forget it (Source::ForgetCommitToken), with what was done. Then, when the root is
// missing and one
// `<root>.lifeboat-old-*` directory exists, renames it back; then removes every
// `<root>.lifeboat-staging-*` directory, and every `<root>.lifeboat-old-*` one once the root
// exists. nullopt when there was no journal. FailedPrecondition when the database cannot tell
// whether the journal's restore committed, or when the root is missing and several old trees
// exist (the message says what to rename).
struct SettledRestore {
  std::string token;
  bool committed = false;  // the staged tree was put in place (else it was removed)
};
Result<std::optional<SettledRestore>> RecoverFilesRoot(const std::string& root,
                                                       const CommitStateFn& commit_state);

// Settles what a restore killed between its database commit and its files swap left beside
// `files_root` (files_restore.h, RecoverFilesRoot): the staged files go in place if the
// database committed, else they are removed; then the database's commit record goes. Returns a
// line saying what was done, "" when there was nothing to do. The caller holds the instance.
Result<std::string> SettleInterruptedRestore(Source* source, const std::string& files_root);

// How RestoreFiles swaps the new tree in: kAuto uses RENAME_EXCHANGE where the filesystem has
// it; kTwoRenames always takes the fallback path, so tests can cover it on any filesystem.
// Process-wide; for tests only.
enum class FilesSwapMethod { kAuto, kTwoRenames };
void SetFilesSwapMethodForTesting(FilesSwapMethod method);

}  // namespace lifeboat
