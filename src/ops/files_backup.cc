#include "ops/files_backup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "base/file_descriptor.h"
#include "codec/chunker.h"
#include "ops/files_entry.h"

namespace lifeboat {

namespace {

constexpr size_t kReadBufferSize = 1 << 20;
constexpr int64_t kProgressIntervalNanos = 100'000'000;

using Fd = FileDescriptor;

// `action` is "cannot read file '/srv/files/a.pdf'"; the fix depends on the errno.
Status ErrnoError(int err, const std::string& action) {
  std::string message = action + ": " + std::strerror(err);
  switch (err) {
    case EACCES:
    case EPERM:
      return PermissionDeniedError(message +
                                   "; give the user running the backup read access to it");
    case ENOENT: return NotFoundError(message);
    case EMFILE:
    case ENFILE: return UnavailableError(message + "; raise the open-files limit (ulimit -n)");
    default: return UnavailableError(message);
  }
}

int64_t MtimeNanos(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * kNanosPerSecond + st.st_mtim.tv_nsec;
}
int64_t CtimeNanos(const struct stat& st) {
  return static_cast<int64_t>(st.st_ctim.tv_sec) * kNanosPerSecond + st.st_ctim.tv_nsec;
}

FilesEntry EntryFromStat(const std::string& path, FilesEntryKind kind, const struct stat& st) {
  FilesEntry entry;
  entry.path = path;
  entry.kind = kind;
  entry.mode = static_cast<uint32_t>(st.st_mode) & kFilesModeMask;
  entry.mtime_ns = MtimeNanos(st);
  entry.ctime_ns = CtimeNanos(st);
  entry.inode = static_cast<uint64_t>(st.st_ino);
  entry.size = kind == FilesEntryKind::kFile ? static_cast<uint64_t>(st.st_size) : 0;
  return entry;
}

const char* SpecialKindName(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "of an unknown type";
}

// The names in a directory, sorted bytewise (std::string compares as unsigned char).
Result<std::vector<std::string>> ListNames(int dir_fd, const std::string& quoted_dir) {
  int fd = ::dup(dir_fd);
  if (fd < 0) return ErrnoError(errno, "cannot list directory " + quoted_dir);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return ErrnoError(err, "cannot list directory " + quoted_dir);
  }
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    struct dirent* de = ::readdir(dir);
    if (de == nullptr) break;
    std::string_view name(de->d_name);
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return ErrnoError(err, "cannot list directory " + quoted_dir);
  std::sort(names.begin(), names.end());
  return names;
}

// The parent backup's files list, read forward in step with the walk.
class ParentList {
 public:
  ParentList(BlobStore* store, const StreamRef& ref) : reader_(store, ref), entries_(&reader_) {}

  // The parent's entry for `path`, or null when it has none. Entries sorted before `path` are
  // passed over; a later call must ask for a later path.
  Result<const FilesEntry*> Find(std::string_view path) {
    while (true) {
      if (!has_current_) {
        if (done_) return static_cast<const FilesEntry*>(nullptr);
        LB_ASSIGN_OR_RETURN(bool more, entries_.Next(&current_));
        if (!more) {
          done_ = true;
          return static_cast<const FilesEntry*>(nullptr);
        }
        has_current_ = true;
      }
      int order = CompareFilesPaths(current_.path, path);
      if (order > 0) return static_cast<const FilesEntry*>(nullptr);
      has_current_ = false;
      if (order == 0) return static_cast<const FilesEntry*>(&current_);
    }
  }

  // The blob ids of the entry Find last returned.
  Result<bool> NextBlobId(std::string* id) { return entries_.NextBlobId(id); }

 private:
  StreamReader reader_;
  FilesEntryReader entries_;
  FilesEntry current_;
  bool has_current_ = false;
  bool done_ = false;
};

class FilesBackupRun {
 public:
  FilesBackupRun(std::string root, BlobStore* store, const FilesBackupOptions& options,
                 ProgressSink* progress, CancellationToken* cancel)
      : root_(std::move(root)),
        store_(store),
        options_(options),
        progress_(progress != nullptr ? progress : NullProgressSink::Get()),
        cancel_(cancel),
        stream_(store),
        writer_(&stream_) {}

