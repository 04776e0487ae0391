#include "ops/files_entry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/encoding.h"
#include "codec/hash.h"

namespace lifeboat {
namespace {

using ::testing::HasSubstr;

std::string Id(char fill) {
  return std::string(kHashSize, fill);
}

FilesEntry Dir(std::string path) {
  FilesEntry entry;
  entry.path = std::move(path);
  entry.kind = FilesEntryKind::kDirectory;
  entry.mode = 0755;
  return entry;
}

FilesEntry File(std::string path, uint64_t size, uint64_t blob_count) {
  FilesEntry entry;
  entry.path = std::move(path);
  entry.kind = FilesEntryKind::kFile;
  entry.mode = 0644;
  entry.size = size;
  entry.blob_count = blob_count;
  return entry;
}

FilesEntry Symlink(std::string path, std::string target) {
  FilesEntry entry;
  entry.path = std::move(path);
  entry.kind = FilesEntryKind::kSymlink;
  entry.mode = 0777;
  entry.size = target.size();
  entry.symlink_target = std::move(target);
  return entry;
}

// Encodes entries; a file entry gets blob_count ids filled with its first path byte.
std::string Encode(const std::vector<FilesEntry>& entries) {
  std::string out;
  StringSink sink(&out);
  FilesEntryWriter writer(&sink);
  for (const FilesEntry& entry : entries) {
    EXPECT_TRUE(writer.Add(entry).ok());
    for (uint64_t i = 0; i < entry.blob_count; ++i) {
      EXPECT_TRUE(writer.AddBlobId(Id(entry.path[0])).ok());
    }
  }
  EXPECT_TRUE(writer.Finish().ok());
  return out;
}

// Decodes every entry (skipping ids); returns the first error.
Status DecodeAll(const std::string& data, std::vector<FilesEntry>* out = nullptr) {
  StringReader in(data);
  FilesEntryReader reader(&in);
  while (true) {
    FilesEntry entry;
    LB_ASSIGN_OR_RETURN(bool more, reader.Next(&entry));
    if (!more) return OkStatus();
    if (out != nullptr) out->push_back(entry);
  }
}

TEST(FilesEntryTest, RoundTripsEveryKind) {
  FilesEntry dir = Dir("docs");
  dir.mtime_ns = -1'500'000'001;  // before 1970
  dir.ctime_ns = 1'700'000'000'123'456'789;
  dir.inode = 42;
  FilesEntry file = File("docs/a.pdf", 100, 2);
  file.mode = 04750;
  FilesEntry link = Symlink("docs/latest", "a.pdf");
  std::string data = Encode({dir, file, link});

  StringReader in(data);
  FilesEntryReader reader(&in);
  FilesEntry got;
  ASSERT_TRUE(*reader.Next(&got));
  EXPECT_EQ(got.path, "docs");
  EXPECT_EQ(got.kind, FilesEntryKind::kDirectory);
  EXPECT_EQ(got.mode, 0755u);
  EXPECT_EQ(got.mtime_ns, -1'500'000'001);
  EXPECT_EQ(got.ctime_ns, 1'700'000'000'123'456'789);
  EXPECT_EQ(got.inode, 42u);
  ASSERT_TRUE(*reader.Next(&got));
  EXPECT_EQ(got.path, "docs/a.pdf");
  EXPECT_EQ(got.kind, FilesEntryKind::kFile);
  EXPECT_EQ(got.mode, 04750u);
  EXPECT_EQ(got.size, 100u);
  EXPECT_EQ(got.blob_count, 2u);
  std::string id;
  ASSERT_TRUE(*reader.NextBlobId(&id));
  EXPECT_EQ(id, Id('d'));
  EXPECT_EQ(reader.blob_ids_left(), 1u);
  ASSERT_TRUE(*reader.NextBlobId(&id));
  EXPECT_FALSE(*reader.NextBlobId(&id));
  ASSERT_TRUE(*reader.Next(&got));
  EXPECT_EQ(got.kind, FilesEntryKind::kSymlink);
  EXPECT_EQ(got.symlink_target, "a.pdf");
  EXPECT_EQ(got.size, 5u);
  EXPECT_FALSE(*reader.Next(&got));
}

TEST(FilesEntryTest, SkipsBlobIdsTheCallerDidNotRead) {
  std::string data = Encode({File("big", 1 << 20, 1000), File("small", 1, 1)});
  std::vector<FilesEntry> entries;
  ASSERT_TRUE(DecodeAll(data, &entries).ok());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].path, "small");
}

TEST(FilesEntryTest, OrdersPathsComponentByComponent) {
  std::vector<std::string> sorted = {"a", "a/b", "a/b/c", "a/z", "a.txt", "a0", "b", "\xc3\xa9"};
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    EXPECT_LT(CompareFilesPaths(sorted[i], sorted[i + 1]), 0) << sorted[i] << " " << sorted[i + 1];
    EXPECT_GT(CompareFilesPaths(sorted[i + 1], sorted[i]), 0);
  }
  EXPECT_EQ(CompareFilesPaths("a/b", "a/b"), 0);
}

