#include "ops/files_restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/encoding.h"
#include "base/file_descriptor.h"
#include "codec/random.h"
#include "ops/files_entry.h"
#include "ops/restore_journal.h"

namespace lifeboat {

namespace {

constexpr char kStagingInfix[] = ".lifeboat-staging-";
constexpr char kOldInfix[] = ".lifeboat-old-";
constexpr char kLockSuffix[] = ".lifeboat-lock";
constexpr size_t kSuffixRandomBytes = 8;
constexpr mode_t kNewRootMode = 0755;
constexpr int64_t kProgressIntervalNanos = 100'000'000;

std::atomic<FilesSwapMethod> g_swap_method{FilesSwapMethod::kAuto};

using Fd = FileDescriptor;

// `action` is "cannot create file '...'"; the fix depends on the errno.
Status ErrnoError(int err, const std::string& action) {
  std::string message = action + ": " + std::strerror(err);
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDeniedError(message +
                                   "; give the user running the restore write access to it");
    case ENOENT: return NotFoundError(message);
    case ENOSPC:
    case EDQUOT: return UnavailableError(message + "; free space on that filesystem and retry");
    case EMFILE:
    case ENFILE: return UnavailableError(message + "; raise the open-files limit (ulimit -n)");
    default: return UnavailableError(message);
  }
}

// True when `dir` is "" (the root), equal to `path`, or a directory above it.
bool IsSameOrAncestor(std::string_view dir, std::string_view path) {
  if (dir.empty() || dir == path) return true;
  return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

struct timespec ToTimespec(int64_t nanos) {
  struct timespec ts;
  int64_t seconds = nanos / kNanosPerSecond;
  int64_t rest = nanos % kNanosPerSecond;
  if (rest < 0) {
    rest += kNanosPerSecond;
    --seconds;
  }
  ts.tv_sec = static_cast<time_t>(seconds);
  ts.tv_nsec = static_cast<long>(rest);  // NOLINT(google-runtime-int): the type of tv_nsec
  return ts;
}

Status WriteAll(int fd, std::string_view data, const std::string& quoted_path) {
  while (!data.empty()) {
    ssize_t done = ::write(fd, data.data(), data.size());
    if (done < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "cannot write file " + quoted_path);
    }
    data.remove_prefix(static_cast<size_t>(done));
  }
  return OkStatus();
}

Status FsyncFd(int fd, const std::string& quoted_path) {
  if (::fsync(fd) != 0) return ErrnoError(errno, "cannot sync " + quoted_path + " to disk");
  return OkStatus();
}

Result<std::vector<std::string>> ListNames(int dir_fd, const std::string& quoted_dir) {
  int fd = ::dup(dir_fd);
  if (fd < 0) return ErrnoError(errno, "cannot list directory " + quoted_dir);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return ErrnoError(err, "cannot list directory " + quoted_dir);
  }
  ::rewinddir(dir);
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

// Removes `name` in `dir_fd` and, for a directory, everything inside it, never following a
// symlink and never descending into another filesystem mounted inside (`dev` is the one the
// tree lives on). Directories without write permission for their owner are made writable first.
Status RemoveTreeAt(int dir_fd, const std::string& name, const std::string& display, dev_t dev) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return OkStatus();
    return ErrnoError(errno, "cannot remove " + QuoteFilesPath(display));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      return ErrnoError(errno, "cannot remove " + QuoteFilesPath(display));
    }
    return OkStatus();
  }
  if (st.st_dev != dev) {
    return FailedPreconditionError("cannot remove " + QuoteFilesPath(display) +
                                   ": another filesystem is mounted there; unmount it and retry");
  }
  if ((st.st_mode & S_IRWXU) != S_IRWXU) {
    // Best effort: if it fails, opening or unlinking below reports the real problem.
    ::fchmodat(dir_fd, name.c_str(), (st.st_mode & kFilesModeMask) | S_IRWXU, AT_SYMLINK_NOFOLLOW);
  }
  Fd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(errno, "cannot remove " + QuoteFilesPath(display));
  LB_ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames(fd.get(), QuoteFilesPath(display)));
  for (const std::string& child : names) {
    LB_RETURN_IF_ERROR(RemoveTreeAt(fd.get(), child, display + "/" + child, dev));
  }
  fd.Reset();
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return ErrnoError(errno, "cannot remove " + QuoteFilesPath(display));
  }
  return OkStatus();
}

// Removes the tree `name` in the directory `parent_fd`, which holds the files directory.
Status RemoveTree(int parent_fd, const std::string& name, const std::string& display) {
  struct stat st;
  if (::fstat(parent_fd, &st) != 0) {
    return ErrnoError(errno, "cannot remove " + QuoteFilesPath(display));
  }
  return RemoveTreeAt(parent_fd, name, display, st.st_dev);
}