  Result<FilesSummary> Run(const std::optional<StreamRef>& parent_files);

 private:
  Status Walk(int dir_fd, const std::string& prefix);
  Status BackupFile(int dir_fd, const std::string& name, const std::string& path,
                    const struct stat& st);
  Status BackupDirectory(int dir_fd, const std::string& name, const std::string& path);
  Status BackupSymlink(int dir_fd, const std::string& name, const std::string& path,
                       const struct stat& st);
  // Reuses the parent's blob ids for an unchanged file; false when the file must be read.
  Result<bool> TakeFromParent(const std::string& path, const struct stat& st);
  // Chunks and stores the file's content from offset 0.
  Status ReadContent(int fd, const std::string& path, uint64_t* bytes_read,
                     std::vector<std::string>* ids);
  Status WriteFile(FilesEntry entry, const std::vector<std::string>& ids);

  bool TooRecent(int64_t timestamp, int64_t start) const {
    return timestamp >= start - options_.racy_window_nanos;
  }
  void DisableParent(const Status& why);
  void Skip(const std::string& path, const std::string& why);
  void Report(const std::string& item, bool force);
  Status CheckCancel() const { return cancel_ != nullptr ? cancel_->Check() : OkStatus(); }
  std::string Quoted(const std::string& path) const {
    if (path.empty()) return QuoteFilesPath(root_);
    return QuoteFilesPath(root_.back() == '/' ? root_ + path : root_ + "/" + path);
  }

  const std::string root_;
  BlobStore* const store_;
  const FilesBackupOptions& options_;
  ProgressSink* const progress_;
  CancellationToken* const cancel_;
  int64_t start_time_ = 0;
  StreamWriter stream_;
  FilesEntryWriter writer_;
  std::unique_ptr<ParentList> parent_;
  FilesSummary summary_;
  std::vector<char> buffer_;
  Progress state_;
  int64_t started_monotonic_ = 0;
  int64_t last_report_ = 0;
};

Result<FilesSummary> FilesBackupRun::Run(const std::optional<StreamRef>& parent_files) {
  struct stat st;
  if (::lstat(root_.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) {
      return NotFoundError("files directory " + QuoteFilesPath(root_) +
                           " does not exist; create it or correct the instance's `files` setting");
    }
    return ErrnoError(err, "cannot examine files directory " + QuoteFilesPath(root_));
  }
  if (S_ISLNK(st.st_mode)) {
    return FailedPreconditionError("files directory " + QuoteFilesPath(root_) +
                                   " is a symbolic link; set the instance's `files` to the "
                                   "directory it points to");
  }
  if (!S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("files directory " + QuoteFilesPath(root_) +
                                   " is not a directory; correct the instance's `files` setting");
  }
  Fd root_fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root_fd.valid()) {
    return ErrnoError(errno, "cannot open files directory " + QuoteFilesPath(root_));
  }

  start_time_ = options_.start_time_nanos.value_or(Clock::Real()->NowUnixNanos());
  started_monotonic_ = Clock::Real()->MonotonicNanos();
  last_report_ = started_monotonic_;
  state_.operation = options_.operation;
  buffer_.resize(kReadBufferSize);
  if (parent_files.has_value()) parent_ = std::make_unique<ParentList>(store_, *parent_files);

  LB_RETURN_IF_ERROR(Walk(root_fd.get(), ""));
  LB_RETURN_IF_ERROR(writer_.Finish());
  LB_ASSIGN_OR_RETURN(summary_.content, stream_.Finish());
  summary_.new_blobs += stream_.stats().new_blobs;
  summary_.new_bytes += stream_.stats().new_bytes;
  summary_.stored_bytes += stream_.stats().stored_bytes;
  Report("", /*force=*/true);
  return std::move(summary_);
}

