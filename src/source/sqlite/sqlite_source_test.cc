#include "source/sqlite/sqlite_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "source/row_codec.h"
#include "source/sqlite/sqlite_fixture.h"
#include "source/sqlite/sqlite_read_snapshot.h"
#include "source/sqlite/sqlite_test_support.h"

namespace lifeboat {
namespace {

using ::lifeboat::sqlite_test::Backup;
using ::lifeboat::sqlite_test::BuildFixture;
using ::lifeboat::sqlite_test::Dump;
using ::lifeboat::sqlite_test::DumpWithRowids;
using ::lifeboat::sqlite_test::ExactDump;
using ::lifeboat::sqlite_test::RestoreAll;
using ::lifeboat::sqlite_test::TakeBackup;
using ::lifeboat::sqlite_test::TempDir;
using ::lifeboat::sqlite_test::TestDb;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<SqliteSource> OpenSource(const std::string& path, bool create = false) {
  Result<std::unique_ptr<SqliteSource>> source = SqliteSource::Open(path, create);
  EXPECT_TRUE(source.ok()) << source.status().ToString();
  return source.ok() ? std::move(source).value() : nullptr;
}

const TableInfo& FindTable(const InstanceSchema& schema, const std::string& name) {
  for (const TableInfo& table : schema.tables) {
    if (table.name == name) return table;
  }
  ADD_FAILURE() << "no table " << name;
  static const TableInfo kNone;
  return kNone;
}

// The whole state a test compares: the shell's dump (with and without rowids) and the
// exact dump (types and bytes).
struct Snapshot {
  std::string dump, dump_rowids, exact, integrity;
  bool operator==(const Snapshot&) const = default;
};

Snapshot Capture(const std::string& path) {
  return {Dump(path), DumpWithRowids(path), ExactDump(path),
          TestDb(path).Query("PRAGMA integrity_check")};
}

void ExpectSame(const Snapshot& actual, const Snapshot& expected) {
  EXPECT_EQ(actual.dump, expected.dump);
  EXPECT_EQ(actual.dump_rowids, expected.dump_rowids);
  EXPECT_EQ(actual.exact, expected.exact);
  EXPECT_EQ(actual.integrity, "ok");
  EXPECT_EQ(expected.integrity, "ok");
}

class SqliteSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("app.db");
    BuildFixture(path_);
  }

  TempDir dir_;
  std::string path_;
};

// ---------------------------------------------------------------------------------------
// Opening

TEST(SqliteSourceOpenTest, MissingFileIsNotFoundNamingThePath) {
  TempDir dir;
  std::string path = dir.File("missing.db");
  Result<std::unique_ptr<SqliteSource>> source = SqliteSource::Open(path, false);
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(source.status().message(), HasSubstr(path));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SqliteSourceOpenTest, CreatesAnEmptyDatabaseWhenAsked) {
  TempDir dir;
  std::string path = dir.File("new.db");
  std::unique_ptr<SqliteSource> source = OpenSource(path, true);
  ASSERT_NE(source, nullptr);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(source->kind(), "sqlite");
  EXPECT_EQ(source->Describe(), path);
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok());
  EXPECT_TRUE(schema->tables.empty());
  EXPECT_TRUE(schema->objects.empty());
}

TEST(SqliteSourceOpenTest, RelativePathsBecomeAbsolute) {
  TempDir dir;
  std::string path = dir.File("rel.db");
  {
    TestDb db(path);
    db.Exec("CREATE TABLE t(a)");
  }
  std::filesystem::path saved = std::filesystem::current_path();
  std::filesystem::current_path(std::filesystem::path(path).parent_path());
  Result<std::unique_ptr<SqliteSource>> source = SqliteSource::Open("./rel.db", false);
  std::filesystem::current_path(saved);
  ASSERT_TRUE(source.ok());
  EXPECT_EQ((*source)->Describe(), path);
}

TEST(SqliteSourceOpenTest, FileThatIsNotADatabaseIsRefused) {
  TempDir dir;
  std::string path = dir.File("notes.txt");
  { std::ofstream(path) << "these are not the pages you are looking for\n"; }
  Result<std::unique_ptr<SqliteSource>> source = SqliteSource::Open(path, false);
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(source.status().message(), HasSubstr("not a SQLite database"));
  EXPECT_THAT(source.status().message(), HasSubstr(path));
}

// ---------------------------------------------------------------------------------------
// Describe