TEST(FilesEntryTest, RefusesPathsThatLeaveTheFilesDirectory) {
  for (std::string bad : {std::string("../x"), std::string("/etc/passwd"), std::string("a/../../x"),
                          std::string("a//b"), std::string("a/./b"), std::string("."),
                          std::string("a/"), std::string(""), std::string("a\0b", 3)}) {
    Status status = DecodeAll(Encode({File(bad, 0, 0)}));
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.code(), StatusCode::kDataLoss);
    EXPECT_THAT(status.message(), HasSubstr("would leave the files directory")) << bad;
  }
  EXPECT_TRUE(ValidateFilesPath("-rf/ a\xc3\xa9/..x/x..").ok());
}

TEST(FilesEntryTest, RefusesEntriesOutOfOrderOrTwice) {
  Status status = DecodeAll(Encode({File("b", 0, 0), File("a", 0, 0)}));
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("out of order"));
  status = DecodeAll(Encode({File("a", 0, 0), File("a", 0, 0)}));
  EXPECT_THAT(status.message(), HasSubstr("appears twice"));
  // Bytewise order would put "a.txt" before "a/b"; the files list order does not.
  status = DecodeAll(Encode({Dir("a"), File("a.txt", 0, 0), File("a/b", 0, 0)}));
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
}

TEST(FilesEntryTest, RefusesEntriesBelowSomethingThatIsNotADirectory) {
  Status status = DecodeAll(Encode({Symlink("link", "/etc"), File("link/passwd", 0, 0)}));
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_THAT(status.message(),
              HasSubstr("files list entry 'link/passwd' would leave the files directory"));
  status = DecodeAll(Encode({File("f", 0, 0), File("f/x", 0, 0)}));
  EXPECT_THAT(status.message(), HasSubstr("'f/x' would leave the files directory"));
  status = DecodeAll(Encode({Dir("a"), File("a/b/c", 0, 0)}));
  EXPECT_THAT(status.message(), HasSubstr("'a/b/c' has no directory entry 'a/b' before it"));
  EXPECT_TRUE(DecodeAll(Encode({Dir("a"), Dir("a/b"), File("a/b/c", 0, 0), File("a/d", 0, 0),
                                File("b", 0, 0)}))
                  .ok());
}

TEST(FilesEntryTest, RefusesDamagedEntries) {
  std::string data = Encode({File("a", 10, 1)});
  Status status = DecodeAll(data.substr(0, data.size() - 5));
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("truncated"));

  std::string bad_kind = Encode({File("a", 0, 0)});
  bad_kind[2] = 9;  // lp(1) 'a' kind
  EXPECT_THAT(DecodeAll(bad_kind).message(), HasSubstr("unknown kind 9"));

  EXPECT_THAT(DecodeAll(Encode({File("a", 1, 2)})).message(), HasSubstr("2 blobs for 1 bytes"));
  EXPECT_THAT(DecodeAll(Encode({File("a", 5, 0)})).message(), HasSubstr("0 blobs for 5 bytes"));

  FilesEntry mode = File("a", 0, 0);
  mode.mode = 010000;
  EXPECT_THAT(DecodeAll(Encode({mode})).message(), HasSubstr("more than permission bits"));

  std::string huge;
  PutVarint64(&huge, kMaxFilesPathBytes + 1);
  EXPECT_THAT(DecodeAll(huge).message(), HasSubstr("has a path of"));
}

TEST(FilesEntryTest, WriterChecksBlobIdCounts) {
  std::string out;
  StringSink sink(&out);
  FilesEntryWriter writer(&sink);
  ASSERT_TRUE(writer.Add(File("a", 10, 2)).ok());
  ASSERT_TRUE(writer.AddBlobId(Id('x')).ok());
  EXPECT_EQ(writer.Finish().code(), StatusCode::kInternal);
  EXPECT_EQ(writer.Add(File("b", 0, 0)).code(), StatusCode::kInternal);
}

TEST(FilesEntryTest, QuotesControlBytes) {
  EXPECT_EQ(QuoteFilesPath("a\nb'c"), "'a\\x0ab\\x27c'");
  EXPECT_EQ(QuoteFilesPath("caf\xc3\xa9"), "'caf\xc3\xa9'");
}

}  // namespace
}  // namespace lifeboat