Status FilesBackupRun::Walk(int dir_fd, const std::string& prefix) {
  LB_ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames(dir_fd, Quoted(prefix)));
  for (const std::string& name : names) {
    LB_RETURN_IF_ERROR(CheckCancel());
    std::string path = prefix.empty() ? name : prefix + "/" + name;
    if (path.size() > kMaxFilesPathBytes) {
      return FailedPreconditionError("path " + Quoted(path) + " is longer than " +
                                     std::to_string(kMaxFilesPathBytes) +
                                     " bytes, which a files list cannot hold");
    }
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      int err = errno;
      if (err == ENOENT) {
        Skip(path, "it was deleted during the backup");
        continue;
      }
      return ErrnoError(err, "cannot examine " + Quoted(path));
    }
    if (S_ISREG(st.st_mode)) {
      LB_RETURN_IF_ERROR(BackupFile(dir_fd, name, path, st));
    } else if (S_ISDIR(st.st_mode)) {
      LB_RETURN_IF_ERROR(BackupDirectory(dir_fd, name, path));
    } else if (S_ISLNK(st.st_mode)) {
      LB_RETURN_IF_ERROR(BackupSymlink(dir_fd, name, path, st));
    } else {
      Skip(path, std::string("it is ") + SpecialKindName(st.st_mode) +
                     ", not a regular file, directory or symlink");
    }
  }
  return OkStatus();
}

void FilesBackupRun::DisableParent(const Status& why) {
  parent_.reset();
  progress_->OnMessage(MessageLevel::kWarning,
                       "the previous backup's files list cannot be read (" + why.ToString() +
                           "); reading every remaining file instead of reusing it");
}

void FilesBackupRun::Skip(const std::string& path, const std::string& why) {
  ++summary_.skipped;
  progress_->OnMessage(MessageLevel::kWarning, "skipped " + Quoted(path) + ": " + why);
}

void FilesBackupRun::Report(const std::string& item, bool force) {
  int64_t now = Clock::Real()->MonotonicNanos();
  if (!force && now - last_report_ < kProgressIntervalNanos) return;
  last_report_ = now;
  state_.item = item;
  state_.items_done = summary_.count;
  state_.elapsed_nanos = now - started_monotonic_;
  progress_->OnProgress(state_);
}

Result<bool> FilesBackupRun::TakeFromParent(const std::string& path, const struct stat& st) {
  if (parent_ == nullptr) return false;
  Result<const FilesEntry*> found = parent_->Find(path);
  if (!found.ok()) {
    if (found.status().code() == StatusCode::kCancelled) return found.status();
    DisableParent(found.status());
    return false;
  }
  const FilesEntry* cached = *found;
  if (cached == nullptr || cached->kind != FilesEntryKind::kFile) return false;
  if (cached->size != static_cast<uint64_t>(st.st_size) || cached->mtime_ns != MtimeNanos(st) ||
      cached->ctime_ns != CtimeNanos(st) || cached->inode != static_cast<uint64_t>(st.st_ino)) {
    return false;
  }
  // A change in the same timestamp tick as the last one, after a backup read the file, leaves
  // every compared field equal; only a timestamp safely before the backup rules that out.
  if (TooRecent(cached->mtime_ns, start_time_) || TooRecent(cached->ctime_ns, start_time_)) {
    return false;
  }
  if (options_.parent_start_time_nanos.has_value() &&
      (TooRecent(cached->mtime_ns, *options_.parent_start_time_nanos) ||
       TooRecent(cached->ctime_ns, *options_.parent_start_time_nanos))) {
    return false;
  }
  uint64_t blob_count = cached->blob_count;
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(std::min<uint64_t>(blob_count, 1 << 16)));
  std::string id;
  while (true) {
    Result<bool> more = parent_->NextBlobId(&id);
    if (!more.ok()) {
      if (more.status().code() == StatusCode::kCancelled) return more.status();
      DisableParent(more.status());
      return false;
    }
    if (!*more) break;
    ids.push_back(id);
  }
  if (ids.size() != blob_count) {
    DisableParent(DataLossError("entry " + QuoteFilesPath(path) + " lost blob ids"));
    return false;
  }
  LB_RETURN_IF_ERROR(WriteFile(EntryFromStat(path, FilesEntryKind::kFile, st), ids));
  ++summary_.files_unchanged;
  state_.bytes_done += static_cast<uint64_t>(st.st_size);
  return true;
}