TEST_F(SqliteSourceTest, DescribesTablesColumnsAndObjects) {
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
  ASSERT_TRUE(snapshot.ok());
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();

  std::vector<std::string> names;
  for (const TableInfo& table : schema->tables) names.push_back(table.name);
  EXPECT_THAT(names, ElementsAre("audit", "big", "dup", "gen", "kv", "order", "strict_t",
                                 "trk_comments", "trk_issues", "values", "weird \"name\" table"));
  EXPECT_TRUE(schema->skipped.empty());

  const TableInfo& issues = FindTable(*schema, "trk_issues");
  EXPECT_TRUE(issues.rowid);
  EXPECT_THAT(issues.ddl, HasSubstr("CREATE TABLE trk_issues("));
  ASSERT_EQ(issues.columns.size(), 3u);
  EXPECT_EQ(issues.columns[0].name, "id");
  EXPECT_EQ(issues.columns[0].type, "INTEGER");
  EXPECT_EQ(issues.columns[0].pk_position, 1);
  EXPECT_EQ(issues.columns[1].name, "title");
  EXPECT_TRUE(issues.columns[1].not_null);
  EXPECT_FALSE(issues.columns[1].default_sql.has_value());
  EXPECT_EQ(issues.columns[2].default_sql, "'open'");
  EXPECT_EQ(issues.columns[2].pk_position, 0);

  const TableInfo& kv = FindTable(*schema, "kv");
  EXPECT_FALSE(kv.rowid);
  EXPECT_EQ(kv.columns[0].pk_position, 1);
  EXPECT_EQ(kv.columns[1].pk_position, 2);

  const TableInfo& gen = FindTable(*schema, "gen");
  ASSERT_EQ(gen.columns.size(), 4u);
  EXPECT_FALSE(gen.columns[0].hidden);
  EXPECT_TRUE(gen.columns[1].hidden);  // VIRTUAL
  EXPECT_TRUE(gen.columns[2].hidden);  // STORED
  EXPECT_FALSE(gen.columns[3].hidden);

  // Its columns take the name "rowid"; the rowid is still streamed (as oid).
  EXPECT_TRUE(FindTable(*schema, "weird \"name\" table").rowid);
  EXPECT_TRUE(FindTable(*schema, "dup").rowid);

  std::vector<std::string> objects;
  for (const SchemaObject& object : schema->objects) {
    objects.push_back(object.type + " " + object.name + " on " + object.table);
  }
  EXPECT_THAT(objects,
              ElementsAre("index idx weird on weird \"name\" table",
                          "index idx_comments_issue on trk_comments",
                          "trigger trg_issues_delete on trk_issues",
                          "trigger trg_issues_insert on trk_issues",
                          "trigger trg_view_insert on v_issue_counts", "view v_issue_counts on "));
}

TEST_F(SqliteSourceTest, StreamTableRefusesAStaleDescription) {
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
  ASSERT_TRUE(snapshot.ok());
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok());
  std::string out;
  StringSink sink(&out);
  TableInfo renamed = FindTable(*schema, "dup");
  renamed.columns[1].name = "c";
  Result<TableStreamStats> stats = (*snapshot)->StreamTable(renamed, &sink, nullptr, {});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(stats.status().message(), HasSubstr("streaming table \"dup\""));
  EXPECT_THAT(stats.status().message(), HasSubstr("changed since it was described"));
  TableInfo missing = renamed;
  missing.name = "gone";
  stats = (*snapshot)->StreamTable(missing, &sink, nullptr, {});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(out.empty());
}

TEST(SqliteDescribeTest, VirtualTablesAreSkippedWithAReason) {
  TempDir dir;
  std::string path = dir.File("fts.db");
  {
    TestDb db(path);
    db.Exec(
        "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);"
        "CREATE VIRTUAL TABLE notes_fts USING fts5(body);"
        "INSERT INTO notes VALUES(1, 'hello');"
        "INSERT INTO notes_fts(rowid, body) VALUES(1, 'hello');"
        "CREATE VIEW v_search AS SELECT rowid FROM notes_fts;");
  }
  std::unique_ptr<SqliteSource> source = OpenSource(path);
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
  ASSERT_TRUE(snapshot.ok());
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  ASSERT_EQ(schema->tables.size(), 1u);
  EXPECT_EQ(schema->tables[0].name, "notes");
  std::vector<std::string> skipped;
  for (const SkippedTable& table : schema->skipped) skipped.push_back(table.name);
  EXPECT_THAT(skipped, ElementsAre("notes_fts", "notes_fts_config", "notes_fts_content",
                                   "notes_fts_data", "notes_fts_docsize", "notes_fts_idx"));
  EXPECT_THAT(schema->skipped[0].reason, HasSubstr("virtual table (module fts5)"));
  EXPECT_THAT(schema->skipped[0].reason, HasSubstr("not supported yet"));

  // Streaming a virtual table is refused rather than attempted.
  TableInfo fts;
  fts.name = "notes_fts";
  std::string out;
  StringSink sink(&out);
  Result<TableStreamStats> stats = (*snapshot)->StreamTable(fts, &sink, nullptr, {});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kUnimplemented);
}

// ---------------------------------------------------------------------------------------
// Version query, size, sequences

