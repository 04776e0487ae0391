#include "ops/files_backup.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "ops/files_entry.h"
#include "repo/memory_blob_store.h"

namespace lifeboat {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "lifeboat-files-backup-XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    for (const auto& entry : fs::recursive_directory_iterator(path_, ignored)) {
      if (entry.is_directory(ignored) && !entry.is_symlink(ignored)) {
        ::chmod(entry.path().c_str(), 0700);
      }
    }
    fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

std::string PseudoRandom(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x);
  }
  return out;
}

void SetMtime(const std::string& path, int64_t nanos) {
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = nanos / kNanosPerSecond;
  times[1].tv_nsec = nanos % kNanosPerSecond;
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

int64_t Now() {
  return Clock::Real()->NowUnixNanos();
}

// Options under which files written by the test are not racy: the backup "starts" later.
FilesBackupOptions SettledOptions() {
  FilesBackupOptions options;
  options.start_time_nanos = Now() + 10 * kNanosPerSecond;
  return options;
}

class RecordingSink : public ProgressSink {
 public:
  void OnProgress(const Progress&) override {}
  void OnMessage(MessageLevel level, const std::string& text) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (level == MessageLevel::kWarning) warnings_.push_back(text);
  }
  std::vector<std::string> warnings() const {
    std::lock_guard<std::mutex> lock(mu_);
    return warnings_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> warnings_;
};

struct ListedEntry {
  FilesEntry entry;
  std::string content;  // a file's bytes, joined from its blobs
};

// Decodes a files stream, loading every file's blobs.
std::vector<ListedEntry> List(BlobStore* store, const StreamRef& ref) {
  std::vector<ListedEntry> out;
  StreamReader stream(store, ref);
  FilesEntryReader reader(&stream);
  while (true) {
    ListedEntry listed;
    Result<bool> more = reader.Next(&listed.entry);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    std::string id;
    while (*reader.NextBlobId(&id)) listed.content += *store->LoadBlob(id);
    out.push_back(std::move(listed));
  }
  return out;
}

const ListedEntry* Find(const std::vector<ListedEntry>& list, const std::string& path) {
  for (const ListedEntry& listed : list) {
    if (listed.entry.path == path) return &listed;
  }
  return nullptr;
}

class FilesBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    ASSERT_TRUE(fs::create_directory(root_));
  }

  Result<FilesSummary> Backup(const std::optional<StreamRef>& parent,
                              const FilesBackupOptions& options) {
    return BackupFiles(root_, &store_, parent, options, &sink_, nullptr);
  }

  TempDir dir_;
  std::string root_;
  MemoryBlobStore store_;
  RecordingSink sink_;
};

TEST_F(FilesBackupTest, ListsFilesDirectoriesAndSymlinksInTreeOrder) {
  ASSERT_TRUE(fs::create_directories(root_ + "/a/deep"));
  WriteFile(root_ + "/a/deep/x", "x");
  WriteFile(root_ + "/a.txt", "dot");
  WriteFile(root_ + "/a0", "zero");
  WriteFile(root_ + "/empty", "");
  std::string big = PseudoRandom(3 << 20, 1);
  WriteFile(root_ + "/big.bin", big);
  fs::create_symlink("a.txt", root_ + "/link");

  Result<FilesSummary> summary = Backup(std::nullopt, SettledOptions());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->count, 5u);
  EXPECT_EQ(summary->bytes, 1u + 3 + 4 + 0 + big.size());
  EXPECT_EQ(summary->dirs, 2u);
  EXPECT_EQ(summary->symlinks, 1u);
  EXPECT_EQ(summary->files_reread, 5u);
  EXPECT_EQ(summary->files_unchanged, 0u);
  EXPECT_GT(summary->new_blobs, 5u);

  std::vector<ListedEntry> list = List(&store_, summary->content);
  std::vector<std::string> paths;
  for (const ListedEntry& listed : list) paths.push_back(listed.entry.path);
  EXPECT_THAT(paths, ::testing::ElementsAre("a", "a/deep", "a/deep/x", "a.txt", "a0", "big.bin",
                                            "empty", "link"));
  EXPECT_EQ(Find(list, "big.bin")->content, big);
  EXPECT_GT(Find(list, "big.bin")->entry.blob_count, 1u);
  EXPECT_EQ(Find(list, "empty")->entry.blob_count, 0u);
  EXPECT_EQ(Find(list, "link")->entry.kind, FilesEntryKind::kSymlink);
  EXPECT_EQ(Find(list, "link")->entry.symlink_target, "a.txt");
  EXPECT_EQ(Find(list, "a")->entry.kind, FilesEntryKind::kDirectory);
}

TEST_F(FilesBackupTest, SkipsSpecialFilesWithAWarning) {
  WriteFile(root_ + "/kept", "k");
  ASSERT_EQ(::mkfifo((root_ + "/pipe").c_str(), 0600), 0);
  Result<FilesSummary> summary = Backup(std::nullopt, SettledOptions());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->count, 1u);
  EXPECT_EQ(summary->skipped, 1u);
  ASSERT_EQ(sink_.warnings().size(), 1u);
  EXPECT_THAT(sink_.warnings()[0], HasSubstr("pipe"));
  EXPECT_THAT(sink_.warnings()[0], HasSubstr("FIFO"));
}

