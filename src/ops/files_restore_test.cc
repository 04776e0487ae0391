#include "ops/files_restore.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "ops/files_backup.h"
#include "ops/files_entry.h"
#include "ops/restore_journal.h"
#include "repo/memory_blob_store.h"

namespace lifeboat {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "lifeboat-files-restore-XXXXXX").string();
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

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
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

int64_t MtimeNanos(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * kNanosPerSecond + st.st_mtim.tv_nsec;
}

void SetMtime(const std::string& path, int64_t nanos) {
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = nanos / kNanosPerSecond;
  times[1].tv_nsec = nanos % kNanosPerSecond;
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// What a tree holds, as a restore must bring it back: per relative path, the type, the
// permission bits, the mtime and the content (a symlink's target).
struct Node {
  char type = '?';
  uint32_t mode = 0;
  int64_t mtime_ns = 0;
  std::string content;
  bool operator==(const Node& other) const {
    return type == other.type && mode == other.mode && mtime_ns == other.mtime_ns &&
           content == other.content;
  }
};

std::ostream& operator<<(std::ostream& out, const Node& node) {
  return out << node.type << " " << std::oct << node.mode << std::dec << " " << node.mtime_ns
             << " (" << node.content.size() << " bytes)";
}

void Scan(const std::string& dir, const std::string& prefix, std::map<std::string, Node>* out) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    std::string rel = prefix.empty() ? name : prefix + "/" + name;
    struct stat st;
    ASSERT_EQ(::lstat(entry.path().c_str(), &st), 0);
    Node node;
    node.mode = st.st_mode & 07777;
    node.mtime_ns = MtimeNanos(st);
    if (S_ISLNK(st.st_mode)) {
      node.type = 'l';
      node.mode = 0;
      node.content = fs::read_symlink(entry.path()).string();
    } else if (S_ISDIR(st.st_mode)) {
      node.type = 'd';
      Scan(entry.path().string(), rel, out);
    } else {
      node.type = 'f';
      node.content = ReadFile(entry.path().string());
    }
    (*out)[rel] = node;
  }
}

std::map<std::string, Node> Tree(const std::string& root) {
  std::map<std::string, Node> out;
  Scan(root, "", &out);
  return out;
}

// Names in `dir` other than the ones given.
std::vector<std::string> Others(const std::string& dir, const std::vector<std::string>& known) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (std::find(known.begin(), known.end(), name) == known.end()) out.push_back(name);
  }
  return out;
}

// For recoveries that must not find a restore journal.
CommitStateFn NoJournalExpected() {
  return [](const std::string& token) -> Result<CommitState> {
    ADD_FAILURE() << "unexpected restore journal with token " << token;
    return InternalError("unexpected journal");
  };
}

// Always answers `state`, and counts the questions.
CommitStateFn Answer(CommitState state, int* asked = nullptr) {
  return [state, asked](const std::string&) -> Result<CommitState> {
    if (asked != nullptr) ++*asked;
    return state;
  };
}

// A files list written by hand, for lists a backup would never produce.
class ListBuilder {
 public:
  explicit ListBuilder(BlobStore* store) : store_(store), stream_(store), writer_(&stream_) {}

  void Directory(const std::string& path) {
    FilesEntry entry;
    entry.path = path;
    entry.kind = FilesEntryKind::kDirectory;
    entry.mode = 0755;
    ASSERT_TRUE(writer_.Add(entry).ok());
  }
  void File(const std::string& path, const std::string& content, uint64_t recorded_size) {
    FilesEntry entry;
    entry.path = path;
    entry.kind = FilesEntryKind::kFile;
    entry.mode = 0644;
    entry.size = recorded_size;
    entry.blob_count = content.empty() ? 0 : 1;
    ASSERT_TRUE(writer_.Add(entry).ok());
    if (!content.empty()) {
      Result<SaveResult> saved = store_->SaveBlob(BlobType::kData, content);
      ASSERT_TRUE(saved.ok());
      ASSERT_TRUE(writer_.AddBlobId(saved->id).ok());
    }
  }
  void File(const std::string& path, const std::string& content) {
    File(path, content, content.size());
  }
  void Symlink(const std::string& path, const std::string& target) {
    FilesEntry entry;
    entry.path = path;
    entry.kind = FilesEntryKind::kSymlink;
    entry.mode = 0777;
    entry.size = target.size();
    entry.symlink_target = target;
    ASSERT_TRUE(writer_.Add(entry).ok());
  }
  StreamRef Finish() {
    EXPECT_TRUE(writer_.Finish().ok());
    Result<StreamRef> ref = stream_.Finish();
    EXPECT_TRUE(ref.ok());
    return *ref;
  }