TEST_F(SqliteSourceTest, QueryVersion) {
  TestDb(path_).Exec(
      "CREATE TABLE settings(key TEXT, value TEXT);"
      "INSERT INTO settings VALUES('version', '22.10.0017'), ('empty', NULL);"
      "PRAGMA user_version = 42;");
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<ReadSnapshot>> opened = source->BeginRead();
  ASSERT_TRUE(opened.ok());
  ReadSnapshot& snapshot = **opened;

  Result<std::optional<std::string>> version =
      snapshot.QueryVersion("SELECT value FROM settings WHERE key = 'version'");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, "22.10.0017");

  version = snapshot.QueryVersion("SELECT value FROM settings WHERE key = 'empty'");
  ASSERT_TRUE(version.ok());
  EXPECT_FALSE(version->has_value());

  version = snapshot.QueryVersion("SELECT value FROM settings WHERE key = 'nope'");
  ASSERT_TRUE(version.ok());
  EXPECT_FALSE(version->has_value());

  version = snapshot.QueryVersion("PRAGMA user_version");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, "42");

  version = snapshot.QueryVersion("SELECT value FROM app_settings");
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(version.status().message(), HasSubstr("no such table: app_settings"));
  EXPECT_THAT(version.status().message(), HasSubstr("the instance looks empty"));

  version = snapshot.QueryVersion("DELETE FROM settings");
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.status().code(), StatusCode::kInvalidArgument);

  version = snapshot.QueryVersion("SELECT key, value FROM settings");
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.status().code(), StatusCode::kInvalidArgument);

  version = snapshot.QueryVersion("SELECT value FROM settings");
  ASSERT_FALSE(version.ok());
  EXPECT_THAT(version.status().message(), HasSubstr("at most one row"));

  version = snapshot.QueryVersion("SELEC value");
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteSourceTest, EstimateSizeUsesPages) {
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
  ASSERT_TRUE(snapshot.ok());
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok());
  Result<uint64_t> big = (*snapshot)->EstimateSize(FindTable(*schema, "big"));
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_GE(*big, 10 * sqlite_test::kMiB);
  EXPECT_LE(*big, 16 * sqlite_test::kMiB);
  Result<uint64_t> dup = (*snapshot)->EstimateSize(FindTable(*schema, "dup"));
  ASSERT_TRUE(dup.ok());
  EXPECT_GT(*dup, 0u);
  EXPECT_LE(*dup, 8192u);
}

TEST_F(SqliteSourceTest, ReadsSequencesOfTheNamedTables) {
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
  ASSERT_TRUE(snapshot.ok());
  Result<std::vector<SequenceValue>> all =
      (*snapshot)->ReadSequences({"trk_issues", "audit", "dup"});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].table, "audit");
  EXPECT_EQ((*all)[0].value, 5);  // 'created', three inserts, one delete
  EXPECT_EQ((*all)[1].table, "trk_issues");
  EXPECT_EQ((*all)[1].value, 3);  // issue 3 was deleted: the sequence stays at 3
  EXPECT_EQ((*all)[1].name, "");
  Result<std::vector<SequenceValue>> some = (*snapshot)->ReadSequences({"trk_issues"});
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->size(), 1u);
}

// ---------------------------------------------------------------------------------------
// Round trips

