#include "storage/local_object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <utility>

#include "base/aligned_string.h"
#include "base/clock.h"
#include "base/encoding.h"

namespace lifeboat {
namespace {

// The infix that marks a temporary; ValidateObjectKey keeps it out of keys.
constexpr std::string_view kTemporaryInfix = ".tmp-";
// How many temporary names Put tries before it gives up (a clash needs 64 equal random bits).
constexpr int kTemporaryNameAttempts = 8;
// The largest single write(2); Linux transfers at most about 2 GiB per call anyway.
constexpr size_t kMaxWriteChunk = size_t{1} << 30;
constexpr mode_t kDirectoryMode = 0700;
constexpr mode_t kFileMode = 0600;

// strerror_r comes in a GNU flavour (returns the text) and an XSI one (fills the buffer);
// these overloads accept either.
[[maybe_unused]] const char* StrerrorText(int rc, const char* buffer) {
  return rc == 0 ? buffer : "unknown error";
}
[[maybe_unused]] const char* StrerrorText(const char* text, const char* /*buffer*/) {
  return text;
}

std::string ErrnoText(int error_number) {
  char buffer[256] = {};
  return StrerrorText(strerror_r(error_number, buffer, sizeof(buffer)), buffer);
}

// Closes a file descriptor when it goes out of scope.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and returns close(2)'s errno, or 0.
  int Close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Removes a temporary file unless Release() was called (the rename published it).
class TemporaryFileGuard {
 public:
  explicit TemporaryFileGuard(std::string path) : path_(std::move(path)) {}
  TemporaryFileGuard(const TemporaryFileGuard&) = delete;
  TemporaryFileGuard& operator=(const TemporaryFileGuard&) = delete;
  ~TemporaryFileGuard() {
    if (armed_) ::unlink(path_.c_str());
  }
  void Release() { armed_ = false; }

