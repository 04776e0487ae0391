// BackupFiles: stores an instance's files directory (attachments, media) as a files stream
// (FORMAT.md §9.1) of regular files, directories and symlinks, file contents chunked into data
// blobs (FORMAT.md §5) and the list itself written as a stream (FORMAT.md §9).
//
// The walk is depth-first, each directory's names in bytewise order, recursing in place: the
// order of CompareFilesPaths (ops/files_entry.h), so the list comes out sorted without holding
// it. Symlinks are recorded, never followed (a symlinked root is refused). Sockets, FIFOs and
// devices are skipped with a warning. An entry deleted between listing and reading is skipped
// with a warning.
//
// Unchanged-file cache: given the parent backup's files stream, the walk reads it alongside in
// the same order (a merge join, constant memory) and reuses a file's blob ids without reading
// the file when its size, mtime, ctime and inode all equal the parent's entry. The cache is not
// trusted ("racy") when the file's mtime or ctime is within `racy_window_nanos` of this
// backup's start or later, nor when the parent recorded an mtime or ctime within that window
// of the parent's start: a change made in the same timestamp tick right after a backup read
// the file would otherwise go unseen. A file whose size, mtime or ctime changes while it is
// read is read once more; if it changes again, what was read is kept and a warning is given.
// A damaged or unreadable parent list turns the cache off with a warning; it never fails the
// backup.
//
// Memory: one read buffer, one directory's names per level of depth, and one file's blob ids
// (32 bytes per chunk: the list records a file's blob count before its ids).
//
// Thread-safety: one call per thread; the store must allow SaveBlob from this thread.
// Ownership: `store`, `progress` and `cancel` are borrowed (progress and cancel may be null).
// Errors: NotFound or FailedPrecondition for a missing, non-directory or symlinked root;
// PermissionDenied or Unavailable naming the path for an entry that cannot be listed or read
// (an unreadable attachment is a lost attachment, so the backup fails); Cancelled; the store's
// errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/cancellation.h"
#include "base/clock.h"
#include "lifeboat/progress.h"
#include "lifeboat/status.h"
#include "repo/blob_store.h"
#include "repo/stream.h"

namespace lifeboat {

struct FilesBackupOptions {
  // When this backup started, in Unix nanoseconds; unset means now.
  std::optional<int64_t> start_time_nanos;
  // When the parent backup started (its manifest's `started`; rounding down is safe). Give it
  // whenever a parent list is given: without it, only this backup's start bounds the racy
  // window.
  std::optional<int64_t> parent_start_time_nanos;
  // How close to a backup's start a timestamp must be for the cache to distrust it. Two
  // seconds covers filesystems with coarse timestamps (FAT keeps mtime to 2 s).
  int64_t racy_window_nanos = 2 * kNanosPerSecond;
  // The `operation` reported to the progress sink.
  std::string operation = "backup";
};

struct FilesSummary {
  StreamRef content;             // the files stream (FORMAT.md §9.1)
  uint64_t count = 0;            // regular files listed
  uint64_t bytes = 0;            // their total length
  uint64_t dirs = 0;             // directories listed (the root not counted)
  uint64_t symlinks = 0;         // symlinks listed
  uint64_t skipped = 0;          // entries left out with a warning (special files, vanished)
  uint64_t new_blobs = 0;        // blobs (file data, list data and trees) new to the store
  uint64_t new_bytes = 0;        // their plaintext bytes
  uint64_t stored_bytes = 0;     // the bytes they take in the store
  uint64_t files_reread = 0;     // regular files whose content was read
  uint64_t files_unchanged = 0;  // regular files whose blob ids came from the parent unread
};

Result<FilesSummary> BackupFiles(const std::string& root, BlobStore* store,
                                 const std::optional<StreamRef>& parent_files,
                                 const FilesBackupOptions& options, ProgressSink* progress,
                                 CancellationToken* cancel);

}  // namespace lifeboat