TEST_F(SqliteSourceTest, StreamsEveryValueExactly) {
  // The values table, decoded: every storage class and edge value survives the stream.
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
  ASSERT_TRUE(snapshot.ok());
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok());
  std::string stream;
  StringSink sink(&stream);
  std::vector<uint64_t> progress;
  Result<TableStreamStats> stats =
      (*snapshot)->StreamTable(FindTable(*schema, "values"), &sink, nullptr,
                               [&](const TableStreamStats& s) { progress.push_back(s.rows); });
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows, 19u);
  EXPECT_THAT(progress, ElementsAre(19u));  // called at the end

  StringReader reader(stream);
  RowDecoder decoder(&reader);
  std::vector<int64_t> rowids;
  std::map<int64_t, ValueHeader> headers;
  std::map<int64_t, std::string> bytes;
  while (true) {
    int64_t rowid = 0;
    Result<bool> more = decoder.NextRow(true, &rowid);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    rowids.push_back(rowid);
    Result<ValueHeader> id = decoder.NextValue();
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(id->integer, rowid);  // INTEGER PRIMARY KEY: the rowid itself
    Result<ValueHeader> v = decoder.NextValue();
    ASSERT_TRUE(v.ok());
    headers[rowid] = *v;
    ASSERT_TRUE(decoder.ReadValue(&bytes[rowid]).ok());
    ASSERT_TRUE(decoder.NextValue().ok());  // note
  }
  EXPECT_EQ(rowids.front(), -5);  // rowid order
  EXPECT_EQ(rowids.back(), std::numeric_limits<int64_t>::max() - 1);
  EXPECT_EQ(headers[1].type, ValueType::kNull);
  EXPECT_EQ(headers[2].integer, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(headers[3].integer, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(headers[6].type, ValueType::kReal);
  EXPECT_TRUE(std::signbit(headers[6].real));  // -0.0 kept in a column without affinity
  EXPECT_EQ(headers[7].real, 1e308);
  EXPECT_EQ(headers[8].real, 5e-324);
  EXPECT_EQ(headers[13].type, ValueType::kText);
  EXPECT_EQ(bytes[13], std::string("a\0b\0\0c", 6));
  EXPECT_EQ(headers[14].type, ValueType::kBlob);
  EXPECT_EQ(headers[14].size, 0u);
  EXPECT_EQ(headers[15].type, ValueType::kText);
  EXPECT_EQ(headers[17].type, ValueType::kText);
  EXPECT_EQ(bytes[17], "123");
}

TEST_F(SqliteSourceTest, RestoreIntoTheSameDatabaseAfterChanges) {
  const Snapshot before = Capture(path_);
  const Backup backup = TakeBackup(path_);
  {
    TestDb db(path_);
    db.Exec(R"sql(
      DELETE FROM "values" WHERE id IN (2, 13, 14);
      UPDATE "values" SET v = 'changed' WHERE id = 6;
      UPDATE big SET doc = 'short now', payload = NULL WHERE id = 1;
      DELETE FROM big WHERE id = 2;
      INSERT INTO dup VALUES(9, 9);
      DELETE FROM trk_issues WHERE id = 1;
      INSERT INTO trk_issues(title) VALUES('fourth'), ('fifth');
      UPDATE kv SET v = 'changed' WHERE k = 'alpha';
      DELETE FROM kv WHERE k = 'gamma';
      INSERT INTO "weird ""name"" table"(oid, "col with space") VALUES(99, 'new');
      UPDATE gen SET a = 10 WHERE a = 1;
      DELETE FROM audit WHERE id = 1;
    )sql");
  }
  ASSERT_NE(Capture(path_), before);
  Status restored = RestoreAll(path_, backup, false);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  ExpectSame(Capture(path_), before);
}

TEST_F(SqliteSourceTest, RestoreIntoAWalDatabase) {
  ASSERT_EQ(TestDb(path_).Query("PRAGMA journal_mode=WAL"), "wal");
  const Snapshot before = Capture(path_);
  const Backup backup = TakeBackup(path_);
  TestDb(path_).Exec("DELETE FROM big; DELETE FROM \"values\"; UPDATE kv SET v = 1;");
  ASSERT_NE(Capture(path_), before);
  Status restored = RestoreAll(path_, backup, false);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  ExpectSame(Capture(path_), before);
  EXPECT_EQ(TestDb(path_).Query("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteSourceTest, CloneIntoAnEmptyDatabase) {
  const Snapshot before = Capture(path_);
  const Backup backup = TakeBackup(path_);
  const std::string clone = dir_.File("clone.db");
  Status restored = RestoreAll(clone, backup, true);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  ExpectSame(Capture(clone), before);
  // The source was only read.
  ExpectSame(Capture(path_), before);
  // And the clone backs up to the same streams.
  const Backup again = TakeBackup(clone);
  EXPECT_EQ(again.streams, backup.streams);
}

TEST_F(SqliteSourceTest, LoadingRowsFiresNoTrigger) {
  const Snapshot before = Capture(path_);
  const Backup backup = TakeBackup(path_);
  TestDb db(path_);
  const std::string audit_before = db.Query("SELECT group_concat(what, '|') FROM audit");
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(1000);
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  // Only trk_issues: its insert and delete triggers would write to audit if they fired.
  const TableInfo& issues = FindTable(backup.schema, "trk_issues");
  StringReader reader(backup.streams.at("trk_issues"));
  ASSERT_TRUE((*txn)->ReplaceTable(issues, &reader, nullptr).ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(db.Query("SELECT group_concat(what, '|') FROM audit"), audit_before);
  ExpectSame(Capture(path_), before);
  // The triggers are still there and work for the application.
  db.Exec("INSERT INTO trk_issues(title) VALUES('after restore')");
  EXPECT_EQ(db.Query("SELECT what FROM audit ORDER BY id DESC LIMIT 1"), "inserted 4");
}

TEST_F(SqliteSourceTest, ReaderOfARestoreSeesTheCurrentState) {
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(1000);
  ASSERT_TRUE(txn.ok());
  ReadSnapshot* reader = (*txn)->Reader();
  Result<InstanceSchema> schema = reader->Describe();
  ASSERT_TRUE(schema.ok());
  std::string stream;
  StringSink sink(&stream);
  Result<TableStreamStats> stats =
      reader->StreamTable(FindTable(*schema, "big"), &sink, nullptr, {});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows, 5u);
  (*txn)->Rollback();
  Result<InstanceSchema> after = reader->Describe();
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------------------
// Consistency and locking

TEST_F(SqliteSourceTest, SnapshotIgnoresLaterCommitsInWalMode) {
  TestDb writer(path_);
  ASSERT_EQ(writer.Query("PRAGMA journal_mode=WAL"), "wal");
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
  ASSERT_TRUE(snapshot.ok());
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok());
  const TableInfo& dup = FindTable(*schema, "dup");

  // Another connection commits while the snapshot is open.
  writer.Exec(
      "BEGIN; INSERT INTO dup VALUES(100, 'new'); INSERT INTO dup VALUES(101, 'new');"
      "DELETE FROM dup WHERE rowid = 1; COMMIT;");
  EXPECT_EQ(writer.Query("SELECT count(*) FROM dup"), "5");

  std::string old_stream;
  StringSink old_sink(&old_stream);
  Result<TableStreamStats> old_stats = (*snapshot)->StreamTable(dup, &old_sink, nullptr, {});
  ASSERT_TRUE(old_stats.ok()) << old_stats.status().ToString();
  EXPECT_EQ(old_stats->rows, 4u);

  Result<std::unique_ptr<ReadSnapshot>> fresh = source->BeginRead();
  ASSERT_TRUE(fresh.ok());
  std::string new_stream;
  StringSink new_sink(&new_stream);
  Result<TableStreamStats> new_stats = (*fresh)->StreamTable(dup, &new_sink, nullptr, {});
  ASSERT_TRUE(new_stats.ok());
  EXPECT_EQ(new_stats->rows, 5u);
}

TEST_F(SqliteSourceTest, SnapshotHoldsWritersOffInRollbackJournalMode) {
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  TestDb writer(path_);
  sqlite3_busy_timeout(writer.get(), 0);
  {
    Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
    ASSERT_TRUE(snapshot.ok());
    EXPECT_EQ(writer.TryExec("INSERT INTO dup VALUES(100, 'new')"), SQLITE_BUSY);
    std::string stream;
    StringSink sink(&stream);
    Result<InstanceSchema> schema = (*snapshot)->Describe();
    ASSERT_TRUE(schema.ok());
    Result<TableStreamStats> stats =
        (*snapshot)->StreamTable(FindTable(*schema, "dup"), &sink, nullptr, {});
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->rows, 4u);
  }
  EXPECT_EQ(writer.TryExec("INSERT INTO dup VALUES(100, 'new')"), SQLITE_OK);
}

TEST_F(SqliteSourceTest, BeginRestoreIsAbortedWhileAnotherConnectionWrites) {
  TestDb other(path_);
  other.Exec("BEGIN IMMEDIATE; INSERT INTO dup VALUES(7, 7);");
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(300);
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(txn.ok());
  EXPECT_EQ(txn.status().code(), StatusCode::kAborted);
  EXPECT_THAT(txn.status().message(), HasSubstr("is in use by another process"));
  EXPECT_THAT(txn.status().message(), HasSubstr(path_));
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, std::chrono::seconds(5));
  other.Exec("COMMIT");
  Result<std::unique_ptr<RestoreTransaction>> later = source->BeginRestore(300);
  EXPECT_TRUE(later.ok()) << later.status().ToString();
}

TEST_F(SqliteSourceTest, RestoreHoldsTheApplicationOff) {
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(1000);
  ASSERT_TRUE(txn.ok());
  TestDb app(path_);
  sqlite3_busy_timeout(app.get(), 0);
  EXPECT_EQ(app.TryExec("INSERT INTO dup VALUES(1, 1)"), SQLITE_BUSY);
  EXPECT_EQ(app.TryExec("SELECT count(*) FROM dup"), SQLITE_BUSY);  // rollback journal
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(app.TryExec("INSERT INTO dup VALUES(1, 1)"), SQLITE_OK);
}

// ---------------------------------------------------------------------------------------
// Refusals and failures leave the database as it was

std::string CommentsStream(const std::vector<std::pair<int64_t, int64_t>>& comments) {
  std::string out;
  StringSink sink(&out);
  RowEncoder encoder(&sink);
  for (auto [id, issue] : comments) {
    EXPECT_TRUE(encoder.BeginRow(id).ok());
    EXPECT_TRUE(encoder.Integer(id).ok());
    EXPECT_TRUE(encoder.Integer(issue).ok());
    EXPECT_TRUE(encoder.Text("comment").ok());
  }
  EXPECT_TRUE(encoder.Flush().ok());
  return out;
}

TEST_F(SqliteSourceTest, ForeignKeyViolationRollsBackAndNamesTheTables) {
  const Snapshot before = Capture(path_);
  const Backup backup = TakeBackup(path_);
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(1000);
  ASSERT_TRUE(txn.ok());
  std::string stream = CommentsStream({{1, 1}, {2, 999}, {3, 998}, {4, 2}});
  StringReader reader(stream);
  Result<TableStreamStats> stats =
      (*txn)->ReplaceTable(FindTable(backup.schema, "trk_comments"), &reader, nullptr);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows, 4u);
  Status committed = (*txn)->Commit();
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(committed.message(),
            "foreign key check failed: trk_comments references trk_issues (2 rows): nothing "
            "was changed");
  ExpectSame(Capture(path_), before);
  EXPECT_EQ((*txn)->Commit().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteSourceTest, ReplacingAParentChecksItsChildren) {
  const Snapshot before = Capture(path_);
  const Backup backup = TakeBackup(path_);
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(1000);
  ASSERT_TRUE(txn.ok());
  StringReader empty("");
  ASSERT_TRUE((*txn)->ReplaceTable(FindTable(backup.schema, "trk_issues"), &empty, nullptr).ok());
  Status committed = (*txn)->Commit();
  EXPECT_EQ(committed.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(committed.message(), HasSubstr("trk_comments references trk_issues (3 rows)"));
  ExpectSame(Capture(path_), before);
}

TEST_F(SqliteSourceTest, ColumnMismatchIsRefused) {
  const Snapshot before = Capture(path_);
  const Backup backup = TakeBackup(path_);
  TableInfo issues = FindTable(backup.schema, "trk_issues");
  issues.columns[2].name = "state";
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(1000);
  ASSERT_TRUE(txn.ok());
  StringReader reader(backup.streams.at("trk_issues"));
  Result<TableStreamStats> stats = (*txn)->ReplaceTable(issues, &reader, nullptr);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(stats.status().message(), HasSubstr("restoring table \"trk_issues\""));
  EXPECT_THAT(stats.status().message(),
              HasSubstr("column \"state\" is missing from the database; column \"status\" is "
                        "not in the backup"));
  // The transaction is over: nothing more can happen in it.
  EXPECT_EQ((*txn)->Commit().code(), StatusCode::kFailedPrecondition);
  ExpectSame(Capture(path_), before);

  // Same names in another order.
  TableInfo swapped = FindTable(backup.schema, "trk_issues");
  std::swap(swapped.columns[1], swapped.columns[2]);
  Result<std::unique_ptr<RestoreTransaction>> second = source->BeginRestore(1000);
  ASSERT_TRUE(second.ok());
  StringReader again(backup.streams.at("trk_issues"));
  stats = (*second)->ReplaceTable(swapped, &again, nullptr);
  ASSERT_FALSE(stats.ok());
  EXPECT_THAT(stats.status().message(), HasSubstr("another order"));

  // A missing table.
  TableInfo missing = FindTable(backup.schema, "dup");
  missing.name = "no_such_table";
  Result<std::unique_ptr<RestoreTransaction>> third = source->BeginRestore(1000);
  ASSERT_TRUE(third.ok());
  StringReader none("");
  stats = (*third)->ReplaceTable(missing, &none, nullptr);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(stats.status().message(), HasSubstr("\"no_such_table\""));
}

TEST_F(SqliteSourceTest, TruncatedStreamIsDataLossAndChangesNothing) {
  const Snapshot before = Capture(path_);
  const Backup backup = TakeBackup(path_);
  for (const char* name : {"values", "big", "kv"}) {
    const std::string& full = backup.streams.at(name);
    for (size_t cut : {full.size() - 1, full.size() / 2, size_t{3}}) {
      std::unique_ptr<SqliteSource> source = OpenSource(path_);
      Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(1000);
      ASSERT_TRUE(txn.ok());
      // An earlier table replaced in the same transaction is rolled back too.
      StringReader first(backup.streams.at("dup"));
      ASSERT_TRUE((*txn)->ReplaceTable(FindTable(backup.schema, "dup"), &first, nullptr).ok());
      StringReader reader(std::string_view(full).substr(0, cut));
      Result<TableStreamStats> stats =
          (*txn)->ReplaceTable(FindTable(backup.schema, name), &reader, nullptr);
      ASSERT_FALSE(stats.ok()) << name << " cut at " << cut;
      EXPECT_EQ(stats.status().code(), StatusCode::kDataLoss) << stats.status().ToString();
      EXPECT_THAT(stats.status().message(), HasSubstr("truncated"));
      EXPECT_THAT(stats.status().message(), HasSubstr("nothing was changed"));
      EXPECT_EQ((*txn)->Commit().code(), StatusCode::kFailedPrecondition);
    }
  }
  ExpectSame(Capture(path_), before);
}

TEST_F(SqliteSourceTest, ConstraintViolationInTheStreamRollsBack) {
  const Snapshot before = Capture(path_);
  const Backup backup = TakeBackup(path_);
  std::string stream;
  {
    StringSink sink(&stream);
    RowEncoder encoder(&sink);
    for (int64_t id : {1, 2}) {
      ASSERT_TRUE(encoder.BeginRow(id).ok());
      ASSERT_TRUE(encoder.Integer(id).ok());
      ASSERT_TRUE(encoder.Text("same title").ok());  // UNIQUE
      ASSERT_TRUE(encoder.Null().ok());
    }
    ASSERT_TRUE(encoder.Flush().ok());
  }
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(1000);
  ASSERT_TRUE(txn.ok());
  StringReader reader(stream);
  Result<TableStreamStats> stats =
      (*txn)->ReplaceTable(FindTable(backup.schema, "trk_issues"), &reader, nullptr);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(stats.status().message(), HasSubstr("UNIQUE constraint failed"));
  EXPECT_THAT(stats.status().message(), HasSubstr("row 2 of the backup"));
  ExpectSame(Capture(path_), before);
}

TEST_F(SqliteSourceTest, DestroyingAnOpenRestoreRollsBack) {
  const Snapshot before = Capture(path_);
  const Backup backup = TakeBackup(path_);
  {
    std::unique_ptr<SqliteSource> source = OpenSource(path_);
    Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(1000);
    ASSERT_TRUE(txn.ok());
    StringReader empty("");
    ASSERT_TRUE((*txn)->ReplaceTable(FindTable(backup.schema, "dup"), &empty, nullptr).ok());
  }
  ExpectSame(Capture(path_), before);
}

TEST_F(SqliteSourceTest, CommitTokenTellsWhetherTheRestoreCommittedAndIsForgotten) {
  const Snapshot before = Capture(path_);
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  std::string rolled_back;
  {
    Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(1000);
    ASSERT_TRUE(txn.ok());
    Result<std::string> token = (*txn)->RecordCommitToken();
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    rolled_back = *token;
  }  // destroyed open, as when the process dies: rolled back
  Result<CommitState> state = source->RestoreCommitState(rolled_back);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(*state, CommitState::kRolledBack);
  ExpectSame(Capture(path_), before);

  Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(1000);
  ASSERT_TRUE(txn.ok());
  Result<std::string> token = (*txn)->RecordCommitToken();
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_NE(*token, rolled_back);
  ASSERT_TRUE((*txn)->Commit().ok());
  state = source->RestoreCommitState(*token);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(*state, CommitState::kCommitted);
  // The record is never part of what Lifeboat describes or backs up.
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
  ASSERT_TRUE(snapshot.ok());
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok());
  for (const TableInfo& t : schema->tables) EXPECT_NE(t.name, kSqliteCommitTable);
  snapshot->reset();

  ASSERT_TRUE(source->ForgetCommitToken(*token).ok());
  ExpectSame(Capture(path_), before);  // the table is gone again
  state = source->RestoreCommitState(*token);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(*state, CommitState::kRolledBack);
  EXPECT_TRUE(source->ForgetCommitToken(*token).ok()) << "forgetting twice is harmless";
}

TEST(SqliteSequenceTest, AnAutoincrementThatHadNotStartedIsResetByTheRestore) {
  TempDir dir;
  std::string path = dir.File("seq.db");
  TestDb(path).Exec(
      "CREATE TABLE used(id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);"
      "CREATE TABLE unused(id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);"
      "INSERT INTO used(v) VALUES('a'), ('b');");
  const std::string before = ExactDump(path);
  const Backup backup = TakeBackup(path);
  TestDb(path).Exec(
      "INSERT INTO unused(v) VALUES('x'), ('y'), ('z'); INSERT INTO used(v) "
      "VALUES('c');");
  ASSERT_NE(ExactDump(path), before);
  Status restored = RestoreAll(path, backup, false);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  // `unused` has no sqlite_sequence row at backup time, so its next id is 1 again.
  EXPECT_EQ(ExactDump(path), before);
  EXPECT_EQ(TestDb(path).Query("SELECT count(*) FROM sqlite_sequence WHERE name = 'unused'"), "0");
}

TEST_F(SqliteSourceTest, SetSequencesNeedsSqliteSequence) {
  TempDir dir;
  std::string path = dir.File("plain.db");
  TestDb(path).Exec("CREATE TABLE t(id INTEGER PRIMARY KEY)");
  std::unique_ptr<SqliteSource> source = OpenSource(path);
  Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(1000);
  ASSERT_TRUE(txn.ok());
  EXPECT_TRUE((*txn)->SetSequences({}).ok());
  Status status = (*txn)->SetSequences({{"t", "", 5}});
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("no sqlite_sequence table"));
}

