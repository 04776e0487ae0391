#include "ops/files_entry.h"

#include <algorithm>
#include <cstdio>

#include "base/encoding.h"
#include "codec/hash.h"

namespace lifeboat {

namespace {

constexpr size_t kBufferSize = 64 * 1024;
constexpr size_t kMaxVarintBytes = 10;
// Keeps `blob_count * kHashSize` within 64 bits.
constexpr uint64_t kMaxBlobCount = uint64_t{1} << 58;

// '/' sorts before every other byte, so a path sorts right after its directory and before
// any sibling whose name extends the directory's name ("a/z" < "a.txt").
inline int OrderKey(unsigned char c) {
  return c == '/' ? 0 : static_cast<int>(c) + 1;
}

// True when `dir` is "" (the root), equal to `path`, or a directory above it.
bool IsSameOrAncestor(std::string_view dir, std::string_view path) {
  if (dir.empty() || dir == path) return true;
  return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

std::string LeaveError(std::string_view path) {
  return "files list entry " + QuoteFilesPath(path) + " would leave the files directory";
}

}  // namespace

int CompareFilesPaths(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    int ka = OrderKey(static_cast<unsigned char>(a[i]));
    int kb = OrderKey(static_cast<unsigned char>(b[i]));
    if (ka != kb) return ka < kb ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

Status ValidateFilesPath(std::string_view path) {
  if (path.empty() || path.size() > kMaxFilesPathBytes ||
      path.find('\0') != std::string_view::npos) {
    return DataLossError(LeaveError(path));
  }
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view component = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (component.empty() || component == "." || component == "..") {
      return DataLossError(LeaveError(path));
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return OkStatus();
}

std::string QuoteFilesPath(std::string_view path) {
  std::string out = "'";
  for (char ch : path) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
      char escaped[5];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      out += escaped;
    } else {
      out += ch;
    }
  }
  out += "'";
  return out;
}

std::string_view FilesPathParent(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view FilesPathName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// ---------------------------------------------------------------------------------------------
// FilesEntryWriter

Status FilesEntryWriter::Add(const FilesEntry& entry) {
  if (ids_owed_ != 0) {
    return InternalError("files list entry " + QuoteFilesPath(entry.path) +
                         " follows a file entry that is missing " + std::to_string(ids_owed_) +
                         " blob ids");
  }
  header_.clear();
  PutLengthPrefixed(&header_, entry.path);
  header_.push_back(static_cast<char>(entry.kind));
  PutVarint64(&header_, entry.mode);
  PutVarint64(&header_, ZigZagEncode(entry.mtime_ns));
  PutVarint64(&header_, ZigZagEncode(entry.ctime_ns));
  PutVarint64(&header_, entry.inode);
  PutVarint64(&header_, entry.size);
  switch (entry.kind) {
    case FilesEntryKind::kFile:
      PutVarint64(&header_, entry.blob_count);
      ids_owed_ = entry.blob_count;
      break;
    case FilesEntryKind::kSymlink: PutLengthPrefixed(&header_, entry.symlink_target); break;
    case FilesEntryKind::kDirectory: break;
  }
  return out_->Write(header_);
}

Status FilesEntryWriter::AddBlobId(std::string_view id) {
  if (ids_owed_ == 0) return InternalError("files list: a blob id without a file entry");
  if (id.size() != kHashSize) {
    return InternalError("files list: a blob id of " + std::to_string(id.size()) + " bytes");
  }
  --ids_owed_;
  return out_->Write(id);
}

Status FilesEntryWriter::Finish() {
  if (ids_owed_ != 0) {
    return InternalError("files list ends inside a file entry that is missing " +
                         std::to_string(ids_owed_) + " blob ids");
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// FilesEntryReader

FilesEntryReader::FilesEntryReader(ByteReader* in) : in_(in) {
  buf_.reserve(kBufferSize);
}

Result<bool> FilesEntryReader::Fill(size_t n) {
  if (buf_.size() - pos_ >= n) return true;
  buf_.erase(0, pos_);
  pos_ = 0;
  while (buf_.size() < n) {
    size_t old = buf_.size();
    buf_.resize(kBufferSize);
    Result<size_t> got = in_->Read(buf_.data() + old, kBufferSize - old);
    if (!got.ok()) {
      buf_.resize(old);
      return got.status();
    }
    buf_.resize(old + *got);
    if (*got == 0) return false;
  }
  return true;
}

Status FilesEntryReader::Truncated() const {
  if (!has_previous_) return DataLossError("files list is truncated in its first entry");
  return DataLossError("files list is truncated in the entry after " +
                       QuoteFilesPath(previous_path_));
}

Status FilesEntryReader::ReadByte(uint8_t* value) {
  LB_ASSIGN_OR_RETURN(bool have, Fill(1));
  if (!have) return Truncated();
  *value = static_cast<uint8_t>(buf_[pos_++]);
  return OkStatus();
}

Status FilesEntryReader::ReadVarint(uint64_t* value) {
  uint64_t result = 0;
  for (size_t i = 0; i < kMaxVarintBytes; ++i) {
    uint8_t byte = 0;
    LB_RETURN_IF_ERROR(ReadByte(&byte));
    if (i == kMaxVarintBytes - 1 && byte > 1) break;  // more than 64 bits
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *value = result;
      return OkStatus();
    }
  }
  return DataLossError(
      "files list holds a malformed varint" +
      (has_previous_ ? " after entry " + QuoteFilesPath(previous_path_) : std::string()));
}

Status FilesEntryReader::ReadBytes(size_t n, std::string* out) {
  out->clear();
  size_t take = std::min(n, buf_.size() - pos_);
  out->append(buf_, pos_, take);
  pos_ += take;
  if (take == n) return OkStatus();
  out->resize(n);
  Status status = in_->ReadExactly(out->data() + take, n - take, "files list");
  if (status.code() == StatusCode::kDataLoss) return Truncated();
  return status;
}

Status FilesEntryReader::SkipBytes(uint64_t n) {
  while (n > 0) {
    LB_ASSIGN_OR_RETURN(bool have, Fill(1));
    if (!have) return Truncated();
    size_t take = static_cast<size_t>(std::min<uint64_t>(n, buf_.size() - pos_));
    pos_ += take;
    n -= take;
  }
  return OkStatus();
}

Result<bool> FilesEntryReader::Next(FilesEntry* entry) {
  if (ids_left_ > 0) {
    LB_RETURN_IF_ERROR(SkipBytes(ids_left_ * kHashSize));
    ids_left_ = 0;
  }
  LB_ASSIGN_OR_RETURN(bool more, Fill(1));
  if (!more) return false;

  uint64_t path_size = 0;
  LB_RETURN_IF_ERROR(ReadVarint(&path_size));
  if (path_size > kMaxFilesPathBytes) {
    return DataLossError(
        "files list entry after " +
        (has_previous_ ? QuoteFilesPath(previous_path_) : std::string("the start")) +
        " has a path of " + std::to_string(path_size) + " bytes (the limit is " +
        std::to_string(kMaxFilesPathBytes) + ")");
  }
  LB_RETURN_IF_ERROR(ReadBytes(static_cast<size_t>(path_size), &entry->path));
  LB_RETURN_IF_ERROR(ValidateFilesPath(entry->path));
  const std::string where = "files list entry " + QuoteFilesPath(entry->path);

  uint8_t kind = 0;
  LB_RETURN_IF_ERROR(ReadByte(&kind));
  if (kind < static_cast<uint8_t>(FilesEntryKind::kFile) ||
      kind > static_cast<uint8_t>(FilesEntryKind::kSymlink)) {
    return DataLossError(where + " has unknown kind " + std::to_string(kind));
  }
  entry->kind = static_cast<FilesEntryKind>(kind);
  uint64_t mode = 0;
  LB_RETURN_IF_ERROR(ReadVarint(&mode));
  if (mode > kFilesModeMask) {
    return DataLossError(where + " has mode " + std::to_string(mode) +
                         ", which is more than permission bits");
  }
  entry->mode = static_cast<uint32_t>(mode);
  uint64_t zigzag = 0;
  LB_RETURN_IF_ERROR(ReadVarint(&zigzag));
  entry->mtime_ns = ZigZagDecode(zigzag);
  LB_RETURN_IF_ERROR(ReadVarint(&zigzag));
  entry->ctime_ns = ZigZagDecode(zigzag);
  LB_RETURN_IF_ERROR(ReadVarint(&entry->inode));
  LB_RETURN_IF_ERROR(ReadVarint(&entry->size));
  entry->blob_count = 0;
  entry->symlink_target.clear();

  switch (entry->kind) {
    case FilesEntryKind::kFile:
      LB_RETURN_IF_ERROR(ReadVarint(&entry->blob_count));
      // Every blob holds at least one byte, and a non-empty file at least one blob.
      if (entry->blob_count > entry->size || entry->blob_count > kMaxBlobCount ||
          (entry->size > 0 && entry->blob_count == 0)) {
        return DataLossError(where + " lists " + std::to_string(entry->blob_count) + " blobs for " +
                             std::to_string(entry->size) + " bytes");
      }
      break;
    case FilesEntryKind::kSymlink: {
      uint64_t target_size = 0;
      LB_RETURN_IF_ERROR(ReadVarint(&target_size));
      if (target_size == 0 || target_size > kMaxSymlinkTargetBytes) {
        return DataLossError(where + " has a symlink target of " + std::to_string(target_size) +
                             " bytes");
      }
      LB_RETURN_IF_ERROR(ReadBytes(static_cast<size_t>(target_size), &entry->symlink_target));
      if (entry->symlink_target.find('\0') != std::string::npos) {
        return DataLossError(where + " has a symlink target with a NUL byte");
      }
      break;
    }
    case FilesEntryKind::kDirectory: break;
  }
  LB_RETURN_IF_ERROR(CheckPlacement(*entry));
  ids_left_ = entry->blob_count;
  return true;
}

Status FilesEntryReader::CheckPlacement(const FilesEntry& entry) {
  const std::string& path = entry.path;
  if (has_previous_) {
    int order = CompareFilesPaths(previous_path_, path);
    if (order == 0) {
      return DataLossError("files list entry " + QuoteFilesPath(path) + " appears twice");
    }
    if (order > 0) {
      return DataLossError("files list entry " + QuoteFilesPath(path) +
                           " is out of order: it comes after " + QuoteFilesPath(previous_path_));
    }
  }
  std::string_view parent = FilesPathParent(path);
  while (!open_dirs_.empty() && !IsSameOrAncestor(open_dirs_.back(), parent)) {
    open_dirs_.pop_back();
  }
  std::string_view enclosing = open_dirs_.empty() ? std::string_view() : open_dirs_.back();
  if (parent != enclosing) {
    // Sorted order puts a non-directory that shadows `parent` right before this entry.
    if (has_previous_ && !previous_is_directory_ && IsSameOrAncestor(previous_path_, parent)) {
      return DataLossError(LeaveError(path) + ": " + QuoteFilesPath(previous_path_) +
                           " is not a directory");
    }
    return DataLossError("files list entry " + QuoteFilesPath(path) + " has no directory entry " +
                         QuoteFilesPath(parent) + " before it");
  }
  if (entry.kind == FilesEntryKind::kDirectory) open_dirs_.push_back(path);
  previous_path_ = path;
  previous_is_directory_ = entry.kind == FilesEntryKind::kDirectory;
  has_previous_ = true;
  return OkStatus();
}

Result<bool> FilesEntryReader::NextBlobId(std::string* id) {
  if (ids_left_ == 0) return false;
  LB_ASSIGN_OR_RETURN(bool have, Fill(kHashSize));
  if (!have) return Truncated();
  id->assign(buf_, pos_, kHashSize);
  pos_ += kHashSize;
  --ids_left_;
  return true;
}

}  // namespace lifeboat