Status FilesBackupRun::WriteFile(FilesEntry entry, const std::vector<std::string>& ids) {
  entry.blob_count = ids.size();
  LB_RETURN_IF_ERROR(writer_.Add(entry));
  for (const std::string& id : ids) LB_RETURN_IF_ERROR(writer_.AddBlobId(id));
  ++summary_.count;
  summary_.bytes += entry.size;
  Report(entry.path, /*force=*/false);
  return OkStatus();
}

Status FilesBackupRun::BackupFile(int dir_fd, const std::string& name, const std::string& path,
                                  const struct stat& st) {
  LB_ASSIGN_OR_RETURN(bool taken, TakeFromParent(path, st));
  if (taken) return OkStatus();

  // O_NONBLOCK: if the name became a FIFO since it was examined, opening must not hang.
  int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  Fd fd(::openat(dir_fd, name.c_str(), flags | O_NOATIME));
  if (!fd.valid() && errno == EPERM) fd = Fd(::openat(dir_fd, name.c_str(), flags));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT) {
      Skip(path, "it was deleted during the backup");
      return OkStatus();
    }
    if (err == ELOOP) {
      Skip(path, "it was replaced by a symlink during the backup");
      return OkStatus();
    }
    return ErrnoError(err, "cannot read file " + Quoted(path));
  }
  struct stat before;
  if (::fstat(fd.get(), &before) != 0) {
    return ErrnoError(errno, "cannot examine file " + Quoted(path));
  }
  if (!S_ISREG(before.st_mode)) {
    Skip(path, "it stopped being a regular file during the backup");
    return OkStatus();
  }

  std::vector<std::string> ids;
  uint64_t bytes_read = 0;
  for (int attempt = 0;; ++attempt) {
    LB_RETURN_IF_ERROR(ReadContent(fd.get(), path, &bytes_read, &ids));
    struct stat after;
    if (::fstat(fd.get(), &after) != 0) {
      return ErrnoError(errno, "cannot examine file " + Quoted(path));
    }
    bool stable =
        after.st_size == before.st_size && bytes_read == static_cast<uint64_t>(before.st_size) &&
        MtimeNanos(after) == MtimeNanos(before) && CtimeNanos(after) == CtimeNanos(before);
    if (stable) break;
    if (attempt == 1) {
      progress_->OnMessage(
          MessageLevel::kWarning,
          "file " + Quoted(path) + " changed while it was read, twice; the backup holds the " +
              std::to_string(bytes_read) + " bytes read last, which may mix old and new content");
      break;
    }
    before = after;
  }
  // The timestamps from before the read: a change during or after it makes the next backup's
  // comparison fail, so the next backup reads the file again.
  FilesEntry entry = EntryFromStat(path, FilesEntryKind::kFile, before);
  entry.size = bytes_read;
  LB_RETURN_IF_ERROR(WriteFile(std::move(entry), ids));
  ++summary_.files_reread;
  return OkStatus();
}

Status FilesBackupRun::ReadContent(int fd, const std::string& path, uint64_t* bytes_read,
                                   std::vector<std::string>* ids) {
  ids->clear();
  *bytes_read = 0;
  if (::lseek(fd, 0, SEEK_SET) != 0) {
    return ErrnoError(errno, "cannot read file " + Quoted(path));
  }
  StreamChunker chunker(store_->chunker_params(), store_->gear_table(),
                        [this, ids](std::string_view chunk) -> Status {
                          if (chunk.empty()) return OkStatus();
                          LB_ASSIGN_OR_RETURN(SaveResult saved,
                                              store_->SaveBlob(BlobType::kData, chunk));
                          if (saved.added) {
                            ++summary_.new_blobs;
                            summary_.new_bytes += chunk.size();
                            summary_.stored_bytes += saved.stored_bytes;
                          }
                          ids->push_back(std::move(saved.id));
                          return OkStatus();
                        });
  while (true) {
    LB_RETURN_IF_ERROR(CheckCancel());
    ssize_t got = ::read(fd, buffer_.data(), buffer_.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "cannot read file " + Quoted(path));
    }
    if (got == 0) break;
    LB_RETURN_IF_ERROR(chunker.Write(std::string_view(buffer_.data(), static_cast<size_t>(got)))
                           .WithContext("backing up file " + Quoted(path)));
    *bytes_read += static_cast<uint64_t>(got);
    state_.bytes_done += static_cast<uint64_t>(got);
    Report(path, /*force=*/false);
  }
  return chunker.Finish().WithContext("backing up file " + Quoted(path));
}