// ---------------------------------------------------------------------------------------
// Cancellation

class ManyRowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("many.db");
    TestDb db(path_);
    db.Exec(
        "CREATE TABLE many(id INTEGER PRIMARY KEY, v TEXT);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
        "INSERT INTO many SELECT i, printf('row %d', i) FROM n;");
  }
  TempDir dir_;
  std::string path_;
};

TEST_F(ManyRowsTest, StreamTableStopsWhenCancelled) {
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
  ASSERT_TRUE(snapshot.ok());
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok());
  CancellationToken cancel;
  std::string stream;
  StringSink sink(&stream);
  std::vector<uint64_t> progress;
  Result<TableStreamStats> stats =
      (*snapshot)->StreamTable(schema->tables[0], &sink, &cancel, [&](const TableStreamStats& s) {
        progress.push_back(s.rows);
        cancel.Cancel(CancelledError("stopped by the test"));
      });
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(stats.status().message(), "stopped by the test");
  EXPECT_THAT(progress, ElementsAre(4096u));
}

TEST_F(ManyRowsTest, ProgressIsReportedEvery4096RowsAndAtTheEnd) {
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
  ASSERT_TRUE(snapshot.ok());
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok());
  std::string stream;
  StringSink sink(&stream);
  std::vector<uint64_t> progress;
  std::vector<uint64_t> bytes;
  Result<TableStreamStats> stats =
      (*snapshot)->StreamTable(schema->tables[0], &sink, nullptr, [&](const TableStreamStats& s) {
        progress.push_back(s.rows);
        bytes.push_back(s.bytes);
      });
  ASSERT_TRUE(stats.ok());
  EXPECT_THAT(progress, ElementsAre(4096u, 8192u, 12288u, 16384u, 20000u));
  EXPECT_EQ(bytes.back(), stream.size());
}