// A root split into the directory that holds it and its own name.
struct RootPath {
  std::string full;    // without trailing slashes
  std::string parent;  // "." for a relative root without a slash
  std::string name;
  std::string Beside(const std::string& sibling) const {
    return parent == "/" ? "/" + sibling : parent + "/" + sibling;
  }
};

Result<RootPath> SplitRoot(const std::string& root) {
  RootPath path;
  path.full = root;
  while (path.full.size() > 1 && path.full.back() == '/') path.full.pop_back();
  if (path.full.empty() || path.full == "/") {
    return InvalidArgumentError("files directory " + QuoteFilesPath(root) +
                                " cannot be restored into: it must be a directory below '/'");
  }
  size_t slash = path.full.rfind('/');
  if (slash == std::string::npos) {
    path.parent = ".";
    path.name = path.full;
  } else {
    path.parent = slash == 0 ? "/" : path.full.substr(0, slash);
    path.name = path.full.substr(slash + 1);
  }
  if (path.name == "." || path.name == "..") {
    return InvalidArgumentError("files directory " + QuoteFilesPath(root) +
                                " must end in a directory name, not '.' or '..'");
  }
  return path;
}

// `<name><infix><16 lower-case hex>`: the names a restore gives its temporary trees.
bool IsLeftover(std::string_view candidate, std::string_view name, std::string_view infix) {
  size_t prefix = name.size() + infix.size();
  if (candidate.size() != prefix + 2 * kSuffixRandomBytes) return false;
  if (candidate.substr(0, name.size()) != name ||
      candidate.substr(name.size(), infix.size()) != infix) {
    return false;
  }
  for (char c : candidate.substr(prefix)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string RandomSuffix() {
  return ToHex(RandomBytes(kSuffixRandomBytes));
}

// Writes the entries of a files list below a fresh, empty directory.
class TreeBuilder {
 public:
  TreeBuilder(BlobStore* store, ProgressSink* progress, CancellationToken* cancel,
              std::string root_display)
      : store_(store),
        progress_(progress),
        cancel_(cancel),
        root_display_(std::move(root_display)) {}

  Status Build(const StreamRef& files, int root_fd);
  const FilesRestoreSummary& summary() const { return summary_; }

 private:
  struct OpenDir {
    std::string path;
    Fd fd;
    bool created = false;  // mode and mtime below are to be applied when it is closed
    uint32_t mode = 0;
    int64_t mtime_ns = 0;
  };

  // The descriptor of `parent`, opening its components one at a time below the deepest
  // directory already open that encloses it.
  Result<int> EnterParent(std::string_view parent, const std::string& entry_path);
  Status CloseTop();
  Status MakeDirectory(int dir_fd, const FilesEntry& entry);
  Status WriteFile(int dir_fd, const FilesEntry& entry, FilesEntryReader* reader);
  Status MakeSymlink(int dir_fd, const FilesEntry& entry);
  void Report(const std::string& item, bool force);
  Status CheckCancel() const { return cancel_ != nullptr ? cancel_->Check() : OkStatus(); }
  std::string Quoted(std::string_view path) const {
    return QuoteFilesPath(root_display_ + "/" + std::string(path));
  }

  BlobStore* const store_;
  ProgressSink* const progress_;
  CancellationToken* const cancel_;
  const std::string root_display_;
  int root_fd_ = -1;
  std::vector<OpenDir> dirs_;
  FilesRestoreSummary summary_;
  Progress state_;
  int64_t started_monotonic_ = 0;
  int64_t last_report_ = 0;
};

Status TreeBuilder::Build(const StreamRef& files, int root_fd) {
  root_fd_ = root_fd;
  started_monotonic_ = Clock::Real()->MonotonicNanos();
  last_report_ = started_monotonic_;
  state_.operation = "restore";
  StreamReader stream(store_, files);
  FilesEntryReader reader(&stream);
  FilesEntry entry;
  while (true) {
    LB_RETURN_IF_ERROR(CheckCancel());
    LB_ASSIGN_OR_RETURN(bool more, reader.Next(&entry));
    if (!more) break;
    LB_RETURN_IF_ERROR(ValidateFilesPath(entry.path));
    LB_ASSIGN_OR_RETURN(int dir_fd, EnterParent(FilesPathParent(entry.path), entry.path));
    switch (entry.kind) {
      case FilesEntryKind::kDirectory: LB_RETURN_IF_ERROR(MakeDirectory(dir_fd, entry)); break;
      case FilesEntryKind::kFile: LB_RETURN_IF_ERROR(WriteFile(dir_fd, entry, &reader)); break;
      case FilesEntryKind::kSymlink: LB_RETURN_IF_ERROR(MakeSymlink(dir_fd, entry)); break;
    }
  }
  while (!dirs_.empty()) LB_RETURN_IF_ERROR(CloseTop());
  Report("", /*force=*/true);
  return OkStatus();
}

Result<int> TreeBuilder::EnterParent(std::string_view parent, const std::string& entry_path) {
  while (!dirs_.empty() && !IsSameOrAncestor(dirs_.back().path, parent)) {
    LB_RETURN_IF_ERROR(CloseTop());
  }
  while (true) {
    std::string_view have = dirs_.empty() ? std::string_view() : dirs_.back().path;
    int have_fd = dirs_.empty() ? root_fd_ : dirs_.back().fd.get();
    if (have == parent) return have_fd;
    std::string_view rest = parent.substr(have.empty() ? 0 : have.size() + 1);
    std::string component(rest.substr(0, rest.find('/')));
    std::string sub = have.empty() ? component : std::string(have) + "/" + component;
    Fd fd(::openat(have_fd, component.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
      int err = errno;
      if (err == ELOOP || err == ENOTDIR) {
        return DataLossError("files list entry " + QuoteFilesPath(entry_path) +
                             " would leave the files directory: " + QuoteFilesPath(sub) +
                             " is not a directory");
      }
      if (err == ENOENT) {
        return DataLossError("files list entry " + QuoteFilesPath(entry_path) +
                             " has no directory entry " + QuoteFilesPath(sub) + " before it");
      }
      return ErrnoError(err, "cannot open directory " + Quoted(sub));
    }
    OpenDir dir;
    dir.path = std::move(sub);
    dir.fd = std::move(fd);
    dirs_.push_back(std::move(dir));
  }
}

Status TreeBuilder::CloseTop() {
  OpenDir dir = std::move(dirs_.back());
  dirs_.pop_back();
  if (!dir.created) return OkStatus();
  // Last, because creating the entries inside changed the mtime and may need write access.
  if (::fchmod(dir.fd.get(), dir.mode) != 0) {
    return ErrnoError(errno, "cannot set the mode of directory " + Quoted(dir.path));
  }
  struct timespec times[2] = {{0, UTIME_OMIT}, ToTimespec(dir.mtime_ns)};
  if (::futimens(dir.fd.get(), times) != 0) {
    return ErrnoError(errno, "cannot set the mtime of directory " + Quoted(dir.path));
  }
  return FsyncFd(dir.fd.get(), "directory " + Quoted(dir.path));
}

Status TreeBuilder::MakeDirectory(int dir_fd, const FilesEntry& entry) {
  std::string name(FilesPathName(entry.path));
  if (::mkdirat(dir_fd, name.c_str(), S_IRWXU) != 0) {
    return ErrnoError(errno, "cannot create directory " + Quoted(entry.path));
  }
  Fd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(errno, "cannot open directory " + Quoted(entry.path));
  OpenDir dir;
  dir.path = entry.path;
  dir.fd = std::move(fd);
  dir.created = true;
  dir.mode = entry.mode;
  dir.mtime_ns = entry.mtime_ns;
  dirs_.push_back(std::move(dir));
  ++summary_.dirs;
  return OkStatus();
}

Status TreeBuilder::WriteFile(int dir_fd, const FilesEntry& entry, FilesEntryReader* reader) {
  std::string name(FilesPathName(entry.path));
  std::string quoted = Quoted(entry.path);
  Fd fd(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                 S_IRUSR | S_IWUSR));
  if (!fd.valid()) return ErrnoError(errno, "cannot create file " + quoted);
  uint64_t written = 0;
  std::string id;
  while (true) {
    LB_RETURN_IF_ERROR(CheckCancel());
    LB_ASSIGN_OR_RETURN(bool more, reader->NextBlobId(&id));
    if (!more) break;
    Result<std::string> blob = store_->LoadBlob(id);
    if (!blob.ok()) return blob.status().WithContext("restoring file " + quoted);
    written += blob->size();
    if (written > entry.size) break;
    LB_RETURN_IF_ERROR(WriteAll(fd.get(), *blob, quoted));
    state_.bytes_done += blob->size();
    Report(entry.path, /*force=*/false);
  }
  if (written != entry.size) {
    return DataLossError("file " + QuoteFilesPath(entry.path) + " in the backup holds " +
                         (written > entry.size ? "more than" : "only") + " " +
                         std::to_string(written) + " bytes, but its entry records " +
                         std::to_string(entry.size));
  }
  if (::fchmod(fd.get(), entry.mode) != 0) {
    return ErrnoError(errno, "cannot set the mode of file " + quoted);
  }
  struct timespec times[2] = {{0, UTIME_OMIT}, ToTimespec(entry.mtime_ns)};
  if (::futimens(fd.get(), times) != 0) {
    return ErrnoError(errno, "cannot set the mtime of file " + quoted);
  }
  LB_RETURN_IF_ERROR(FsyncFd(fd.get(), "file " + quoted));
  ++summary_.files;
  summary_.bytes += entry.size;
  return OkStatus();
}

Status TreeBuilder::MakeSymlink(int dir_fd, const FilesEntry& entry) {
  std::string name(FilesPathName(entry.path));
  if (::symlinkat(entry.symlink_target.c_str(), dir_fd, name.c_str()) != 0) {
    return ErrnoError(errno, "cannot create symlink " + Quoted(entry.path));
  }
  struct timespec times[2] = {{0, UTIME_OMIT}, ToTimespec(entry.mtime_ns)};
  if (::utimensat(dir_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError(errno, "cannot set the mtime of symlink " + Quoted(entry.path));
  }
  ++summary_.symlinks;
  return OkStatus();
}

void TreeBuilder::Report(const std::string& item, bool force) {
  if (progress_ == nullptr) return;
  int64_t now = Clock::Real()->MonotonicNanos();
  if (!force && now - last_report_ < kProgressIntervalNanos) return;
  last_report_ = now;
  state_.item = item;
  state_.items_done = summary_.files;
  state_.elapsed_nanos = now - started_monotonic_;
  progress_->OnProgress(state_);
}

bool ExchangeUnsupported(int err) {
  return err == EINVAL || err == ENOSYS || err == ENOTSUP;
}

// Swaps the tree at `staging` in for the one at the root, which exists. Afterwards the old
// tree is at the returned name in the parent, to be removed.
Result<std::string> SwapIn(int parent_fd, const RootPath& root, const std::string& staging) {
#if defined(RENAME_EXCHANGE)
  if (g_swap_method.load() == FilesSwapMethod::kAuto) {
    if (::renameat2(parent_fd, staging.c_str(), parent_fd, root.name.c_str(), RENAME_EXCHANGE) ==
        0) {
      return staging;
    }
    if (!ExchangeUnsupported(errno)) {
      return ErrnoError(errno, "cannot swap the restored tree " +
                                   QuoteFilesPath(root.Beside(staging)) + " with " +
                                   QuoteFilesPath(root.full));
    }
  }
#endif
  std::string old = root.name + kOldInfix + RandomSuffix();
  if (::renameat(parent_fd, root.name.c_str(), parent_fd, old.c_str()) != 0) {
    return ErrnoError(errno, "cannot move " + QuoteFilesPath(root.full) + " aside to " +
                                 QuoteFilesPath(root.Beside(old)));
  }
  if (::renameat(parent_fd, staging.c_str(), parent_fd, root.name.c_str()) != 0) {
    int err = errno;
    if (::renameat(parent_fd, old.c_str(), parent_fd, root.name.c_str()) != 0) {
      return ErrnoError(err, "cannot move the restored tree " +
                                 QuoteFilesPath(root.Beside(staging)) + " to " +
                                 QuoteFilesPath(root.full) + ", and the previous tree is left at " +
                                 QuoteFilesPath(root.Beside(old)) + "; rename it back");
    }
    return ErrnoError(err, "cannot move the restored tree " + QuoteFilesPath(root.Beside(staging)) +
                               " to " + QuoteFilesPath(root.full));
  }
  return old;
}

}  // namespace

void SetFilesSwapMethodForTesting(FilesSwapMethod method) {
  g_swap_method.store(method);
}

namespace {

// Settles the restore journal beside the root, if there is one (RecoverFilesRoot).
Result<std::optional<SettledRestore>> SettleJournal(int parent_fd, const RootPath& path,
                                                    const CommitStateFn& commit_state) {
  const std::string display = path.Beside(RestoreJournalName(path.name));
  LB_ASSIGN_OR_RETURN(std::optional<RestoreJournal> journal,
                      ReadRestoreJournal(parent_fd, path.name, display));
  if (!journal) return std::optional<SettledRestore>();
  const std::string staged = QuoteFilesPath(path.Beside(journal->staging));
  LB_ASSIGN_OR_RETURN(CommitState state, commit_state(journal->token));
  if (state == CommitState::kUnknown) {
    return FailedPreconditionError(
        "an interrupted restore left restore journal " + QuoteFilesPath(display) +
        ", and the database no longer knows whether that restore committed: if the database "
        "holds the backup's data, make " +
        staged + " the files directory " + QuoteFilesPath(path.full) +
        ", else delete it; then delete the journal");
  }
  if (state == CommitState::kCommitted) {
    auto is_staged_tree = [&](const std::string& name) {
      struct stat st;
      return ::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
             S_ISDIR(st.st_mode) && static_cast<uint64_t>(st.st_dev) == journal->staging_device &&
             static_cast<uint64_t>(st.st_ino) == journal->staging_inode;
    };
    // The database holds the backup's rows: the staged tree must be the files directory.
    if (!is_staged_tree(path.name)) {
      if (!is_staged_tree(journal->staging)) {
        return FailedPreconditionError(
            "restore journal " + QuoteFilesPath(display) +
            " says that its restore committed the database and staged the files at " + staged +
            ", but that tree is gone; restore the files again (lifeboat restore), then delete "
            "the journal");
      }
      struct stat st;
      if (::fstatat(parent_fd, path.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        LB_RETURN_IF_ERROR(SwapIn(parent_fd, path, journal->staging).status());
      } else if (::renameat(parent_fd, journal->staging.c_str(), parent_fd, path.name.c_str()) !=
                 0) {
        return ErrnoError(
            errno, "cannot move the restored tree " + staged + " to " + QuoteFilesPath(path.full));
      }
      LB_RETURN_IF_ERROR(FsyncFd(parent_fd, QuoteFilesPath(path.parent)));
    }
  }
  // Rolled back: the staged tree is removed with the other leftovers.
  LB_RETURN_IF_ERROR(RemoveRestoreJournal(parent_fd, path.name, display));
  return std::optional<SettledRestore>(
      SettledRestore{journal->token, state == CommitState::kCommitted});
}

// The files root's lock, `<root>.lifeboat-lock` beside it: a restore holds it (flock) from
// before it stages anything until its journal is gone, and settling what a restore left takes
// it too, so that `maintenance off`, a backup or a restore from another repository never
// settles a restore that is still running. Whoever holds it removes the file on release, so
// nothing stays beside the root; one left by a killed process is removed by the next settling.
class FilesRootLock {
 public:
  FilesRootLock(int parent_fd, std::string name, Fd fd)
      : parent_fd_(parent_fd), name_(std::move(name)), fd_(std::move(fd)) {}
  FilesRootLock(const FilesRootLock&) = delete;
  FilesRootLock& operator=(const FilesRootLock&) = delete;
  ~FilesRootLock() { ::unlinkat(parent_fd_, name_.c_str(), 0); }  // then fd_ closes: unlocked

 private:
  int parent_fd_;
  std::string name_;
  Fd fd_;
};

// Takes the root's lock; Aborted while someone else holds it. A lock taken on a file that its
// holder removed meanwhile is no lock: then the new file is tried.
Result<std::unique_ptr<FilesRootLock>> LockFilesRoot(int parent_fd, const RootPath& path) {
  const std::string name = path.name + kLockSuffix;
  const std::string display = QuoteFilesPath(path.Beside(name));
  for (int attempt = 0; attempt < 100; ++attempt) {
    Fd lock(::openat(parent_fd, name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!lock.valid()) return ErrnoError(errno, "cannot open lock file " + display);
    int locked;
    do {
      locked = ::flock(lock.get(), LOCK_EX | LOCK_NB);
    } while (locked != 0 && errno == EINTR);
    if (locked != 0 && errno == EWOULDBLOCK) {
      return AbortedError("files directory " + QuoteFilesPath(path.full) +
                          " is being restored by another Lifeboat process, which holds " + display +
                          ": wait for it to finish");
    }
    if (locked != 0) return ErrnoError(errno, "cannot lock " + display);
    struct stat held, named;
    if (::fstat(lock.get(), &held) != 0) return ErrnoError(errno, "cannot examine " + display);
    if (::fstatat(parent_fd, name.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
        named.st_dev == held.st_dev && named.st_ino == held.st_ino) {
      return std::make_unique<FilesRootLock>(parent_fd, name, std::move(lock));
    }
  }
  return AbortedError("files directory " + QuoteFilesPath(path.full) +
                      " is being locked and unlocked by other Lifeboat processes without pause; "
                      "retry later");
}

// Whether a restore left a journal, a staging or old tree, or its lock file beside the root.
Result<bool> HasLeftovers(int parent_fd, const RootPath& path) {
  struct stat st;
  for (const std::string& name : {RestoreJournalName(path.name), path.name + kLockSuffix}) {
    if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  }
  LB_ASSIGN_OR_RETURN(std::vector<std::string> names,
                      ListNames(parent_fd, QuoteFilesPath(path.parent)));
  return std::any_of(names.begin(), names.end(), [&](const std::string& name) {
    return IsLeftover(name, path.name, kStagingInfix) || IsLeftover(name, path.name, kOldInfix);
  });
}

// RecoverFilesRoot with the root's lock held.
Result<std::optional<SettledRestore>> RecoverLocked(int parent_fd, const RootPath& path,
                                                    const CommitStateFn& commit_state);

Status RemoveLeftovers(int parent_fd, const RootPath& path) {
  LB_ASSIGN_OR_RETURN(std::vector<std::string> names,
                      ListNames(parent_fd, QuoteFilesPath(path.parent)));
  std::vector<std::string> staging;
  std::vector<std::string> old;
  for (const std::string& name : names) {
    if (IsLeftover(name, path.name, kStagingInfix)) staging.push_back(name);
    if (IsLeftover(name, path.name, kOldInfix)) old.push_back(name);
  }
  if (staging.empty() && old.empty()) return OkStatus();

  struct stat st;
  bool root_exists = ::fstatat(parent_fd, path.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (!root_exists && errno != ENOENT) {
    return ErrnoError(errno, "cannot examine files directory " + QuoteFilesPath(path.full));
  }
  if (!root_exists && !old.empty()) {
    if (old.size() > 1) {
      std::string list;
      for (const std::string& name : old) {
        list += (list.empty() ? "" : ", ") + QuoteFilesPath(path.Beside(name));
      }
      return FailedPreconditionError("files directory " + QuoteFilesPath(path.full) +
                                     " is missing and interrupted restores left several earlier "
                                     "trees (" +
                                     list + "); rename the right one to " +
                                     QuoteFilesPath(path.full));
    }
    // An interrupted two-rename swap: the old tree is the last complete one.
    if (::renameat(parent_fd, old[0].c_str(), parent_fd, path.name.c_str()) != 0) {
      return ErrnoError(errno, "cannot rename " + QuoteFilesPath(path.Beside(old[0])) +
                                   " back to " + QuoteFilesPath(path.full));
    }
    LB_RETURN_IF_ERROR(FsyncFd(parent_fd, QuoteFilesPath(path.parent)));
    old.clear();
    root_exists = true;
  }
  for (const std::string& name : staging) {
    LB_RETURN_IF_ERROR(RemoveTree(parent_fd, name, path.Beside(name)));
  }
  if (root_exists) {
    for (const std::string& name : old) {
      LB_RETURN_IF_ERROR(RemoveTree(parent_fd, name, path.Beside(name)));
    }
  }
  return FsyncFd(parent_fd, QuoteFilesPath(path.parent));
}

// Records the commit token, writes the journal, commits. Sets *committed once the database
// holds the backup's rows (also when Commit failed but the database says it committed), and
// *in_doubt when nobody can tell yet.
Status CommitDatabase(int parent_fd, const RootPath& path, const std::string& staging,
                      const DatabaseCommit& commit, bool* committed, bool* in_doubt) {
  LB_ASSIGN_OR_RETURN(std::string token, commit.record_token());
  struct stat st;
  if (::fstatat(parent_fd, staging.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError(errno,
                      "cannot examine staging directory " + QuoteFilesPath(path.Beside(staging)));
  }
  RestoreJournal journal;
  journal.staging = staging;
  journal.staging_device = static_cast<uint64_t>(st.st_dev);
  journal.staging_inode = static_cast<uint64_t>(st.st_ino);
  journal.token = token;
  journal.created_nanos = Clock::Real()->NowUnixNanos();
  const std::string display = path.Beside(RestoreJournalName(path.name));
  LB_RETURN_IF_ERROR(WriteRestoreJournal(parent_fd, path.name, journal, display));
  Status status = commit.commit();
  if (status.ok()) {
    *committed = true;
    return OkStatus();
  }
  // A commit that failed on the way (a lost connection) may still have happened.
  Result<CommitState> state = commit.state ? commit.state(token) : CommitState::kUnknown;
  if (state.ok() && *state == CommitState::kCommitted) {
    *committed = true;
    return OkStatus();
  }
  if (state.ok() && *state == CommitState::kRolledBack) {
    Status removed = RemoveRestoreJournal(parent_fd, path.name, display);
    return removed.ok() ? status : removed;
  }
  // Unknown for now: the journal and the staged tree stay for RecoverFilesRoot to settle.
  *in_doubt = true;
  return status.WithContext(
      "the database could not tell whether the restore committed (" +
      (state.ok() ? std::string("no answer") : state.status().ToString()) +
      "); the next lifeboat backup, restore or `maintenance off` of this instance settles it");
}

}  // namespace

Result<std::optional<SettledRestore>> RecoverFilesRoot(const std::string& root,
                                                       const CommitStateFn& commit_state) {
  LB_ASSIGN_OR_RETURN(RootPath path, SplitRoot(root));
  Fd parent(::open(path.parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent.valid()) {
    if (errno == ENOENT) return std::optional<SettledRestore>();  // nothing can be left over
    return ErrnoError(errno, "cannot open " + QuoteFilesPath(path.parent) +
                                 ", the directory that holds the files directory");
  }
  // With nothing left over there is nothing to lock either (a backup of an instance whose
  // files sit in a directory it may not write to writes nothing there).
  LB_ASSIGN_OR_RETURN(bool leftovers, HasLeftovers(parent.get(), path));
  if (!leftovers) return std::optional<SettledRestore>();
  LB_ASSIGN_OR_RETURN(std::unique_ptr<FilesRootLock> lock, LockFilesRoot(parent.get(), path));
  return RecoverLocked(parent.get(), path, commit_state);
}

namespace {

Result<std::optional<SettledRestore>> RecoverLocked(int parent_fd, const RootPath& path,
                                                    const CommitStateFn& commit_state) {
  LB_ASSIGN_OR_RETURN(std::optional<SettledRestore> settled,
                      SettleJournal(parent_fd, path, commit_state));
  LB_RETURN_IF_ERROR(RemoveLeftovers(parent_fd, path));
  return settled;
}

}  // namespace

Result<std::string> SettleInterruptedRestore(Source* source, const std::string& files_root) {
  LB_ASSIGN_OR_RETURN(std::optional<SettledRestore> settled,
                      RecoverFilesRoot(files_root, [source](const std::string& token) {
                        return source->RestoreCommitState(token);
                      }));
  if (!settled) return std::string();
  LB_RETURN_IF_ERROR(source->ForgetCommitToken(settled->token));
  return settled->committed
             ? "finished an interrupted restore: its database had committed, its files are now "
               "in place in " +
                   QuoteFilesPath(files_root)
             : "an interrupted restore had not committed its database: its staged files were "
               "removed, " +
                   QuoteFilesPath(files_root) + " is as it was";
}

Result<FilesRestoreSummary> RestoreFiles(BlobStore* store, const StreamRef& files,
                                         const std::string& root, ProgressSink* progress,
                                         CancellationToken* cancel, const DatabaseCommit* commit) {
  LB_ASSIGN_OR_RETURN(RootPath path, SplitRoot(root));
  const std::string context = "restoring files directory " + QuoteFilesPath(path.full);
  // Leftovers of an interrupted restore go first (the caller has usually settled them).
  CommitStateFn state = commit != nullptr ? commit->state : CommitStateFn();
  if (!state) {
    state = [&](const std::string&) -> Result<CommitState> {
      return FailedPreconditionError("an interrupted restore left a restore journal beside " +
                                     QuoteFilesPath(path.full) +
                                     ": run `lifeboat maintenance off` on the instance first");
    };
  }
  Fd parent(::open(path.parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent.valid() && errno == ENOENT) {
    // A new instance: create the directories above the root as `mkdir -p` would.
    std::error_code error;
    std::filesystem::create_directories(path.parent, error);
    if (error) {
      return ErrnoError(error.value(), "cannot create " + QuoteFilesPath(path.parent) +
                                           ", the directory that holds files directory " +
                                           QuoteFilesPath(path.full))
          .WithContext(context);
    }
    parent = Fd(::open(path.parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  if (!parent.valid()) {
    return ErrnoError(errno, "cannot open " + QuoteFilesPath(path.parent) +
                                 ", the directory that holds files directory " +
                                 QuoteFilesPath(path.full))
        .WithContext(context);
  }
  // Held until this function returns: nobody settles this restore while it runs.
  Result<std::unique_ptr<FilesRootLock>> lock = LockFilesRoot(parent.get(), path);
  if (!lock.ok()) return lock.status().WithContext(context);
  LB_RETURN_IF_ERROR(RecoverLocked(parent.get(), path, state).status().WithContext(context));
  struct stat parent_st;
  if (::fstat(parent.get(), &parent_st) != 0) {
    return ErrnoError(errno, "cannot examine " + QuoteFilesPath(path.parent)).WithContext(context);
  }
  struct stat st;
  bool root_exists = ::fstatat(parent.get(), path.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (!root_exists && errno != ENOENT) {
    return ErrnoError(errno, "cannot examine " + QuoteFilesPath(path.full)).WithContext(context);
  }
  mode_t root_mode = kNewRootMode;
  if (root_exists) {
    if (S_ISLNK(st.st_mode)) {
      return FailedPreconditionError(
          "files directory " + QuoteFilesPath(path.full) +
          " is a symbolic link; set the instance's `files` to the directory it points to");
    }
    if (!S_ISDIR(st.st_mode)) {
      return FailedPreconditionError("files directory " + QuoteFilesPath(path.full) +
                                     " is not a directory; move it away or correct the "
                                     "instance's `files` setting");
    }
    if (st.st_dev != parent_st.st_dev) {
      return FailedPreconditionError(
          "files directory " + QuoteFilesPath(path.full) +
          " is a mount point, so a restore cannot build the new tree beside it and swap it in; "
          "point the instance's `files` at a directory inside the mounted filesystem");
    }
    root_mode = st.st_mode & kFilesModeMask;
  }

  const std::string staging = path.name + kStagingInfix + RandomSuffix();
  if (::mkdirat(parent.get(), staging.c_str(), S_IRWXU) != 0) {
    return ErrnoError(errno,
                      "cannot create staging directory " + QuoteFilesPath(path.Beside(staging)))
        .WithContext(context);
  }
  TreeBuilder builder(store, progress, cancel, path.full);
  Status built;
  {
    Fd staging_fd(
        ::openat(parent.get(), staging.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!staging_fd.valid()) {
      built = ErrnoError(errno,
                         "cannot open staging directory " + QuoteFilesPath(path.Beside(staging)));
    } else {
      built = builder.Build(files, staging_fd.get());
      if (built.ok() && cancel != nullptr) built = cancel->Check();
      if (built.ok() && ::fchmod(staging_fd.get(), root_mode) != 0) {
        built = ErrnoError(errno, "cannot set the mode of " + QuoteFilesPath(path.Beside(staging)));
      }
      if (built.ok()) built = FsyncFd(staging_fd.get(), QuoteFilesPath(path.Beside(staging)));
    }
  }
  bool committed = false;
  bool in_doubt = false;
  if (built.ok() && commit != nullptr) {
    built = CommitDatabase(parent.get(), path, staging, *commit, &committed, &in_doubt);
  }
  if (built.ok()) {
    // The old tree ends up beside the root (under the staging name after an exchange).
    std::string old;
    if (root_exists) {
      Result<std::string> swapped = SwapIn(parent.get(), path, staging);
      if (swapped.ok()) old = *swapped;
      built = swapped.status();
    } else if (::renameat(parent.get(), staging.c_str(), parent.get(), path.name.c_str()) != 0) {
      built = ErrnoError(errno, "cannot move the restored tree " +
                                    QuoteFilesPath(path.Beside(staging)) + " to " +
                                    QuoteFilesPath(path.full));
    }
    // Until the swap is durable, the old tree is what a crash may bring back: keep it.
    if (built.ok()) built = FsyncFd(parent.get(), QuoteFilesPath(path.parent));
    if (built.ok()) {
      if (committed) {
        const std::string journal = path.Beside(RestoreJournalName(path.name));
        Status removed = RemoveRestoreJournal(parent.get(), path.name, journal);
        if (!removed.ok() && progress != nullptr) {
          progress->OnMessage(MessageLevel::kWarning,
                              removed.ToString() + "; the next restore removes it");
        }
      }
      // The restore is complete; a leftover old tree is only space, and the next restore
      // removes it.
      Status removed = old.empty() ? OkStatus() : RemoveTree(parent.get(), old, path.Beside(old));
      if (!removed.ok() && progress != nullptr) {
        progress->OnMessage(MessageLevel::kWarning,
                            "the previous files tree could not be removed (" + removed.ToString() +
                                "); the next restore removes it");
      }
      FsyncFd(parent.get(), QuoteFilesPath(path.parent)).IgnoreError();
      return builder.summary();
    }
  }
  if (committed) {
    // The database holds the backup's rows: the staged tree and the journal stay, for the next
    // operation on the instance to swap in.
    return built.WithContext(context + ": the database is restored, the files are staged at " +
                             QuoteFilesPath(path.Beside(staging)) +
                             "; the next lifeboat backup, restore or `maintenance off` of this "
                             "instance puts them in place");
  }
  if (in_doubt) return built.WithContext(context);
  Status removed = RemoveTree(parent.get(), staging, path.Beside(staging));
  if (!removed.ok() && progress != nullptr) {
    progress->OnMessage(MessageLevel::kWarning, "the staging directory could not be removed (" +
                                                    removed.ToString() +
                                                    "); the next restore removes it");
  }
  return built.WithContext(context);
}

}  // namespace lifeboat
