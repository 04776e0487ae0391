// LocalObjectStore specifics: the on-disk layout, temporaries, opening, and error messages.
// The ObjectStore contract itself is in object_store_conformance_test.cc.

#include "storage/local_object_store.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "base/aligned_string.h"
#include "base/clock.h"
#include "storage/test_directory.h"

namespace lifeboat {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class LocalObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    root_ = dir_.path() + "/repo";
    auto store = LocalObjectStore::Open(root_, /*create=*/true);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  std::vector<std::string> ListKeys(std::string_view prefix) {
    std::vector<std::string> keys;
    Status status = store_->List(prefix, [&](const ObjectInfo& info) {
      keys.push_back(info.key);
      return OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
    return keys;
  }

  // Every file name under the root, relative to it.
  std::vector<std::string> FilesOnDisk() {
    std::vector<std::string> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file()) files.push_back(fs::relative(it->path(), root_).string());
    }
    EXPECT_FALSE(ec) << ec.message();
    return files;
  }

  static void WriteFile(const std::string& path, std::string_view data) {
    std::ofstream out(path, std::ios::binary);
    out << data;
  }

  static bool RunningAsRoot() { return ::geteuid() == 0; }

  TestDirectory dir_;
  std::string root_;
  std::unique_ptr<LocalObjectStore> store_;
};

TEST_F(LocalObjectStoreTest, KeysAreFilesUnderTheRoot) {
  ASSERT_TRUE(store_->Put("data/3f/3fa2", "pack").ok());
  ASSERT_TRUE(store_->Put("config", "cfg").ok());
  EXPECT_EQ(store_->PathOf("data/3f/3fa2"), root_ + "/data/3f/3fa2");
  EXPECT_THAT(FilesOnDisk(), UnorderedElementsAre("data/3f/3fa2", "config"));
  std::ifstream in(root_ + "/data/3f/3fa2", std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "pack");
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/data/3f/3fa2").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((root_ + "/data/3f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(LocalObjectStoreTest, DescribeIsTheRoot) {
  EXPECT_EQ(store_->Describe(), root_);
  auto again = LocalObjectStore::Open(root_ + "///", /*create=*/false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Describe(), root_);
}

TEST_F(LocalObjectStoreTest, NoTemporaryRemainsAfterPut) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store_->Put("data/ab/" + std::to_string(i), "x").ok());
    ASSERT_TRUE(store_->Put("locks/lease", std::to_string(i)).ok());
  }
  for (const std::string& file : FilesOnDisk()) {
    EXPECT_EQ(file.find(".tmp-"), std::string::npos) << file;
  }
  EXPECT_EQ(FilesOnDisk().size(), 21u);
}

// Pages of the file at `path` that are in the page cache, and the file's page count.
std::pair<size_t, size_t> CachedPages(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {0, 0};
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return {0, 0};
  }
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t pages = (static_cast<size_t>(st.st_size) + page - 1) / page;
  void* map = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return {0, pages};
  std::vector<unsigned char> resident(pages);
  size_t cached = 0;
  if (::mincore(map, static_cast<size_t>(st.st_size), resident.data()) == 0) {
    for (unsigned char r : resident) cached += r & 1;
  }
  ::munmap(map, static_cast<size_t>(st.st_size));
  return {cached, pages};
}

TEST_F(LocalObjectStoreTest, ALargeAlignedObjectIsWrittenPastThePageCache) {
  AlignedString pack;
  for (size_t i = 0; pack.size() < (size_t{3} << 20) + 1234; ++i) {
    pack += "blob " + std::to_string(i * 7919) + ";";
  }
  const std::string copy(pack);  // same bytes, but not aligned: written through the cache
  ASSERT_TRUE(store_->Put("data/aa/aligned", pack).ok());
  ASSERT_TRUE(store_->Put("data/bb/unaligned", std::string_view(copy).substr(1)).ok());

  // On a file system that keeps files in memory (tmpfs) or has no O_DIRECT, only the bytes
  // can be checked.
  struct statfs fs_info;
  const int probe = ::open((root_ + "/probe").c_str(), O_WRONLY | O_CREAT | O_DIRECT, 0600);
  const bool direct =
      probe >= 0 && ::statfs(root_.c_str(), &fs_info) == 0 && fs_info.f_type != TMPFS_MAGIC;
  if (probe >= 0) ::close(probe);
  ::unlink((root_ + "/probe").c_str());
  if (direct) {
    const auto [aligned_cached, aligned_pages] = CachedPages(root_ + "/data/aa/aligned");
    const auto [buffered_cached, buffered_pages] = CachedPages(root_ + "/data/bb/unaligned");
    ASSERT_EQ(aligned_pages, buffered_pages);
    EXPECT_LE(aligned_cached, 1u) << "of " << aligned_pages;  // at most the tail's page
    EXPECT_GT(buffered_cached, buffered_pages / 2);
  }
  Result<std::string> back = store_->Get("data/aa/aligned");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == std::string_view(pack));
  back = store_->Get("data/bb/unaligned");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == std::string_view(copy).substr(1));
}