TEST_F(ManyRowsTest, ReplaceTableStopsWhenCancelledAndRollsBack) {
  const std::string before = ExactDump(path_);
  const Backup backup = TakeBackup(path_);
  std::unique_ptr<SqliteSource> source = OpenSource(path_);
  Result<std::unique_ptr<RestoreTransaction>> txn = source->BeginRestore(1000);
  ASSERT_TRUE(txn.ok());
  CancellationToken cancel;
  // A reader that cancels once it has handed out some of the stream.
  class CancellingReader : public ByteReader {
   public:
    CancellingReader(std::string_view data, CancellationToken* cancel)
        : inner_(data), cancel_(cancel) {}
    Result<size_t> Read(char* buf, size_t n) override {
      if (++reads_ == 2) cancel_->Cancel(CancelledError("restore cancelled by the test"));
      return inner_.Read(buf, std::min<size_t>(n, 4096));
    }

   private:
    StringReader inner_;
    CancellationToken* cancel_;
    int reads_ = 0;
  } reader(backup.streams.at("many"), &cancel);
  Result<TableStreamStats> stats = (*txn)->ReplaceTable(backup.schema.tables[0], &reader, &cancel);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kCancelled);
  EXPECT_THAT(stats.status().message(), HasSubstr("restore cancelled by the test"));
  EXPECT_EQ(ExactDump(path_), before);
}