 private:
  BlobStore* store_;
  StreamWriter stream_;
  FilesEntryWriter writer_;
};

// Cancels a token after a number of blob loads, that is in the middle of writing files.
class CancellingBlobStore : public MemoryBlobStore {
 public:
  CancellingBlobStore(CancellationToken* cancel, int loads) : cancel_(cancel), left_(loads) {}
  Result<std::string> LoadBlob(std::string_view id) override {
    if (left_.fetch_sub(1) == 1) cancel_->Cancel(CancelledError("stopped by the user"));
    return MemoryBlobStore::LoadBlob(id);
  }

 private:
  CancellationToken* cancel_;
  std::atomic<int> left_;
};

class FilesRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = dir_ / "source";
    target_ = dir_ / "target";
    ASSERT_TRUE(fs::create_directory(source_));
  }
  void TearDown() override { SetFilesSwapMethodForTesting(FilesSwapMethod::kAuto); }

  // A tree with everything a files directory may hold.
  void MakeSampleTree(const std::string& root) {
    ASSERT_TRUE(fs::create_directories(root + "/docs/2024/q1"));
    ASSERT_TRUE(fs::create_directories(root + "/empty-dir"));
    WriteFile(root + "/docs/2024/q1/invoice.pdf", "%PDF invoice");
    WriteFile(root + "/docs/readme.txt", "read me");
    WriteFile(root + "/docs/empty", "");
    WriteFile(root + "/big.bin", PseudoRandom(3 << 20, 7));
    WriteFile(root + "/with space.txt", "space");
    WriteFile(root + "/caf\xc3\xa9 \xe2\x98\x95.txt", "unicode");
    WriteFile(root + "/-leading-dash", "dash");
    WriteFile(root + "/private.key", "secret");
    WriteFile(root + "/run.sh", "#!/bin/sh\n");
    ASSERT_EQ(::chmod((root + "/private.key").c_str(), 0600), 0);
    ASSERT_EQ(::chmod((root + "/run.sh").c_str(), 0755), 0);
    ASSERT_EQ(::chmod((root + "/docs/2024").c_str(), 0750), 0);
    fs::create_symlink("docs/readme.txt", root + "/readme-link");
    fs::create_symlink("/nonexistent/target", root + "/dangling");
    // Whole seconds a day ago, so the nanoseconds set below are the whole fraction.
    int64_t base = (Clock::Real()->NowUnixNanos() / kNanosPerSecond - 86400) * kNanosPerSecond;
    SetMtime(root + "/docs/readme.txt", base + 123456789);
    SetMtime(root + "/big.bin", base + 1);
    SetMtime(root + "/readme-link", base + 987654321);
    SetMtime(root + "/docs/2024/q1", base + 555);
    SetMtime(root + "/docs", base + 777);
  }

  StreamRef BackUp(const std::string& root) {
    Result<FilesSummary> summary =
        BackupFiles(root, &store_, std::nullopt, FilesBackupOptions(), nullptr, nullptr);
    EXPECT_TRUE(summary.ok()) << summary.status().ToString();
    return summary.ok() ? summary->content : StreamRef();
  }

  Result<FilesRestoreSummary> Restore(const StreamRef& files, const std::string& root,
                                      CancellationToken* cancel = nullptr) {
    return RestoreFiles(&store_, files, root, nullptr, cancel);
  }

  TempDir dir_;
  std::string source_;
  std::string target_;
  MemoryBlobStore store_;
};