TEST_F(FilesBackupTest, RefusesASymlinkedOrMissingRoot) {
  fs::create_symlink(root_, dir_ / "via-link");
  Result<FilesSummary> summary =
      BackupFiles(dir_ / "via-link", &store_, std::nullopt, SettledOptions(), nullptr, nullptr);
  EXPECT_EQ(summary.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(summary.status().message(), HasSubstr("symbolic link"));

  summary =
      BackupFiles(dir_ / "missing", &store_, std::nullopt, SettledOptions(), nullptr, nullptr);
  EXPECT_EQ(summary.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(summary.status().message(), HasSubstr("missing"));
}

TEST_F(FilesBackupTest, SecondBackupReusesUnchangedFilesWithoutReadingThem) {
  // Names chosen so that bytewise path order and tree order differ ("a.txt" vs "a/x").
  ASSERT_TRUE(fs::create_directories(root_ + "/a/sub"));
  WriteFile(root_ + "/a/x", "in a");
  WriteFile(root_ + "/a/sub/y", "in sub");
  WriteFile(root_ + "/a.txt", "beside a");
  WriteFile(root_ + "/big.bin", PseudoRandom(3 << 20, 2));
  fs::create_symlink("a.txt", root_ + "/link");

  FilesBackupOptions options = SettledOptions();
  Result<FilesSummary> first = Backup(std::nullopt, options);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  size_t blobs_after_first = store_.blob_count();

  FilesBackupOptions second_options = SettledOptions();
  second_options.parent_start_time_nanos = options.start_time_nanos;
  Result<FilesSummary> second = Backup(first->content, second_options);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->files_unchanged, 4u);
  EXPECT_EQ(second->files_reread, 0u);
  EXPECT_EQ(second->new_blobs, 0u);
  EXPECT_EQ(store_.blob_count(), blobs_after_first);
  EXPECT_EQ(second->content.trees, first->content.trees);
  EXPECT_EQ(second->bytes, first->bytes);
  EXPECT_TRUE(sink_.warnings().empty());
}

TEST_F(FilesBackupTest, MergesWithAParentThatHasOtherFiles) {
  ASSERT_TRUE(fs::create_directories(root_ + "/d"));
  WriteFile(root_ + "/b", "b");
  WriteFile(root_ + "/d/kept", "kept");
  WriteFile(root_ + "/d/gone", "gone");
  FilesBackupOptions options = SettledOptions();
  Result<FilesSummary> first = Backup(std::nullopt, options);
  ASSERT_TRUE(first.ok());

  fs::remove(root_ + "/d/gone");
  WriteFile(root_ + "/a", "new before");
  WriteFile(root_ + "/c", "new between");
  WriteFile(root_ + "/d/new", "new inside");
  WriteFile(root_ + "/z", "new after");
  Result<FilesSummary> second = Backup(first->content, SettledOptions());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->files_unchanged, 2u);  // b, d/kept
  EXPECT_EQ(second->files_reread, 4u);
  std::vector<ListedEntry> list = List(&store_, second->content);
  EXPECT_EQ(Find(list, "d/gone"), nullptr);
  EXPECT_EQ(Find(list, "d/kept")->content, "kept");
  EXPECT_EQ(Find(list, "d/new")->content, "new inside");
}

TEST_F(FilesBackupTest, ReReadsAFileChangedWithTheSameSizeAndMtime) {
  WriteFile(root_ + "/in-place", "old content");
  WriteFile(root_ + "/replaced", "old content");
  int64_t mtime = Now() - 3600 * kNanosPerSecond;
  SetMtime(root_ + "/in-place", mtime);
  SetMtime(root_ + "/replaced", mtime);
  Result<FilesSummary> first = Backup(std::nullopt, SettledOptions());
  ASSERT_TRUE(first.ok());

  // Same size, mtime put back: only ctime (in place) or the inode (replaced) tells.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  WriteFile(root_ + "/in-place", "new content");
  SetMtime(root_ + "/in-place", mtime);
  WriteFile(root_ + "/replacement", "new content");
  SetMtime(root_ + "/replacement", mtime);
  fs::rename(root_ + "/replacement", root_ + "/replaced");

  Result<FilesSummary> second = Backup(first->content, SettledOptions());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->files_reread, 2u);
  EXPECT_EQ(second->files_unchanged, 0u);
  std::vector<ListedEntry> list = List(&store_, second->content);
  EXPECT_EQ(Find(list, "in-place")->content, "new content");
  EXPECT_EQ(Find(list, "replaced")->content, "new content");
}

TEST_F(FilesBackupTest, ReReadsAFileModifiedCloseToTheBackupStart) {
  WriteFile(root_ + "/recent", "r");
  Result<FilesSummary> first = Backup(std::nullopt, SettledOptions());
  ASSERT_TRUE(first.ok());
  // The file's ctime is now, within the racy window of a backup starting now.
  Result<FilesSummary> second = Backup(first->content, FilesBackupOptions());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->files_reread, 1u);
  EXPECT_EQ(second->files_unchanged, 0u);
}