TEST_F(LocalObjectStoreTest, LeftoverTemporariesAreNeverListed) {
  ASSERT_TRUE(store_->Put("data/3f/abc", "real").ok());
  // What a Put killed before its rename leaves behind.
  WriteFile(root_ + "/data/3f/abc.tmp-123", "half");
  WriteFile(root_ + "/data/3f/def.tmp-0123456789abcdef", "half");
  WriteFile(root_ + "/x.tmp-123", "half");
  EXPECT_THAT(ListKeys(""), ElementsAre("data/3f/abc"));
  EXPECT_THAT(ListKeys("data/3f/abc"), ElementsAre("data/3f/abc"));
  EXPECT_THAT(ListKeys("data/3f/d"), IsEmpty());
  EXPECT_THAT(ListKeys("x"), IsEmpty());
  // Delete removes the object only, never a temporary of the same name.
  ASSERT_TRUE(store_->Delete("data/3f/abc").ok());
  EXPECT_TRUE(fs::exists(root_ + "/data/3f/abc.tmp-123"));
}

TEST_F(LocalObjectStoreTest, RemoveStaleTemporaries) {
  ASSERT_TRUE(store_->Put("data/3f/abc", "real").ok());
  const std::string old_temporary = root_ + "/data/3f/abc.tmp-0000000000000001";
  const std::string new_temporary = root_ + "/data/3f/abd.tmp-0000000000000002";
  WriteFile(old_temporary, "half");
  WriteFile(new_temporary, "half");
  const struct timespec an_hour_ago[2] = {{::time(nullptr) - 3600, 0}, {::time(nullptr) - 3600, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, old_temporary.c_str(), an_hour_ago, 0), 0);

  const int64_t ten_minutes_ago = Clock::Real()->NowUnixNanos() - 600 * kNanosPerSecond;
  Status status = store_->RemoveStaleTemporaries(ten_minutes_ago);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_FALSE(fs::exists(old_temporary));
  EXPECT_TRUE(fs::exists(new_temporary));
  EXPECT_TRUE(store_->Get("data/3f/abc").ok());
}

TEST_F(LocalObjectStoreTest, OpenMissingRepositoryIsNotFound) {
  const std::string missing = dir_.path() + "/nothing-here";
  auto store = LocalObjectStore::Open(missing, /*create=*/false);
  ASSERT_EQ(store.status().code(), StatusCode::kNotFound) << store.status().ToString();
  EXPECT_THAT(store.status().message(), HasSubstr("lifeboat init"));
  EXPECT_THAT(store.status().message(), HasSubstr(missing));
  EXPECT_FALSE(fs::exists(missing));
}

TEST_F(LocalObjectStoreTest, OpenCreatesTheDirectoryAndItsParents) {
  const std::string nested = dir_.path() + "/a/b/c";
  auto store = LocalObjectStore::Open(nested, /*create=*/true);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(fs::is_directory(nested));
  auto reopened = LocalObjectStore::Open(nested, /*create=*/false);
  EXPECT_TRUE(reopened.ok());
  auto created_again = LocalObjectStore::Open(nested, /*create=*/true);
  EXPECT_TRUE(created_again.ok());
}

