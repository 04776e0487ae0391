// Files list entries: the encoder and decoder of the files stream (FORMAT.md §9.1), the list
// of every file, directory and symlink under an instance's files directory.
//
// Order. Entries are sorted by path compared component by component, each component bytewise
// (unsigned). Equivalently: bytewise, with '/' sorting before every other byte. A directory's
// entry therefore comes right before everything inside it ("a" < "a/z" < "a.txt" < "a0"), which
// is the order of a depth-first walk that visits each directory's names in bytewise order and
// recurses in place. CompareFilesPaths is that order; the backup's walk, its merge with the
// parent backup's list and the reader's checks all use it.
//
// Paths. An entry's path is relative to the files directory, '/'-separated, and has no empty,
// '.' or '..' component and no NUL byte. The root itself has no entry. Every entry's parent
// directory has a directory entry before it.
//
// FilesEntryWriter writes entries to a ByteSink. It trusts its caller (the directory walk,
// or a test crafting a stream): it checks neither paths nor order. FilesEntryReader decodes
// from a ByteReader and checks everything a restore relies on: path rules, order, parent
// directories, kinds and lengths; a violation is DataLoss naming the entry. A file entry's
// blob ids are streamed: the reader returns the header, then NextBlobId() yields the ids one at
// a time, so a file of any size is listed in constant memory.
//
// Thread-safety: none; one thread per writer or reader. Ownership: the sink and the reader are
// borrowed and must outlive the object.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_stream.h"
#include "lifeboat/status.h"

namespace lifeboat {

// FORMAT.md §9.1 `kind`.
enum class FilesEntryKind : uint8_t { kFile = 1, kDirectory = 2, kSymlink = 3 };

// Limits the reader enforces, so a damaged length cannot make it allocate without bound.
constexpr size_t kMaxFilesPathBytes = 1 << 20;
constexpr size_t kMaxSymlinkTargetBytes = 1 << 16;
// `mode` holds permission bits only (rwx for user, group, other; setuid, setgid, sticky).
constexpr uint32_t kFilesModeMask = 07777;

// One entry's header: everything but a file's blob ids.
struct FilesEntry {
  std::string path;
  FilesEntryKind kind = FilesEntryKind::kFile;
  uint32_t mode = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  // A file's length; a symlink's target length; 0 for a directory.
  uint64_t size = 0;
  // kFile: the number of blob ids (32 bytes each) that follow the header.
  uint64_t blob_count = 0;
  // kSymlink: where the link points, stored as read and never followed.
  std::string symlink_target;
};

// <0, 0 or >0 as `a` sorts before, equal to or after `b` in the files list order (above).
int CompareFilesPaths(std::string_view a, std::string_view b);

// OK when `path` follows the path rules above; otherwise DataLoss
// "files list entry '<path>' would leave the files directory".
Status ValidateFilesPath(std::string_view path);

// `path` in single quotes for messages, with control bytes, quotes and backslashes escaped as
// \xNN so a hostile name cannot forge output.
std::string QuoteFilesPath(std::string_view path);

// The directory part of a valid path ("" for a top-level entry) and the last component.
std::string_view FilesPathParent(std::string_view path);
std::string_view FilesPathName(std::string_view path);

class FilesEntryWriter {
 public:
  explicit FilesEntryWriter(ByteSink* out) : out_(out) {}

  // Writes an entry's header. For a file, exactly `entry.blob_count` AddBlobId calls must
  // follow before the next Add or Finish.
  Status Add(const FilesEntry& entry);
  // Writes one blob id (32 raw bytes) of the file entry last added.
  Status AddBlobId(std::string_view id);
  // Checks that the last file entry got all its ids. Does not finish the sink.
  Status Finish();

 private:
  ByteSink* out_;
  std::string header_;
  uint64_t ids_owed_ = 0;
};

class FilesEntryReader {
 public:
  explicit FilesEntryReader(ByteReader* in);

  // Decodes the next entry's header into `entry`; false at the end of the list. Ids of the
  // previous file entry that were not read are skipped.
  Result<bool> Next(FilesEntry* entry);
  // The next blob id (32 raw bytes) of the current file entry into `id`; false when all of
  // them have been read.
  Result<bool> NextBlobId(std::string* id);
  uint64_t blob_ids_left() const { return ids_left_; }

 private:
  // Makes at least `n` bytes available in buf_ (n <= kBufferSize); false when the stream ends
  // first.
  Result<bool> Fill(size_t n);
  Status ReadByte(uint8_t* value);
  Status ReadVarint(uint64_t* value);
  Status ReadBytes(size_t n, std::string* out);
  Status SkipBytes(uint64_t n);
  Status Truncated() const;
  Status CheckPlacement(const FilesEntry& entry);

  ByteReader* in_;
  std::string buf_;
  size_t pos_ = 0;
  uint64_t ids_left_ = 0;
  bool has_previous_ = false;
  bool previous_is_directory_ = false;
  std::string previous_path_;
  // Paths of the directories that enclose the current position in the list, outermost first.
  std::vector<std::string> open_dirs_;
};

}  // namespace lifeboat