TEST_F(FilesRestoreTest, RoundTripsATreeIntoANewRoot) {
  MakeSampleTree(source_);
  StreamRef files = BackUp(source_);
  Result<FilesRestoreSummary> summary = Restore(files, target_);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->files, 9u);
  EXPECT_EQ(summary->bytes, 12u + 7 + 0 + (3 << 20) + 5 + 7 + 4 + 6 + 10);
  EXPECT_EQ(summary->dirs, 4u);
  EXPECT_EQ(summary->symlinks, 2u);

  std::map<std::string, Node> want = Tree(source_);
  std::map<std::string, Node> got = Tree(target_);
  EXPECT_EQ(got, want);
  EXPECT_EQ(got["private.key"].mode, 0600u);
  EXPECT_EQ(got["run.sh"].mode, 0755u);
  EXPECT_EQ(got["docs/2024"].mode, 0750u);
  EXPECT_EQ(got["docs/readme.txt"].mtime_ns % kNanosPerSecond, 123456789);
  EXPECT_EQ(got["readme-link"].content, "docs/readme.txt");
  EXPECT_EQ(Others(dir_.path(), {"source", "target"}), std::vector<std::string>());

  std::string nested = dir_ / "new/instance/files";
  ASSERT_TRUE(Restore(files, nested).ok());
  EXPECT_EQ(Tree(nested), want);
}