TEST_F(LocalObjectStoreTest, OpenRefusesAFile) {
  const std::string file = dir_.path() + "/plain-file";
  WriteFile(file, "x");
  auto store = LocalObjectStore::Open(file, /*create=*/true);
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().ToString();
  EXPECT_THAT(store.status().message(), HasSubstr(file));
  EXPECT_EQ(LocalObjectStore::Open("", true).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalObjectStoreTest, UnwritableDirectoryIsPermissionDenied) {
  if (RunningAsRoot()) GTEST_SKIP() << "root bypasses file permissions";
  ASSERT_TRUE(store_->Put("data/3f/abc", "x").ok());
  ASSERT_EQ(::chmod((root_ + "/data/3f").c_str(), 0500), 0);
  ASSERT_EQ(::chmod(root_.c_str(), 0500), 0);

  Status in_existing_dir = store_->Put("data/3f/abd", "y");
  EXPECT_EQ(in_existing_dir.code(), StatusCode::kPermissionDenied) << in_existing_dir.ToString();
  EXPECT_THAT(in_existing_dir.message(), HasSubstr("cannot write " + root_ + "/data/3f/abd"));
  Status new_dir = store_->Put("snapshots/s1", "y");
  EXPECT_EQ(new_dir.code(), StatusCode::kPermissionDenied) << new_dir.ToString();
  EXPECT_THAT(new_dir.message(), HasSubstr(root_ + "/snapshots"));
  Status remove = store_->Delete("data/3f/abc");
  EXPECT_EQ(remove.code(), StatusCode::kPermissionDenied) << remove.ToString();
  EXPECT_THAT(remove.message(), HasSubstr("cannot delete " + root_ + "/data/3f/abc"));
  // Reading still works.
  EXPECT_TRUE(store_->Get("data/3f/abc").ok());

  ASSERT_EQ(::chmod(root_.c_str(), 0700), 0);
  ASSERT_EQ(::chmod((root_ + "/data/3f").c_str(), 0700), 0);
  for (const std::string& file : FilesOnDisk()) {
    EXPECT_EQ(file.find(".tmp-"), std::string::npos) << file;
  }
}

TEST_F(LocalObjectStoreTest, UnreadableObjectIsPermissionDenied) {
  if (RunningAsRoot()) GTEST_SKIP() << "root bypasses file permissions";
  ASSERT_TRUE(store_->Put("index/i1", "x").ok());
  ASSERT_EQ(::chmod((root_ + "/index/i1").c_str(), 0), 0);
  auto got = store_->Get("index/i1");
  EXPECT_EQ(got.status().code(), StatusCode::kPermissionDenied) << got.status().ToString();
  EXPECT_THAT(got.status().message(), HasSubstr("cannot read " + root_ + "/index/i1"));

  ASSERT_EQ(::chmod((root_ + "/index").c_str(), 0), 0);
  Status list = store_->List("index/", [](const ObjectInfo&) { return OkStatus(); });
  EXPECT_EQ(list.code(), StatusCode::kPermissionDenied) << list.ToString();
  EXPECT_THAT(list.message(), HasSubstr("cannot list " + root_ + "/index"));
  ASSERT_EQ(::chmod((root_ + "/index").c_str(), 0700), 0);
}

TEST_F(LocalObjectStoreTest, KeyUnderAnObjectIsFailedPrecondition) {
  ASSERT_TRUE(store_->Put("a", "file").ok());
  Status status = store_->Put("a/b", "x");
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(root_ + "/a"));
  EXPECT_EQ(store_->Get("a/b").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete("a/b").ok());
}

TEST_F(LocalObjectStoreTest, DirectoriesAndSpecialFilesAreNotObjects) {
  ASSERT_TRUE(store_->Put("data/3f/abc", "x").ok());
  ASSERT_EQ(::mkfifo((root_ + "/data/3f/fifo").c_str(), 0600), 0);
  ASSERT_EQ(::symlink("abc", (root_ + "/data/3f/link").c_str()), 0);
  ASSERT_EQ(::symlink("/nonexistent", (root_ + "/data/3f/dangling").c_str()), 0);
  ASSERT_EQ(::symlink(root_.c_str(), (root_ + "/data/loop").c_str()), 0);
  // A link to a regular file is read through; the rest is skipped.
  EXPECT_THAT(ListKeys(""), UnorderedElementsAre("data/3f/abc", "data/3f/link"));
  EXPECT_EQ(store_->Get("data/3f/fifo").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Size("data/3f").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete("data/3f").ok());
  EXPECT_TRUE(fs::is_directory(root_ + "/data/3f"));
}

TEST_F(LocalObjectStoreTest, ObjectShorterThanTheRangeNamesThePath) {
  ASSERT_TRUE(store_->Put("data/00/p", "12345").ok());
  auto range = store_->GetRange("data/00/p", 2, 10);
  EXPECT_EQ(range.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(range.status().message(),
            "object " + root_ + "/data/00/p is 5 bytes, cannot read 2..12");
}

TEST_F(LocalObjectStoreTest, NameTooLongIsInvalidArgument) {
  Status status = store_->Put("data/" + std::string(300, 'a'), "x");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
}

TEST(ErrnoToStatusTest, MapsCodesAndNamesActionAndPath) {
  Status full = ErrnoToStatus(ENOSPC, "write", "/backups/data/3f/3fa2");
  EXPECT_EQ(full.code(), StatusCode::kUnavailable);
  EXPECT_EQ(full.message(), "cannot write /backups/data/3f/3fa2: No space left on device");
  EXPECT_EQ(ErrnoToStatus(ENOENT, "read", "/x").code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToStatus(EACCES, "read", "/x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(EPERM, "read", "/x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(EROFS, "write", "/x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(EIO, "read", "/x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoToStatus(EDQUOT, "write", "/x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoToStatus(ENOTDIR, "write", "/x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrnoToStatus(ENAMETOOLONG, "write", "/x").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lifeboat