// ---------------------------------------------------------------------------------------
// Large values where a zero-filled placeholder could be observed: a CHECK constraint, an
// index and a stored generated column would see or keep the placeholder, so these values
// are bound whole.

TEST(SqliteLargeValuesUnderConstraintsTest, RoundTripExactly) {
  TempDir dir;
  std::string path = dir.File("constrained.db");
  {
    TestDb db(path);
    db.Exec(
        "CREATE TABLE docs(id INTEGER PRIMARY KEY, doc TEXT CHECK(json_valid(doc)), n);"
        "CREATE TABLE indexed(id INTEGER PRIMARY KEY, b BLOB, n);"
        "CREATE INDEX indexed_b ON indexed(b);"
        "CREATE TABLE derived(id INTEGER PRIMARY KEY, b BLOB,"
        "  head BLOB GENERATED ALWAYS AS (substr(b, 1, 8)) STORED, n);");
    std::string json = "[\"" + sqlite_test::PatternText(2 << 20) + "\"]";
    db.Run("INSERT INTO docs VALUES(1, ?, 1)", {TestDb::Text(json)});
    db.Run("INSERT INTO indexed VALUES(1, ?, 1)",
           {TestDb::Blob(sqlite_test::PatternBytes(2 << 20, 9))});
    db.Run("INSERT INTO derived(id, b, n) VALUES(1, ?, 1)",
           {TestDb::Blob(sqlite_test::PatternBytes(3 << 20, 10))});
  }
  const std::string before = ExactDump(path);
  const std::string dump = Dump(path);
  const Backup backup = TakeBackup(path);
  TestDb(path).Exec("DELETE FROM docs; DELETE FROM indexed; DELETE FROM derived;");
  Status restored = RestoreAll(path, backup, false);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_EQ(ExactDump(path), before);
  EXPECT_EQ(Dump(path), dump);
  EXPECT_EQ(TestDb(path).Query("PRAGMA integrity_check"), "ok");
}