Status FilesBackupRun::BackupDirectory(int dir_fd, const std::string& name,
                                       const std::string& path) {
  Fd child(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!child.valid()) {
    int err = errno;
    if (err == ENOENT) {
      Skip(path, "it was deleted during the backup");
      return OkStatus();
    }
    if (err == ELOOP || err == ENOTDIR) {
      Skip(path, "it stopped being a directory during the backup");
      return OkStatus();
    }
    return ErrnoError(err, "cannot open directory " + Quoted(path));
  }
  struct stat st;
  if (::fstat(child.get(), &st) != 0) {
    return ErrnoError(errno, "cannot examine directory " + Quoted(path));
  }
  LB_RETURN_IF_ERROR(writer_.Add(EntryFromStat(path, FilesEntryKind::kDirectory, st)));
  ++summary_.dirs;
  return Walk(child.get(), path);
}

Status FilesBackupRun::BackupSymlink(int dir_fd, const std::string& name, const std::string& path,
                                     const struct stat& st) {
  // st_size is the target's length on most filesystems, but 0 on some; grow until it fits.
  size_t capacity = std::max<size_t>(static_cast<size_t>(st.st_size) + 1, 256);
  std::string target;
  while (true) {
    target.resize(capacity);
    ssize_t got = ::readlinkat(dir_fd, name.c_str(), target.data(), capacity);
    if (got < 0) {
      int err = errno;
      if (err == ENOENT || err == EINVAL) {
        Skip(path, "it stopped being a symlink during the backup");
        return OkStatus();
      }
      return ErrnoError(err, "cannot read symlink " + Quoted(path));
    }
    if (static_cast<size_t>(got) < capacity) {
      target.resize(static_cast<size_t>(got));
      break;
    }
    if (capacity > kMaxSymlinkTargetBytes) {
      return FailedPreconditionError("symlink " + Quoted(path) +
                                     " points to a target longer than " +
                                     std::to_string(kMaxSymlinkTargetBytes) + " bytes");
    }
    capacity *= 2;
  }
  if (target.size() > kMaxSymlinkTargetBytes) {
    return FailedPreconditionError("symlink " + Quoted(path) + " points to a target longer than " +
                                   std::to_string(kMaxSymlinkTargetBytes) + " bytes");
  }
  if (target.empty()) {
    Skip(path, "it is a symlink with an empty target");
    return OkStatus();
  }
  FilesEntry entry = EntryFromStat(path, FilesEntryKind::kSymlink, st);
  entry.size = target.size();
  entry.symlink_target = std::move(target);
  LB_RETURN_IF_ERROR(writer_.Add(entry));
  ++summary_.symlinks;
  return OkStatus();
}

}  // namespace

Result<FilesSummary> BackupFiles(const std::string& root, BlobStore* store,
                                 const std::optional<StreamRef>& parent_files,
                                 const FilesBackupOptions& options, ProgressSink* progress,
                                 CancellationToken* cancel) {
  std::string normalized = root;
  while (normalized.size() > 1 && normalized.back() == '/') normalized.pop_back();
  if (normalized.empty()) {
    return InvalidArgumentError("files directory is empty; set the instance's `files` to a path");
  }
  FilesBackupRun run(std::move(normalized), store, options, progress, cancel);
  return run.Run(parent_files);
}

}  // namespace lifeboat