TEST_F(FilesRestoreTest, BringsBackDeletedAndChangedFilesAndRemovesExtraOnes) {
  MakeSampleTree(source_);
  StreamRef files = BackUp(source_);
  std::map<std::string, Node> want = Tree(source_);

  fs::remove(source_ + "/docs/readme.txt");
  WriteFile(source_ + "/big.bin", "truncated");
  WriteFile(source_ + "/extra.txt", "not in the backup");
  ASSERT_TRUE(fs::create_directories(source_ + "/extra-dir/inner"));
  ASSERT_EQ(::chmod((source_ + "/run.sh").c_str(), 0600), 0);
  fs::remove(source_ + "/readme-link");
  fs::create_symlink("/etc", source_ + "/readme-link");

  Result<FilesRestoreSummary> summary = Restore(files, source_);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(Tree(source_), want);
  EXPECT_EQ(ReadFile(source_ + "/big.bin"), PseudoRandom(3 << 20, 7));
  EXPECT_FALSE(fs::exists(source_ + "/extra.txt"));
  EXPECT_EQ(Others(dir_.path(), {"source"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, RestoringAnEmptyListEmptiesTheRoot) {
  StreamRef empty = BackUp(source_);
  EXPECT_TRUE(empty.trees.empty());
  MakeSampleTree(source_);
  Result<FilesRestoreSummary> summary = Restore(empty, source_);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->files, 0u);
  EXPECT_TRUE(fs::is_directory(source_));
  EXPECT_TRUE(fs::is_empty(source_));
  EXPECT_EQ(Others(dir_.path(), {"source"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, SwapsWithTwoRenamesWhereExchangeIsUnavailable) {
  SetFilesSwapMethodForTesting(FilesSwapMethod::kTwoRenames);
  MakeSampleTree(source_);
  StreamRef files = BackUp(source_);
  std::map<std::string, Node> want = Tree(source_);
  WriteFile(source_ + "/extra.txt", "x");
  fs::remove(source_ + "/run.sh");
  Result<FilesRestoreSummary> summary = Restore(files, source_);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(Tree(source_), want);
  EXPECT_EQ(Others(dir_.path(), {"source"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, KeepsTheRootsPermissionsAndRestoresReadOnlyDirectories) {
  ASSERT_TRUE(fs::create_directories(source_ + "/locked"));
  WriteFile(source_ + "/locked/inside", "in");
  ASSERT_EQ(::chmod((source_ + "/locked").c_str(), 0555), 0);
  ASSERT_EQ(::chmod(source_.c_str(), 0710), 0);
  StreamRef files = BackUp(source_);
  std::map<std::string, Node> want = Tree(source_);
  // Twice: the second restore removes a previous tree that holds a read-only directory.
  ASSERT_TRUE(Restore(files, source_).ok());
  Result<FilesRestoreSummary> again = Restore(files, source_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Tree(source_), want);
  struct stat st;
  ASSERT_EQ(::stat(source_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0710u);
  EXPECT_EQ(Others(dir_.path(), {"source"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, RefusesAnEntryThatClimbsOutOfTheRoot) {
  WriteFile(source_ + "/keep", "keep");
  std::map<std::string, Node> before = Tree(source_);
  ListBuilder list(&store_);
  list.File("../escaped", "evil");
  Result<FilesRestoreSummary> summary = Restore(list.Finish(), source_);
  EXPECT_EQ(summary.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(summary.status().message(),
              HasSubstr("files list entry '../escaped' would leave the files directory"));
  EXPECT_EQ(Tree(source_), before);
  EXPECT_EQ(Others(dir_.path(), {"source"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, RefusesAnEntryBelowASymlink) {
  std::string outside = dir_ / "outside";
  ASSERT_TRUE(fs::create_directory(outside));
  WriteFile(source_ + "/keep", "keep");
  std::map<std::string, Node> before = Tree(source_);
  ListBuilder list(&store_);
  list.Symlink("link", outside);
  list.File("link/evil", "evil");
  Result<FilesRestoreSummary> summary = Restore(list.Finish(), source_);
  EXPECT_EQ(summary.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(summary.status().message(), HasSubstr("'link/evil' would leave the files directory"));
  EXPECT_FALSE(fs::exists(outside + "/evil"));
  EXPECT_EQ(Tree(source_), before);
  EXPECT_EQ(Others(dir_.path(), {"source", "outside"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, RefusesAFileWhoseBlobsDoNotMatchItsSize) {
  WriteFile(source_ + "/keep", "keep");
  std::map<std::string, Node> before = Tree(source_);
  ListBuilder list(&store_);
  list.File("short", "12345", 10);
  Result<FilesRestoreSummary> summary = Restore(list.Finish(), source_);
  EXPECT_EQ(summary.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(summary.status().message(), HasSubstr("'short'"));
  EXPECT_EQ(Tree(source_), before);
}

TEST_F(FilesRestoreTest, RefusesASymlinkedRoot) {
  StreamRef files = BackUp(source_);
  fs::create_symlink(source_, target_);
  Result<FilesRestoreSummary> summary = Restore(files, target_);
  EXPECT_EQ(summary.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(summary.status().message(), HasSubstr("symbolic link"));
}

TEST_F(FilesRestoreTest, CancelledRestoreLeavesTheOldTree) {
  MakeSampleTree(source_);
  CancellationToken cancel;
  CancellingBlobStore store(&cancel, 5);
  Result<FilesSummary> backup =
      BackupFiles(source_, &store, std::nullopt, FilesBackupOptions(), nullptr, nullptr);
  ASSERT_TRUE(backup.ok());
  WriteFile(source_ + "/extra.txt", "changed since");
  fs::remove(source_ + "/run.sh");
  std::map<std::string, Node> before = Tree(source_);

  Result<FilesRestoreSummary> summary =
      RestoreFiles(&store, backup->content, source_, nullptr, &cancel);
  EXPECT_EQ(summary.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(Tree(source_), before);
  EXPECT_EQ(Others(dir_.path(), {"source"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, RecoveryPutsBackTheOldTreeWhenTheRootIsMissing) {
  // A two-rename swap killed between its renames, with the staging tree half built.
  std::string old = source_ + ".lifeboat-old-0123456789abcdef";
  std::string staging = source_ + ".lifeboat-staging-fedcba9876543210";
  ASSERT_TRUE(fs::create_directories(old + "/docs"));
  WriteFile(old + "/docs/a", "old a");
  ASSERT_TRUE(fs::create_directories(staging + "/docs"));
  WriteFile(staging + "/docs/a", "half");
  fs::remove(source_);

  ASSERT_TRUE(RecoverFilesRoot(source_, NoJournalExpected()).ok());
  EXPECT_EQ(ReadFile(source_ + "/docs/a"), "old a");
  EXPECT_EQ(Others(dir_.path(), {"source"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, RecoveryRemovesLeftoversBesideAnExistingRoot) {
  WriteFile(source_ + "/a", "current");
  ASSERT_TRUE(fs::create_directories(source_ + ".lifeboat-old-0123456789abcdef/x"));
  ASSERT_TRUE(fs::create_directories(source_ + ".lifeboat-staging-0123456789abcdef/y"));
  ASSERT_TRUE(fs::create_directories(source_ + ".lifeboat-staging-not-ours"));
  ASSERT_TRUE(RecoverFilesRoot(source_, NoJournalExpected()).ok());
  EXPECT_EQ(ReadFile(source_ + "/a"), "current");
  EXPECT_EQ(Others(dir_.path(), {"source", "source.lifeboat-staging-not-ours"}),
            std::vector<std::string>());

  // A restore runs the same recovery first.
  ASSERT_TRUE(fs::create_directories(source_ + ".lifeboat-staging-00000000000000aa"));
  StreamRef files = BackUp(source_);
  ASSERT_TRUE(Restore(files, source_).ok());
  EXPECT_EQ(Others(dir_.path(), {"source", "source.lifeboat-staging-not-ours"}),
            std::vector<std::string>());
}

TEST_F(FilesRestoreTest, NothingIsSettledWhileARestoreHoldsTheRootsLock) {
  WriteFile(source_ + "/a", "current");
  const std::string staged = source_ + ".lifeboat-staging-0123456789abcdef";
  ASSERT_TRUE(fs::create_directories(staged + "/y"));
  // Another process's restore, still building that tree, holds the lock.
  int held = ::open((source_ + ".lifeboat-lock").c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(held, 0);
  ASSERT_EQ(::flock(held, LOCK_EX), 0);
  Status refused = RecoverFilesRoot(source_, NoJournalExpected()).status();
  EXPECT_EQ(refused.code(), StatusCode::kAborted) << refused.ToString();
  EXPECT_NE(refused.message().find("being restored by another Lifeboat process"), std::string::npos)
      << refused.message();
  EXPECT_TRUE(fs::exists(staged + "/y"));
  StreamRef files = BackUp(source_);
  EXPECT_EQ(Restore(files, source_).status().code(), StatusCode::kAborted);
  EXPECT_TRUE(fs::exists(staged + "/y"));
  ::close(held);
  // Once it is gone, its tree is a leftover like any other, and so is its lock file.
  ASSERT_TRUE(RecoverFilesRoot(source_, NoJournalExpected()).ok());
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_EQ(Others(dir_.path(), {"source"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, ARestoreHoldsTheRootsLockWhileItCommits) {
  MakeSampleTree(source_);
  StreamRef files = BackUp(source_);
  DatabaseCommit commit;
  commit.record_token = [] { return Result<std::string>(std::string("token-2")); };
  Status settle_during_commit;
  commit.commit = [&]() -> Status {
    // `maintenance off` or a backup arriving now must not settle the journal or remove the
    // staged tree.
    settle_during_commit = RecoverFilesRoot(source_, Answer(CommitState::kRolledBack)).status();
    return OkStatus();
  };
  commit.state = Answer(CommitState::kCommitted);
  Result<FilesRestoreSummary> summary =
      RestoreFiles(&store_, files, source_, nullptr, nullptr, &commit);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(settle_during_commit.code(), StatusCode::kAborted) << settle_during_commit.ToString();
  EXPECT_EQ(ReadFile(source_ + "/docs/readme.txt"), "read me");
  EXPECT_EQ(Others(dir_.path(), {"source", "target"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, RecoveryRefusesToGuessBetweenSeveralOldTrees) {
  ASSERT_TRUE(fs::create_directories(source_ + ".lifeboat-old-0123456789abcdef"));
  ASSERT_TRUE(fs::create_directories(source_ + ".lifeboat-old-1123456789abcdef"));
  fs::remove(source_);
  Status status = RecoverFilesRoot(source_, NoJournalExpected()).status();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("rename the right one"));
}

TEST_F(FilesRestoreTest, RecoveryWithNothingLeftOverDoesNothing) {
  EXPECT_TRUE(RecoverFilesRoot(source_, NoJournalExpected()).ok());
  EXPECT_TRUE(RecoverFilesRoot(dir_ / "missing/parent/root", NoJournalExpected()).ok());
}

// A restore journal written by hand for a staged tree at `staging` (a path beside the root).
void WriteJournalFor(const std::string& root, const std::string& staging,
                     const std::string& token) {
  struct stat st;
  ASSERT_EQ(::stat(staging.c_str(), &st), 0) << staging;
  RestoreJournal journal;
  journal.staging = fs::path(staging).filename().string();
  journal.staging_device = st.st_dev;
  journal.staging_inode = st.st_ino;
  journal.token = token;
  const fs::path path(root);
  int parent = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(parent, 0);
  Status written = WriteRestoreJournal(parent, path.filename().string(), journal, root);
  ::close(parent);
  ASSERT_TRUE(written.ok()) << written.ToString();
}

TEST_F(FilesRestoreTest, CommitRunsBetweenStagingAndSwapWithTheJournalInPlace) {
  MakeSampleTree(source_);
  StreamRef files = BackUp(source_);
  WriteFile(source_ + "/junk", "not in the backup");
  int commits = 0;
  DatabaseCommit commit;
  commit.record_token = [] { return Result<std::string>(std::string("token-1")); };
  commit.commit = [&]() -> Status {
    ++commits;
    // The staged tree is complete, the old one still in place, and the journal names both.
    EXPECT_TRUE(fs::exists(source_ + "/junk"));
    Result<std::optional<RestoreJournal>> journal = [&] {
      int parent = ::open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
      auto read = ReadRestoreJournal(parent, "source", "journal");
      ::close(parent);
      return read;
    }();
    EXPECT_TRUE(journal.ok() && journal->has_value());
    if (journal.ok() && journal->has_value()) {
      EXPECT_EQ((*journal)->token, "token-1");
      const std::string staged = dir_ / (*journal)->staging;
      EXPECT_TRUE(fs::exists(staged + "/docs/readme.txt"));
      EXPECT_FALSE(fs::exists(staged + "/junk"));
    }
    return OkStatus();
  };
  commit.state = Answer(CommitState::kCommitted);
  Result<FilesRestoreSummary> summary =
      RestoreFiles(&store_, files, source_, nullptr, nullptr, &commit);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(commits, 1);
  EXPECT_FALSE(fs::exists(source_ + "/junk"));
  EXPECT_EQ(Others(dir_.path(), {"source", "target"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, FailedCommitThatRolledBackLeavesTheOldTreeAndNoJournal) {
  MakeSampleTree(source_);
  StreamRef files = BackUp(source_);
  WriteFile(source_ + "/junk", "not in the backup");
  const std::map<std::string, Node> before = Tree(source_);
  int asked = 0;
  DatabaseCommit commit;
  commit.record_token = [] { return Result<std::string>(std::string("token-2")); };
  commit.commit = [] { return FailedPreconditionError("foreign key violated"); };
  commit.state = Answer(CommitState::kRolledBack, &asked);
  Result<FilesRestoreSummary> summary =
      RestoreFiles(&store_, files, source_, nullptr, nullptr, &commit);
  EXPECT_EQ(summary.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(summary.status().message(), HasSubstr("foreign key violated"));
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(Tree(source_), before);
  EXPECT_EQ(Others(dir_.path(), {"source", "target"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, CommitWhoseAnswerWasLostButHappenedStillSwaps) {
  MakeSampleTree(source_);
  StreamRef files = BackUp(source_);
  WriteFile(source_ + "/junk", "not in the backup");
  DatabaseCommit commit;
  commit.record_token = [] { return Result<std::string>(std::string("token-3")); };
  commit.commit = [] { return UnavailableError("server closed the connection"); };
  commit.state = Answer(CommitState::kCommitted);
  Result<FilesRestoreSummary> summary =
      RestoreFiles(&store_, files, source_, nullptr, nullptr, &commit);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_FALSE(fs::exists(source_ + "/junk"));
  EXPECT_EQ(Others(dir_.path(), {"source", "target"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, CommitInDoubtKeepsTheStagedTreeAndTheJournal) {
  MakeSampleTree(source_);
  StreamRef files = BackUp(source_);
  DatabaseCommit commit;
  commit.record_token = [] { return Result<std::string>(std::string("token-4")); };
  commit.commit = [] { return UnavailableError("server closed the connection"); };
  commit.state = Answer(CommitState::kUnknown);
  Result<FilesRestoreSummary> summary =
      RestoreFiles(&store_, files, source_, nullptr, nullptr, &commit);
  EXPECT_FALSE(summary.ok());
  EXPECT_THAT(summary.status().message(), HasSubstr("settles it"));
  EXPECT_TRUE(fs::exists(dir_ / "source.lifeboat-restore"));
  EXPECT_EQ(Others(dir_.path(), {"source", "target", "source.lifeboat-restore"}).size(), 1u)
      << "the staged tree is kept";
  // Settled later, once the database knows: it had rolled back.
  Result<std::optional<SettledRestore>> settled =
      RecoverFilesRoot(source_, Answer(CommitState::kRolledBack));
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  ASSERT_TRUE(settled->has_value());
  EXPECT_EQ((*settled)->token, "token-4");
  EXPECT_FALSE((*settled)->committed);
  EXPECT_EQ(Others(dir_.path(), {"source", "target"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, RecoverySwapsInTheStagedTreeOfACommittedRestore) {
  WriteFile(source_ + "/a", "old");
  const std::string staging = source_ + ".lifeboat-staging-00000000000000aa";
  ASSERT_TRUE(fs::create_directories(staging));
  WriteFile(staging + "/a", "restored");
  WriteJournalFor(source_, staging, "token-5");

  Result<std::optional<SettledRestore>> settled =
      RecoverFilesRoot(source_, Answer(CommitState::kCommitted));
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  ASSERT_TRUE(settled->has_value());
  EXPECT_TRUE((*settled)->committed);
  EXPECT_EQ(ReadFile(source_ + "/a"), "restored");
  EXPECT_EQ(Others(dir_.path(), {"source", "target"}), std::vector<std::string>());
  // Nothing left to settle.
  EXPECT_FALSE(RecoverFilesRoot(source_, NoJournalExpected())->has_value());
}

TEST_F(FilesRestoreTest, RecoveryFinishesATwoRenameSwapOfACommittedRestore) {
  // Killed between the renames: the root is aside, the staged tree not yet in place.
  const std::string old = source_ + ".lifeboat-old-0123456789abcdef";
  const std::string staging = source_ + ".lifeboat-staging-00000000000000bb";
  ASSERT_TRUE(fs::create_directories(staging));
  WriteFile(staging + "/a", "restored");
  WriteJournalFor(source_, staging, "token-6");
  fs::rename(source_, old);

  ASSERT_TRUE(RecoverFilesRoot(source_, Answer(CommitState::kCommitted)).ok());
  EXPECT_EQ(ReadFile(source_ + "/a"), "restored");
  EXPECT_EQ(Others(dir_.path(), {"source", "target"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, RecoveryAfterAFinishedExchangeOnlyCleansUp) {
  // Killed after RENAME_EXCHANGE: the staged tree is the root, the old one has its name.
  const std::string staging = source_ + ".lifeboat-staging-00000000000000cc";
  ASSERT_TRUE(fs::create_directories(staging));
  WriteFile(staging + "/a", "restored");
  WriteFile(source_ + "/a", "old");
  WriteJournalFor(source_, staging, "token-7");
  const std::string aside = dir_ / "aside";
  fs::rename(source_, aside);
  fs::rename(staging, source_);
  fs::rename(aside, staging);

  ASSERT_TRUE(RecoverFilesRoot(source_, Answer(CommitState::kCommitted)).ok());
  EXPECT_EQ(ReadFile(source_ + "/a"), "restored");
  EXPECT_EQ(Others(dir_.path(), {"source", "target"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, RecoveryRemovesTheStagedTreeOfARolledBackRestore) {
  WriteFile(source_ + "/a", "old");
  const std::string staging = source_ + ".lifeboat-staging-00000000000000dd";
  ASSERT_TRUE(fs::create_directories(staging));
  WriteFile(staging + "/a", "restored");
  WriteJournalFor(source_, staging, "token-8");

  Result<std::optional<SettledRestore>> settled =
      RecoverFilesRoot(source_, Answer(CommitState::kRolledBack));
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  ASSERT_TRUE(settled->has_value());
  EXPECT_FALSE((*settled)->committed);
  EXPECT_EQ(ReadFile(source_ + "/a"), "old");
  EXPECT_EQ(Others(dir_.path(), {"source", "target"}), std::vector<std::string>());
}

TEST_F(FilesRestoreTest, RecoveryRefusesToGuessWhenTheDatabaseDoesNotKnow) {
  WriteFile(source_ + "/a", "old");
  const std::string staging = source_ + ".lifeboat-staging-00000000000000ee";
  ASSERT_TRUE(fs::create_directories(staging));
  WriteJournalFor(source_, staging, "token-9");
  Status status = RecoverFilesRoot(source_, Answer(CommitState::kUnknown)).status();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("no longer knows whether that restore committed"));
  EXPECT_TRUE(fs::exists(staging));
  EXPECT_TRUE(fs::exists(dir_ / "source.lifeboat-restore"));
  // A restore without a way to ask refuses too, and touches nothing.
  StreamRef files = BackUp(source_);
  EXPECT_FALSE(Restore(files, source_).ok());
  EXPECT_EQ(ReadFile(source_ + "/a"), "old");
}

TEST_F(FilesRestoreTest, DamagedJournalIsReportedNotGuessed) {
  WriteFile(source_ + "/a", "old");
  WriteFile(dir_ / "source.lifeboat-restore", "{not json");
  Status status = RecoverFilesRoot(source_, NoJournalExpected()).status();
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("is damaged"));
}

}  // namespace
}  // namespace lifeboat
