// Memory: a 64 MiB value goes through backup and restore in pieces, on both sides of the
// SQLite C API.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "base/encoding.h"
#include "source/row_codec.h"
#include "source/sqlite/sqlite_source.h"
#include "source/sqlite/sqlite_test_support.h"

namespace lifeboat {
namespace {

using ::lifeboat::sqlite_test::TempDir;
using ::lifeboat::sqlite_test::TestDb;

constexpr size_t kMiB = 1 << 20;
constexpr size_t kValueBytes = 64 * kMiB;
// What SQLite may hold at once while a 64 MiB value streams: its page cache (2 MiB by
// default), a few pages of b-tree cursors and the statement; far below the value's size.
constexpr int64_t kSqliteMemoryLimit = 8 * kMiB;

// Byte i of the test value.
char ValueByte(uint64_t i) {
  return static_cast<char>((i * 2654435761u) >> 13);
}

// Records the largest single Write and checks the row stream on the fly, holding nothing.
class CountingSink : public ByteSink {
 public:
  Status Write(std::string_view data) override {
    largest = std::max(largest, data.size());
    total += data.size();
    if (header.size() < 16) header.append(data.substr(0, 16 - header.size()));
    return OkStatus();
  }
  size_t largest = 0;
  uint64_t total = 0;
  std::string header;
};

// Produces the row stream of one row (rowid 1: id 1, the 64 MiB blob) without holding it.
class GeneratedRowReader : public ByteReader {
 public:
  GeneratedRowReader() {
    PutVarint64(&prefix_, ZigZagEncode(1));  // rowid
    prefix_.push_back(static_cast<char>(ValueType::kInteger));
    PutVarint64(&prefix_, ZigZagEncode(1));  // id
    prefix_.push_back(static_cast<char>(ValueType::kBlob));
    PutVarint64(&prefix_, kValueBytes);
  }
  Result<size_t> Read(char* buf, size_t n) override {
    largest = std::max(largest, n);
    size_t done = 0;
    while (done < n && prefix_pos_ < prefix_.size()) buf[done++] = prefix_[prefix_pos_++];
    while (done < n && value_pos_ < kValueBytes) buf[done++] = ValueByte(value_pos_++);
    return done;
  }
  size_t largest = 0;

 private:
  std::string prefix_;
  size_t prefix_pos_ = 0;
  uint64_t value_pos_ = 0;
};

void WriteLargeValue(TestDb* db) {
  db->Exec("CREATE TABLE files(id INTEGER PRIMARY KEY, content BLOB)");
  db->Run("INSERT INTO files VALUES(1, zeroblob(?))", {TestDb::Int(kValueBytes)});
  sqlite3_blob* blob = nullptr;
  ASSERT_EQ(sqlite3_blob_open(db->get(), "main", "files", "content", 1, 1, &blob), SQLITE_OK);
  std::string piece(kMiB, '\0');
  for (uint64_t offset = 0; offset < kValueBytes; offset += kMiB) {
    for (size_t i = 0; i < kMiB; ++i) piece[i] = ValueByte(offset + i);
    ASSERT_EQ(
        sqlite3_blob_write(blob, piece.data(), static_cast<int>(kMiB), static_cast<int>(offset)),
        SQLITE_OK);
  }
  sqlite3_blob_close(blob);
}

// Reads the stored value back in pieces and compares it with the pattern.
void ExpectLargeValue(TestDb* db) {
  EXPECT_EQ(db->Query("SELECT typeof(content) FROM files WHERE id = 1"), "blob");
  sqlite3_blob* blob = nullptr;
  ASSERT_EQ(sqlite3_blob_open(db->get(), "main", "files", "content", 1, 0, &blob), SQLITE_OK);
  ASSERT_EQ(static_cast<size_t>(sqlite3_blob_bytes(blob)), kValueBytes);
  std::string piece(kMiB, '\0');
  for (uint64_t offset = 0; offset < kValueBytes; offset += kMiB) {
    ASSERT_EQ(
        sqlite3_blob_read(blob, piece.data(), static_cast<int>(kMiB), static_cast<int>(offset)),
        SQLITE_OK);
    for (size_t i = 0; i < kMiB; ++i) {
      ASSERT_EQ(piece[i], ValueByte(offset + i)) << "byte " << offset + i;
    }
  }
  sqlite3_blob_close(blob);
}

TEST(SqliteLargeValueTest, A64MiBBlobStreamsInSmallPieces) {
  TempDir dir;
  const std::string path = dir.File("large.db");
  {
    TestDb db(path);
    WriteLargeValue(&db);
  }
  Result<std::unique_ptr<SqliteSource>> source = SqliteSource::Open(path, false);
  ASSERT_TRUE(source.ok());

  // Backup.
  {
    Result<std::unique_ptr<ReadSnapshot>> snapshot = (*source)->BeginRead();
    ASSERT_TRUE(snapshot.ok());
    Result<InstanceSchema> schema = (*snapshot)->Describe();
    ASSERT_TRUE(schema.ok());
    CountingSink sink;
    sqlite3_memory_highwater(1);
    const int64_t base = sqlite3_memory_used();
    Result<TableStreamStats> stats =
        (*snapshot)->StreamTable(schema->tables[0], &sink, nullptr, {});
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    const int64_t sqlite_peak = sqlite3_memory_highwater(0) - base;
    EXPECT_EQ(stats->rows, 1u);
    EXPECT_EQ(sink.total, stats->bytes);
    EXPECT_GT(sink.total, kValueBytes);
    EXPECT_LE(sink.largest, kMiB);
    EXPECT_LT(sqlite_peak, kSqliteMemoryLimit) << "SQLite loaded the value";
    // rowid 1, INTEGER 1, then the BLOB's header.
    EXPECT_EQ(sink.header.substr(0, 4), std::string("\x02\x01\x02\x04", 4));
  }

  // Restore into the same database from a stream that is generated, never held.
  TestDb(path).Exec("DELETE FROM files; VACUUM;");
  {
    Result<std::unique_ptr<RestoreTransaction>> txn = (*source)->BeginRestore(1000);
    ASSERT_TRUE(txn.ok());
    Result<InstanceSchema> schema = (*txn)->Reader()->Describe();
    ASSERT_TRUE(schema.ok());
    GeneratedRowReader reader;
    sqlite3_memory_highwater(1);
    const int64_t base = sqlite3_memory_used();
    Result<TableStreamStats> stats = (*txn)->ReplaceTable(schema->tables[0], &reader, nullptr);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    const int64_t sqlite_peak = sqlite3_memory_highwater(0) - base;
    EXPECT_EQ(stats->rows, 1u);
    EXPECT_LE(reader.largest, 64 * 1024u);  // the decoder's buffer
    // The value is the row's last: SQLite keeps its zero-filled placeholder virtual.
    EXPECT_LT(sqlite_peak, kSqliteMemoryLimit) << "SQLite materialised the value";
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  TestDb db(path);
  ExpectLargeValue(&db);
}

}  // namespace
}  // namespace lifeboat
