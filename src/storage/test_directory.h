// TestDirectory: a fresh, private directory under /tmp for one test, removed with everything
// in it when the object goes away. Header-only; used by the storage tests.
//
// Thread-safety: none needed; one per test.
// Ownership: owns the directory on disk.
// Errors: a directory that cannot be made fails the test through path() being empty; removal
// is best effort (a test that removed permissions restores them first).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace lifeboat {

class TestDirectory {
 public:
  TestDirectory() {
    std::string pattern = "/tmp/lifeboat-storage-test-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  TestDirectory(const TestDirectory&) = delete;
  TestDirectory& operator=(const TestDirectory&) = delete;
  ~TestDirectory() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ignored);
    std::filesystem::remove_all(path_, ignored);
  }

  // The directory, e.g. "/tmp/lifeboat-storage-test-a1B2c3"; empty if it could not be made.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace lifeboat