 private:
  std::string path_;
  bool armed_ = true;
};

int OpenRetryingOnEintr(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// 16 random lower-case hex characters for a temporary's name.
std::string RandomSuffix() {
  uint64_t value = 0;
  if (::getrandom(&value, sizeof(value), GRND_NONBLOCK) != static_cast<ssize_t>(sizeof(value))) {
    // No entropy yet (early boot): O_EXCL catches clashes, so a unique mix is enough.
    static std::atomic<uint64_t> counter{0};
    value = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
            (static_cast<uint64_t>(::getpid()) << 40) ^
            (counter.fetch_add(1) * 0x9e3779b97f4a7c15ULL);
  }
  return ToHex(std::string_view(reinterpret_cast<const char*>(&value), sizeof(value)));
}

// The directory part of `path` ("." for a bare relative name, "/" for "/name").
std::string ParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Makes a directory's entries durable. File systems that cannot fsync a directory (EINVAL)
// are accepted as they are.
Status SyncDirectory(const std::string& dir) {
  ScopedFd fd(OpenRetryingOnEintr(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoToStatus(errno, "open directory", dir);
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return ErrnoToStatus(errno, "sync directory", dir);
  return OkStatus();
}

// Makes every directory of `path` whose name ends after byte `start` (and `path` itself),
// fsyncing the parent of each one it creates. With `sync_existing` it also fsyncs the parent
// of a directory that already exists, for when another thread may have just made it and not
// yet synced its entry.
Status MakeDirectories(const std::string& path, size_t start, bool sync_existing) {
  size_t end = start;
  while (end < path.size()) {
    end = path.find('/', end + 1);
    if (end == std::string::npos) end = path.size();
    const std::string dir = path.substr(0, end);
    if (dir.empty() || dir.back() == '/') continue;  // "/" itself, or "a//b"
    if (::mkdir(dir.c_str(), kDirectoryMode) == 0) {
      LB_RETURN_IF_ERROR(SyncDirectory(ParentOf(dir)));
    } else if (errno == EEXIST) {
      if (sync_existing) LB_RETURN_IF_ERROR(SyncDirectory(ParentOf(dir)));
    } else {
      return ErrnoToStatus(errno, "create directory", dir);
    }
  }
  return OkStatus();
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const size_t chunk = data.size() < kMaxWriteChunk ? data.size() : kMaxWriteChunk;
    const ssize_t n = ::write(fd, data.data(), chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "write", path);
    }
    if (n == 0) return UnavailableError("cannot write " + path + ": the write made no progress");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

// Objects of at least this size are written past the page cache (WriteAllDirect).
constexpr size_t kDirectMinimum = size_t{1} << 20;

// Turns O_DIRECT on or off; false when the file system refuses it.
bool SetDirect(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return false;
  return ::fcntl(fd, F_SETFL, on ? flags | O_DIRECT : flags & ~O_DIRECT) == 0;
}

// Writes `data` like WriteAll, but when it is large and its storage is aligned (a pack, held
// in an AlignedString) the aligned prefix goes straight to the device and only the last
// partial block through the page cache. A pack is written once and read back rarely, so
// caching it would only push the application's own pages out of memory; and on a virtual
// machine that hands free memory back to its host, every new page-cache page also costs a
// fault on the host. What the file system does not take this way (no O_DIRECT, a refused
// first write, a short write) goes through the page cache instead.
Status WriteAllDirect(int fd, std::string_view data, const std::string& path) {
  const bool aligned = reinterpret_cast<uintptr_t>(data.data()) % kStorageAlignment == 0;
  if (data.size() < kDirectMinimum || !aligned || !SetDirect(fd, true)) {
    return WriteAll(fd, data, path);
  }
  const size_t direct_end = data.size() / kStorageAlignment * kStorageAlignment;
  size_t done = 0;
  while (done < direct_end) {
    const size_t piece = std::min(kMaxWriteChunk, direct_end - done);
    const ssize_t n = ::write(fd, data.data() + done, piece);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno != EINVAL || done != 0)) return ErrnoToStatus(errno, "write", path);
    if (n > 0) done += static_cast<size_t>(n);
    if (n <= 0 || done % kStorageAlignment != 0) break;
  }
  if (!SetDirect(fd, false)) return ErrnoToStatus(errno, "turn off O_DIRECT for", path);
  return WriteAll(fd, data.substr(done), path);
}

// Reads exactly `length` bytes at `offset` into `out`; false (and errno 0) at an early end.
bool PreadAll(int fd, char* out, uint64_t length, uint64_t offset) {
  while (length > 0) {
    const size_t chunk = length < kMaxWriteChunk ? static_cast<size_t>(length) : kMaxWriteChunk;
    const ssize_t n = ::pread(fd, out, chunk, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = 0;
      return false;
    }
    out += n;
    length -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

Status NoSuchObject(const std::string& path) {
  return NotFoundError("cannot read " + path + ": no such object");
}

// Opens an object for reading; NotFound when the key names nothing or a directory.
Status OpenObject(const std::string& path, int* fd, struct stat* st) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is rejected below); it does
  // not change reads of regular files.
  *fd = OpenRetryingOnEintr(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (*fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NoSuchObject(path);
    return ErrnoToStatus(errno, "read", path);
  }
  if (::fstat(*fd, st) != 0) {
    const int error_number = errno;
    ::close(*fd);
    *fd = -1;
    return ErrnoToStatus(error_number, "inspect", path);
  }
  if (!S_ISREG(st->st_mode)) {
    ::close(*fd);
    *fd = -1;
    return NoSuchObject(path);
  }
  return OkStatus();
}

// One regular file met by WalkDirectory.
struct WalkedFile {
  int dir_fd;                   // the directory that holds it, for *at() calls
  const std::string& dir_path;  // that directory's path, for messages
  const char* name;             // its name in that directory
  const std::string& key;       // its key (relative path from the root)
  const struct stat& st;        // its status (symbolic links followed)
  bool temporary;               // a "*.tmp-*" file
};
using WalkVisitor = std::function<Status(const WalkedFile&)>;

// Calls `visit` for every regular file under the directory open as `fd` (which it takes
// over), depth first, one directory at a time. `key` holds the key prefix of that directory
// ("" or "data/3f/") and is restored on return. At the top level only the entries whose names
// start with `name_filter` are visited. Directory symbolic links are not followed, and names
// that cannot be keys (a backslash) are skipped. Entries that vanish meanwhile are skipped.
Status WalkDirectory(int fd, const std::string& dir_path, std::string* key,
                     std::string_view name_filter, const WalkVisitor& visit) {
  DIR* raw_dir = ::fdopendir(fd);
  if (raw_dir == nullptr) {
    const int error_number = errno;
    ::close(fd);
    return ErrnoToStatus(error_number, "list", dir_path);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> dir(raw_dir, &::closedir);
  const int dir_fd = ::dirfd(dir.get());
  while (true) {
    errno = 0;
    const struct dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) return ErrnoToStatus(errno, "list", dir_path);
      return OkStatus();
    }
    const std::string_view name = entry->d_name;
    if (name == "." || name == ".." || !name.starts_with(name_filter)) continue;
    if (name.find('\\') != std::string_view::npos) continue;

    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {  // some file systems do not fill d_type
      struct stat lst;
      if (::fstatat(dir_fd, entry->d_name, &lst, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;
        return ErrnoToStatus(errno, "inspect", dir_path + "/" + entry->d_name);
      }
      type = S_ISDIR(lst.st_mode) ? DT_DIR : S_ISLNK(lst.st_mode) ? DT_LNK : DT_REG;
    }

    if (type == DT_DIR) {
      if (name.find(kTemporaryInfix) != std::string_view::npos) continue;
      const std::string child_path = dir_path + "/" + entry->d_name;
      const int child_fd =
          ::openat(dir_fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child_fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) continue;
        return ErrnoToStatus(errno, "list", child_path);
      }
      const size_t key_size = key->size();
      key->append(name);
      key->push_back('/');
      Status status = WalkDirectory(child_fd, child_path, key, "", visit);
      key->resize(key_size);
      LB_RETURN_IF_ERROR(status);
      continue;
    }
    if (type != DT_REG && type != DT_LNK) continue;  // sockets, fifos, devices

    struct stat st;
    if (::fstatat(dir_fd, entry->d_name, &st, 0) != 0) {
      if (errno == ENOENT) continue;  // deleted meanwhile, or a dangling link
      return ErrnoToStatus(errno, "inspect", dir_path + "/" + entry->d_name);
    }
    if (!S_ISREG(st.st_mode)) continue;  // a link to a directory or a special file
    const size_t key_size = key->size();
    key->append(name);
    Status status = visit(WalkedFile{dir_fd, dir_path, entry->d_name, *key, st,
                                     name.find(kTemporaryInfix) != std::string_view::npos});
    key->resize(key_size);
    LB_RETURN_IF_ERROR(status);
  }
}

}  // namespace

Status ErrnoToStatus(int error_number, std::string_view action, std::string_view path) {
  std::string message = "cannot ";
  message += action;
  message += ' ';
  message += path;
  message += ": ";
  message += ErrnoText(error_number);
  switch (error_number) {
    case ENOENT: return NotFoundError(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS: return PermissionDeniedError(std::move(message));
    case ENAMETOOLONG: return InvalidArgumentError(std::move(message));
    case ENOTDIR:
    case EISDIR:
    case ELOOP: return FailedPreconditionError(std::move(message));
    default: return UnavailableError(std::move(message));
  }
}

LocalObjectStore::LocalObjectStore(std::string root)
    : root_(std::move(root)), root_slash_(root_ == "/" ? root_ : root_ + "/") {}

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Open(const std::string& root,
                                                                 bool create) {
  if (root.empty()) return InvalidArgumentError("the repository path is empty");
  std::string clean = root;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();

  struct stat st;
  if (::stat(clean.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoToStatus(errno, "open repository", clean);
    if (!create) {
      return NotFoundError("there is no repository at " + clean +
                           " (no such directory); run `lifeboat init` to create one");
    }
    LB_RETURN_IF_ERROR(MakeDirectories(clean, 0, /*sync_existing=*/false));
  } else if (!S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("cannot open repository " + clean + ": it is not a directory");
  }
  return std::unique_ptr<LocalObjectStore>(new LocalObjectStore(std::move(clean)));
}

std::string LocalObjectStore::PathOf(std::string_view key) const {
  std::string path = root_slash_;
  path += key;
  return path;
}

Status LocalObjectStore::Put(std::string_view key, std::string_view data) {
  LB_RETURN_IF_ERROR(ValidateObjectKey(key));
  const std::string path = PathOf(key);
  const std::string dir = ParentOf(path);

  std::string temporary;
  int raw_fd = -1;
  bool made_directories = false;
  for (int attempt = 0; raw_fd < 0; ++attempt) {
    temporary = path;
    temporary += kTemporaryInfix;
    temporary += RandomSuffix();
    raw_fd =
        OpenRetryingOnEintr(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
    if (raw_fd >= 0) break;
    const int error_number = errno;
    if (error_number == EEXIST && attempt + 1 < kTemporaryNameAttempts) continue;
    if (error_number == ENOENT && !made_directories && dir.size() > root_.size()) {
      LB_RETURN_IF_ERROR(MakeDirectories(dir, root_.size(), /*sync_existing=*/true));
      made_directories = true;
      continue;
    }
    return ErrnoToStatus(error_number, "write", path);
  }
  ScopedFd fd(raw_fd);
  TemporaryFileGuard guard(temporary);

  LB_RETURN_IF_ERROR(WriteAllDirect(fd.get(), data, path));
  if (::fsync(fd.get()) != 0) return ErrnoToStatus(errno, "sync", path);
  if (const int error_number = fd.Close(); error_number != 0) {
    return ErrnoToStatus(error_number, "write", path);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return ErrnoToStatus(errno, "rename a temporary over", path);
  }
  guard.Release();
  LB_RETURN_IF_ERROR(SyncDirectory(dir));
  return MakeDirectoryDurable(dir);
}

Status LocalObjectStore::MakeDirectoryDurable(const std::string& dir) {
  if (dir.size() <= root_.size()) return OkStatus();
  {
    std::lock_guard<std::mutex> lock(durable_mu_);
    if (durable_dirs_.count(dir) != 0) return OkStatus();
  }
  LB_RETURN_IF_ERROR(MakeDirectories(dir, root_.size(), /*sync_existing=*/true));
  std::lock_guard<std::mutex> lock(durable_mu_);
  durable_dirs_.insert(dir);
  return OkStatus();
}

Result<std::string> LocalObjectStore::Get(std::string_view key) {
  LB_RETURN_IF_ERROR(ValidateObjectKey(key));
  const std::string path = PathOf(key);
  int raw_fd = -1;
  struct stat st;
  LB_RETURN_IF_ERROR(OpenObject(path, &raw_fd, &st));
  ScopedFd fd(raw_fd);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  std::string data(size, '\0');
  if (!PreadAll(fd.get(), data.data(), size, 0)) {
    if (errno != 0) return ErrnoToStatus(errno, "read", path);
    return DataLossError("cannot read " + path + ": the object shrank while it was read");
  }
  return data;
}

Result<std::string> LocalObjectStore::GetRange(std::string_view key, uint64_t offset,
                                               uint64_t length) {
  LB_RETURN_IF_ERROR(ValidateObjectKey(key));
  const std::string path = PathOf(key);
  int raw_fd = -1;
  struct stat st;
  LB_RETURN_IF_ERROR(OpenObject(path, &raw_fd, &st));
  ScopedFd fd(raw_fd);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  auto too_short = [&](uint64_t actual) {
    return DataLossError("object " + path + " is " + std::to_string(actual) +
                         " bytes, cannot read " + std::to_string(offset) + ".." +
                         std::to_string(offset + length));
  };
  if (offset > size || length > size - offset) return too_short(size);
  std::string data(length, '\0');
  if (!PreadAll(fd.get(), data.data(), length, offset)) {
    if (errno != 0) return ErrnoToStatus(errno, "read", path);
    struct stat now;
    return too_short(::fstat(fd.get(), &now) == 0 ? static_cast<uint64_t>(now.st_size) : size);
  }
  return data;
}

Result<uint64_t> LocalObjectStore::Size(std::string_view key) {
  LB_RETURN_IF_ERROR(ValidateObjectKey(key));
  const std::string path = PathOf(key);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NoSuchObject(path);
    return ErrnoToStatus(errno, "inspect", path);
  }
  if (!S_ISREG(st.st_mode)) return NoSuchObject(path);
  return static_cast<uint64_t>(st.st_size);
}

Status LocalObjectStore::List(std::string_view prefix,
                              const std::function<Status(const ObjectInfo&)>& fn) {
  LB_RETURN_IF_ERROR(ValidateObjectKeyPrefix(prefix));
  // "snapshots/ab": walk <root>/snapshots, keeping the names that start with "ab".
  const size_t slash = prefix.rfind('/');
  std::string key(slash == std::string_view::npos ? std::string_view()
                                                  : prefix.substr(0, slash + 1));
  const std::string_view name_filter = prefix.substr(key.size());
  const std::string dir = key.empty() ? root_ : root_slash_ + key.substr(0, key.size() - 1);

  const int fd = OpenRetryingOnEintr(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return OkStatus();  // nothing under the prefix
    return ErrnoToStatus(errno, "list", dir);
  }
  ObjectInfo info;
  return WalkDirectory(fd, dir, &key, name_filter, [&](const WalkedFile& file) {
    if (file.temporary) return OkStatus();
    info.key = file.key;
    info.size = static_cast<uint64_t>(file.st.st_size);
    return fn(info);
  });
}

Status LocalObjectStore::Delete(std::string_view key) {
  LB_RETURN_IF_ERROR(ValidateObjectKey(key));
  const std::string path = PathOf(key);
  if (::unlink(path.c_str()) == 0) return OkStatus();
  const int error_number = errno;
  if (error_number == ENOENT || error_number == ENOTDIR) return OkStatus();
  if (error_number == EISDIR || error_number == EPERM) {
    // A directory is not an object: there is nothing to delete, and it stays.
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return OkStatus();
  }
  return ErrnoToStatus(error_number, "delete", path);
}

Status LocalObjectStore::RemoveStaleTemporaries(int64_t older_than_unix_nanos) {
  const int fd = OpenRetryingOnEintr(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "list", root_);
  std::string key;
  return WalkDirectory(fd, root_, &key, "", [&](const WalkedFile& file) {
    if (!file.temporary) return OkStatus();
    const int64_t modified =
        static_cast<int64_t>(file.st.st_mtim.tv_sec) * kNanosPerSecond + file.st.st_mtim.tv_nsec;
    if (modified >= older_than_unix_nanos) return OkStatus();
    if (::unlinkat(file.dir_fd, file.name, 0) != 0 && errno != ENOENT) {
      return ErrnoToStatus(errno, "remove temporary", file.dir_path + "/" + file.name);
    }
    return OkStatus();
  });
}

}  // namespace lifeboat