TEST_F(FilesBackupTest, ReReadsAFileTheParentRecordedCloseToItsStart) {
  WriteFile(root_ + "/f", "f");
  FilesBackupOptions first_options;
  first_options.start_time_nanos = Now();
  Result<FilesSummary> first = Backup(std::nullopt, first_options);
  ASSERT_TRUE(first.ok());

  // Long after: the file is settled now, but the parent read it while it was racy.
  FilesBackupOptions second_options = SettledOptions();
  second_options.parent_start_time_nanos = first_options.start_time_nanos;
  Result<FilesSummary> second = Backup(first->content, second_options);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->files_reread, 1u);

  // A parent that started well after the file's last change is trusted.
  second_options.parent_start_time_nanos = Now() + 10 * kNanosPerSecond;
  Result<FilesSummary> third = Backup(first->content, second_options);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->files_unchanged, 1u);
}

// Appends to a file whenever a blob is saved, that is while the backup is reading the file.
class AppendingBlobStore : public MemoryBlobStore {
 public:
  AppendingBlobStore(std::string path, int appends) : path_(std::move(path)), left_(appends) {}
  Result<SaveResult> SaveBlob(BlobType type, std::string_view plaintext) override {
    if (left_ > 0) {
      --left_;
      std::ofstream out(path_, std::ios::binary | std::ios::app);
      out << "appended";
    }
    return MemoryBlobStore::SaveBlob(type, plaintext);
  }

 private:
  std::string path_;
  int left_;
};

TEST_F(FilesBackupTest, ReadsAFileAgainWhenItChangesDuringTheRead) {
  std::string path = root_ + "/growing";
  WriteFile(path, PseudoRandom(3 << 20, 3));
  AppendingBlobStore store(path, 1);
  Result<FilesSummary> summary =
      BackupFiles(root_, &store, std::nullopt, SettledOptions(), &sink_, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->files_reread, 1u);
  EXPECT_TRUE(sink_.warnings().empty());
  std::vector<ListedEntry> list = List(&store, summary->content);
  EXPECT_EQ(Find(list, "growing")->content, PseudoRandom(3 << 20, 3) + "appended");
  EXPECT_EQ(Find(list, "growing")->entry.size, (3u << 20) + 8);
}

TEST_F(FilesBackupTest, WarnsWhenAFileKeepsChangingDuringTheRead) {
  std::string path = root_ + "/busy";
  WriteFile(path, PseudoRandom(3 << 20, 4));
  AppendingBlobStore store(path, 1000);
  Result<FilesSummary> summary =
      BackupFiles(root_, &store, std::nullopt, SettledOptions(), &sink_, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(sink_.warnings().size(), 1u);
  EXPECT_THAT(sink_.warnings()[0], HasSubstr("busy"));
  EXPECT_THAT(sink_.warnings()[0], HasSubstr("changed while it was read"));
  std::vector<ListedEntry> list = List(&store, summary->content);
  EXPECT_EQ(Find(list, "busy")->entry.size, Find(list, "busy")->content.size());
}

TEST_F(FilesBackupTest, ReadsEverythingWhenTheParentListIsDamaged) {
  WriteFile(root_ + "/a", "a");
  WriteFile(root_ + "/b", "b");
  StreamRef damaged;
  damaged.trees.push_back(std::string(32, '\x01'));
  damaged.bytes = 100;
  damaged.blobs = 1;
  Result<FilesSummary> summary = Backup(damaged, SettledOptions());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->files_reread, 2u);
  ASSERT_EQ(sink_.warnings().size(), 1u);
  EXPECT_THAT(sink_.warnings()[0], HasSubstr("previous backup's files list"));
}

TEST_F(FilesBackupTest, StopsWhenCancelled) {
  WriteFile(root_ + "/a", "a");
  CancellationToken cancel;
  cancel.Cancel(CancelledError("stopped by the user"));
  Result<FilesSummary> summary =
      BackupFiles(root_, &store_, std::nullopt, SettledOptions(), nullptr, &cancel);
  EXPECT_EQ(summary.status().code(), StatusCode::kCancelled);
}

TEST_F(FilesBackupTest, FailsNamingAFileItCannotRead) {
  WriteFile(root_ + "/secret", "s");
  ASSERT_EQ(::chmod((root_ + "/secret").c_str(), 0), 0);
  auto check = [&]() -> int {
    Result<FilesSummary> summary = Backup(std::nullopt, SettledOptions());
    std::fprintf(stderr, "%s\n", summary.status().ToString().c_str());
    if (summary.status().code() != StatusCode::kPermissionDenied) return 1;
    return summary.status().message().find(root_ + "/secret") == std::string::npos ? 1 : 0;
  };
  if (::geteuid() != 0) {
    EXPECT_EQ(check(), 0);
    return;
  }
  // Root reads every file: run the backup as an unprivileged user in a child process.
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    ::_exit(check());
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

}  // namespace
}  // namespace lifeboat