// ---------------------------------------------------------------------------------------
// Other encodings and names

TEST(SqliteEncodingTest, Utf16DatabaseRoundTrips) {
  TempDir dir;
  std::string path = dir.File("utf16.db");
  {
    TestDb db(path);
    db.Exec("PRAGMA encoding = 'UTF-16le'; CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT);");
    db.Run("INSERT INTO t VALUES(1, ?)", {TestDb::Text("h\xC3\xA9llo \xF0\x9F\x98\x80")});
    db.Run("INSERT INTO t VALUES(2, ?)", {TestDb::Text(sqlite_test::PatternText(2 << 20))});
  }
  const std::string before = ExactDump(path);
  const Backup backup = TakeBackup(path);
  {
    TestDb db(path);
    db.Exec("DELETE FROM t");
  }
  Status restored = RestoreAll(path, backup, false);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_EQ(ExactDump(path), before);
  EXPECT_EQ(TestDb(path).Query("PRAGMA encoding"), "UTF-16le");
}

TEST(SqliteNamesTest, TableWhoseColumnsTakeEveryRowidName) {
  TempDir dir;
  std::string path = dir.File("names.db");
  {
    TestDb db(path);
    db.Exec(
        "CREATE TABLE t(rowid TEXT, oid TEXT, _rowid_ TEXT);"
        "INSERT INTO t VALUES('a', 'b', 'c'), ('d', 'e', 'f');");
  }
  const Backup backup = TakeBackup(path);
  ASSERT_EQ(backup.schema.tables.size(), 1u);
  EXPECT_FALSE(backup.schema.tables[0].rowid);
  const std::string before = Dump(path);
  TestDb(path).Exec("DELETE FROM t");
  Status restored = RestoreAll(path, backup, false);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_EQ(Dump(path), before);
}

}  // namespace
}  // namespace lifeboat
