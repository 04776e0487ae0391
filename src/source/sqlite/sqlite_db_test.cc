#include "source/sqlite/sqlite_db.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "source/sqlite/sqlite_test_support.h"

namespace lifeboat {
namespace {

using ::lifeboat::sqlite_test::TempDir;
using ::lifeboat::sqlite_test::TestDb;
using ::testing::HasSubstr;

TEST(SqlQuoteTest, IdentifiersAndStrings) {
  EXPECT_EQ(SqlQuoteIdentifier("plain"), "\"plain\"");
  EXPECT_EQ(SqlQuoteIdentifier("weird \"name\" table"), "\"weird \"\"name\"\" table\"");
  EXPECT_EQ(SqlQuoteIdentifier(""), "\"\"");
  EXPECT_EQ(SqlQuoteString("it's"), "'it''s'");
  EXPECT_TRUE(SqlNamesEqual("Trk_Issues", "trk_issues"));
  EXPECT_FALSE(SqlNamesEqual("trk_issue", "trk_issues"));
  // SQLite folds ASCII letters only.
  EXPECT_FALSE(SqlNamesEqual("\xC3\x84", "\xC3\xA4"));
}

TEST(SqlQuoteTest, QuotedIdentifiersReadBackExactly) {
  TempDir dir;
  Result<std::unique_ptr<SqliteDb>> db =
      SqliteDb::Open(dir.File("q.db"), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(db.ok());
  for (std::string name : {"order", "a \"b\" c", "with space", "semi;colon", "'single'"}) {
    ASSERT_TRUE((*db)
                    ->Exec("CREATE TABLE " + SqlQuoteIdentifier(name) + "(" +
                               SqlQuoteIdentifier(name) + ")",
                           "creating")
                    .ok())
        << name;
    Result<SqliteStatement> stmt =
        (*db)->Prepare("SELECT name FROM pragma_table_info(" + SqlQuoteString(name) + ")", "x");
    ASSERT_TRUE(stmt.ok());
    Result<bool> row = stmt->Step();
    ASSERT_TRUE(row.ok() && *row);
    EXPECT_EQ(stmt->ColumnString(0), name);
  }
}

TEST(SqliteDbTest, ErrorsNameTheActionAndTheDatabase) {
  TempDir dir;
  std::string path = dir.File("e.db");
  Result<std::unique_ptr<SqliteDb>> db =
      SqliteDb::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(db.ok());
  Status status = (*db)->Exec("SELECT * FROM nowhere", "reading table \"nowhere\"");
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_EQ(status.message(),
            "reading table \"nowhere\" in SQLite database " + path + ": no such table: nowhere");
  status = (*db)->Exec("SELECT * FROM nowhere", "x", StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);

  ASSERT_TRUE((*db)->Exec("CREATE TABLE t(a NOT NULL)", "creating").ok());
  status = (*db)->Exec("INSERT INTO t VALUES(NULL)", "inserting into table \"t\"");
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("NOT NULL constraint failed: t.a"));

  Result<SqliteStatement> two = (*db)->Prepare("SELECT 1; SELECT 2", "two");
  EXPECT_FALSE(two.ok());
  EXPECT_THAT(two.status().message(), HasSubstr("more than one statement"));
  Result<SqliteStatement> trailing = (*db)->Prepare("SELECT 1; -- done\n ;", "one");
  EXPECT_TRUE(trailing.ok()) << trailing.status().ToString();
}

TEST(SqliteDbTest, BusyIsAborted) {
  TempDir dir;
  std::string path = dir.File("busy.db");
  TestDb holder(path);
  holder.Exec("CREATE TABLE t(a); BEGIN EXCLUSIVE; INSERT INTO t VALUES(1);");
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path, SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(db.ok());
  (*db)->SetBusyTimeout(50);
  Status status = (*db)->Exec("SELECT count(*) FROM t", "counting");
  EXPECT_EQ(status.code(), StatusCode::kAborted);
  EXPECT_THAT(status.message(), HasSubstr("database is locked"));
  holder.Exec("COMMIT");
}

TEST(SqliteDbTest, DamagedFileIsDataLoss) {
  TempDir dir;
  std::string path = dir.File("junk.db");
  { std::ofstream(path) << std::string(4096, 'j'); }
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path, SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(db.ok());
  Status status = (*db)->Exec("SELECT * FROM sqlite_schema", "reading the schema");
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("file is not a database"));
}

TEST(SqliteDbTest, CancellationInterruptsALongStatement) {
  TempDir dir;
  Result<std::unique_ptr<SqliteDb>> db =
      SqliteDb::Open(dir.File("c.db"), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(db.ok());
  CancellationToken cancel;
  cancel.Cancel(CancelledError("stop now"));
  ScopedSqliteCancellation scoped(db->get(), &cancel);
  Status status = (*db)->Exec(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
      "SELECT count(*) FROM n",
      "counting");
  EXPECT_EQ(status.code(), StatusCode::kCancelled);
  EXPECT_EQ(status.message(), "stop now");
}

TEST(SqliteDbTest, TextAndBlobKeepNulBytesAndEmptiness) {
  TempDir dir;
  Result<std::unique_ptr<SqliteDb>> db =
      SqliteDb::Open(dir.File("b.db"), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(db.ok());
  Result<SqliteStatement> stmt =
      (*db)->Prepare("SELECT ?1, typeof(?1), ?2, typeof(?2), ?3, typeof(?3)", "binding");
  ASSERT_TRUE(stmt.ok());
  std::string nul("x\0y", 3);
  ASSERT_TRUE(stmt->BindText(1, nul).ok());
  ASSERT_TRUE(stmt->BindBlob(2, std::string_view()).ok());
  ASSERT_TRUE(stmt->BindText(3, std::string_view()).ok());
  Result<bool> row = stmt->Step();
  ASSERT_TRUE(row.ok() && *row);
  Result<std::string_view> text = stmt->ColumnText(0);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, nul);
  EXPECT_EQ(stmt->ColumnString(1), "text");
  Result<std::string_view> blob = stmt->ColumnBlob(2);
  ASSERT_TRUE(blob.ok());
  EXPECT_TRUE(blob->empty());
  EXPECT_EQ(stmt->ColumnString(3), "blob");
  EXPECT_EQ(stmt->ColumnString(5), "text");
}

}  // namespace
}  // namespace lifeboat
