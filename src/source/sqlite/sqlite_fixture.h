// The test database of the SQLite driver's tests, and helpers to back it up and restore it
// through the Source interface.
//
// The fixture holds every kind of value SQLite stores (NULL, INTEGER extremes, REAL edge
// cases, TEXT in several scripts and with NUL bytes, empty and large BLOBs and TEXTs), a
// WITHOUT ROWID table, a table without a primary key holding duplicate rows, names that need
// quoting, AUTOINCREMENT tables, generated columns, foreign keys, indexes, a view and
// triggers. Its objects are created in the order a clone creates them (tables by name, then
// indexes, views and triggers by name), so that `sqlite3 .dump` of a clone matches the
// original line for line.
//
// Header-only, for *_test.cc files.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "source/source.h"
#include "source/sqlite/sqlite_source.h"
#include "source/sqlite/sqlite_test_support.h"

namespace lifeboat::sqlite_test {

inline constexpr size_t kMiB = 1 << 20;

// Deterministic pseudo-random bytes.
inline std::string PatternBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(rng() & 0xff);
  return out;
}

// At least `n` bytes of UTF-8 text in several scripts (whole characters only).
inline std::string PatternText(size_t n) {
  static const std::string kUnit =
      "h\xC3\xA9llo w\xC3\xB6rld \xE6\xBC\xA2\xE5\xAD\x97 \xF0\x9F\x98\x80 e\xCC\x81 | ";
  std::string out;
  out.reserve(n + kUnit.size());
  while (out.size() < n) out += kUnit;
  return out;
}

inline void BuildFixture(const std::string& path) {
  TestDb db(path);
  db.Exec("BEGIN");
  db.Exec(R"sql(
    CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT NOT NULL,
                       at INTEGER DEFAULT 0);
    CREATE TABLE big(id INTEGER PRIMARY KEY, label TEXT, payload BLOB, doc TEXT, tail);
    CREATE TABLE dup(a, b);
    CREATE TABLE gen(a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL,
                     c TEXT GENERATED ALWAYS AS ('x' || a) STORED, d);
    CREATE TABLE kv(k TEXT NOT NULL, n INTEGER NOT NULL, v,
                    PRIMARY KEY(k COLLATE NOCASE DESC, n)) WITHOUT ROWID;
    CREATE TABLE "order"("group" TEXT, "select" INTEGER, "from" REAL);
    CREATE TABLE strict_t(id INTEGER PRIMARY KEY, n INT, r REAL, t TEXT, b BLOB, a ANY)
      STRICT;
    CREATE TABLE trk_comments(id INTEGER PRIMARY KEY,
                              issue_id INTEGER NOT NULL REFERENCES trk_issues(id),
                              body TEXT);
    CREATE TABLE trk_issues(id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL UNIQUE,
                            status TEXT DEFAULT 'open');
    CREATE TABLE "values"(id INTEGER PRIMARY KEY, v, note TEXT);
    CREATE TABLE "weird ""name"" table"("col with space" TEXT, "x""y" INTEGER, "rowid" TEXT);
    CREATE INDEX "idx weird" ON "weird ""name"" table"("col with space");
    CREATE INDEX idx_comments_issue ON trk_comments(issue_id);
    CREATE VIEW v_issue_counts AS
      SELECT i.id, i.title, count(c.id) AS comments
      FROM trk_issues i LEFT JOIN trk_comments c ON c.issue_id = i.id GROUP BY i.id;
    CREATE TRIGGER trg_issues_delete AFTER DELETE ON trk_issues
      BEGIN INSERT INTO audit(what) VALUES('deleted ' || old.id); END;
    CREATE TRIGGER trg_issues_insert AFTER INSERT ON trk_issues
      BEGIN INSERT INTO audit(what) VALUES('inserted ' || new.id); END;
    CREATE TRIGGER trg_view_insert INSTEAD OF INSERT ON v_issue_counts
      BEGIN INSERT INTO audit(what) VALUES('view ' || new.title); END;
  )sql");
  db.Exec(R"sql(
    INSERT INTO audit(what) VALUES('created');
    INSERT INTO trk_issues(title) VALUES('first'), ('second'), ('third');
    DELETE FROM trk_issues WHERE id = 3;
    INSERT INTO trk_comments(id, issue_id, body) VALUES(1, 1, 'looks good'), (2, 1, 'agreed'),
                                                       (5, 2, 'won''t fix');
    INSERT INTO dup VALUES(1, 'x'), (1, 'x'), (1, 'x'), (NULL, NULL), (NULL, NULL);
    DELETE FROM dup WHERE rowid = 2;
    INSERT INTO gen(a, d) VALUES(1, 'p'), (NULL, x'00'), (3, 2.5);
    INSERT INTO kv(k, n, v) VALUES('alpha', 1, 'x'), ('Beta', 2, 2), ('beta', 3, NULL);
    INSERT INTO "order"("group", "select", "from") VALUES('a', 1, 1.0), ('b', NULL, -0.0),
                                                        (NULL, 3, 2.75);
    INSERT INTO strict_t VALUES(1, 5, 1.0, 'x', x'0102', 'any'), (2, NULL, -2.5, NULL, NULL, 7),
                               (3, -9, 1e-300, '', x'', 2.5);
    INSERT INTO "weird ""name"" table"(oid, "col with space", "x""y", "rowid")
      VALUES(10, 'a b', 1, 'r1'), (-3, 'c', 2, NULL), (7, 'a b', 3, 'r3');
  )sql");
  using P = TestDb;
  const std::string sql = "INSERT INTO \"values\"(id, v, note) VALUES(?, ?, ?)";
  db.Run(sql, {P::Int(1), P::Null(), P::Text("null")});
  db.Run(sql, {P::Int(2), P::Int(std::numeric_limits<int64_t>::min()), P::Text("int64 min")});
  db.Run(sql, {P::Int(3), P::Int(std::numeric_limits<int64_t>::max()), P::Text("int64 max")});
  db.Run(sql, {P::Int(4), P::Int(0), P::Text("zero")});
  db.Run(sql, {P::Int(5), P::Int(-1), P::Text("minus one")});
  db.Run(sql, {P::Int(6), P::Real(-0.0), P::Text("negative zero")});
  db.Run(sql, {P::Int(7), P::Real(1e308), P::Text("1e308")});
  db.Run(sql, {P::Int(8), P::Real(5e-324), P::Text("smallest subnormal")});
  db.Run(sql, {P::Int(9), P::Real(0.1), P::Text("0.1")});
  db.Run(sql, {P::Int(10), P::Real(std::numeric_limits<double>::infinity()), P::Text("inf")});
  db.Run(sql, {P::Int(11), P::Real(-std::numeric_limits<double>::infinity()), P::Text("-inf")});
  db.Run(sql, {P::Int(12),
               P::Text("\xF0\x9F\x98\x80 \xE6\xBC\xA2\xE5\xAD\x97 \xED\x95\x9C "
                       "e\xCC\x81 \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD"),
               P::Text("emoji, CJK, Hangul, combining")});
  db.Run(sql, {P::Int(13), P::Text(std::string("a\0b\0\0c", 6)), P::Text("text with NULs")});
  db.Run(sql, {P::Int(14), P::Blob(""), P::Text("empty blob")});
  db.Run(sql, {P::Int(15), P::Text(""), P::Text("empty text")});
  db.Run(sql, {P::Int(16), P::Blob(PatternBytes(256, 1)), P::Text("bytes")});
  db.Run(sql, {P::Int(17), P::Text("123"), P::Text("numeric-looking text")});
  db.Run(sql, {P::Int(-5), P::Text("negative rowid"), P::Null()});
  db.Run(sql, {P::Int(std::numeric_limits<int64_t>::max() - 1), P::Text("huge rowid"),
               P::Text("it's quoted")});

  const std::string big = "INSERT INTO big(id, label, payload, doc, tail) VALUES(?, ?, ?, ?, ?)";
  // Large values that are not the row's last (read back through blob I/O, spooled on restore).
  db.Run(big, {P::Int(1), P::Text("three MiB blob, two MiB text"),
               P::Blob(PatternBytes(3 * kMiB, 2)), P::Text(PatternText(2 * kMiB)), P::Int(7)});
  // A large value in the last column (written straight from the stream on restore).
  db.Run(big, {P::Int(2), P::Text("large tail"), P::Blob("small"), P::Null(),
               P::Blob(PatternBytes(kMiB + kMiB / 2, 3))});
  db.Run(big, {P::Int(3), P::Null(), P::Null(), P::Null(), P::Null()});
  // A large text with NUL bytes (length() stops at the first NUL).
  std::string nul_text = PatternText(2 * kMiB);
  nul_text[5] = '\0';
  nul_text[kMiB] = '\0';
  db.Run(big, {P::Int(4), P::Text("text with NULs"), P::Null(), P::Text(nul_text),
               P::Text(PatternText(kMiB + 10))});
  // The boundary: exactly 1 MiB is read whole, one byte more is streamed.
  db.Run(big, {P::Int(5), P::Text("boundary"), P::Blob(PatternBytes(kMiB, 4)),
               P::Text(std::string(kMiB, 'b')), P::Blob(PatternBytes(kMiB + 1, 5))});

  // A large value in a WITHOUT ROWID table (read and written whole).
  db.Run("INSERT INTO kv(k, n, v) VALUES('gamma', 1, ?)", {P::Blob(PatternBytes(2 * kMiB, 6))});
  db.Exec("COMMIT");
}

// What a backup of the whole database keeps.
struct Backup {
  InstanceSchema schema;
  std::map<std::string, std::string> streams;
  std::map<std::string, uint64_t> rows;
  std::vector<SequenceValue> sequences;
};

inline Backup TakeBackup(const std::string& path) {
  Backup backup;
  Result<std::unique_ptr<SqliteSource>> source = SqliteSource::Open(path, false);
  EXPECT_TRUE(source.ok()) << source.status().ToString();
  if (!source.ok()) return backup;
  Result<std::unique_ptr<ReadSnapshot>> snapshot = (*source)->BeginRead();
  EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  if (!snapshot.ok()) return backup;
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  if (!schema.ok()) return backup;
  backup.schema = *schema;
  std::vector<std::string> names;
  for (const TableInfo& table : backup.schema.tables) {
    std::string& stream = backup.streams[table.name];
    StringSink sink(&stream);
    Result<TableStreamStats> stats = (*snapshot)->StreamTable(table, &sink, nullptr, {});
    EXPECT_TRUE(stats.ok()) << table.name << ": " << stats.status().ToString();
    if (stats.ok()) {
      EXPECT_EQ(stats->bytes, stream.size());
      backup.rows[table.name] = stats->rows;
    }
    names.push_back(table.name);
  }
  Result<std::vector<SequenceValue>> sequences = (*snapshot)->ReadSequences(names);
  EXPECT_TRUE(sequences.ok()) << sequences.status().ToString();
  if (sequences.ok()) backup.sequences = *sequences;
  return backup;
}

// Restores every table of `backup` into `path` (creating what is missing first).
inline Status RestoreAll(const std::string& path, const Backup& backup, bool create_if_missing) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<SqliteSource> source,
                      SqliteSource::Open(path, create_if_missing));
  LB_ASSIGN_OR_RETURN(std::unique_ptr<RestoreTransaction> txn, source->BeginRestore(2000));
  LB_RETURN_IF_ERROR(txn->CreateMissing(backup.schema.tables, backup.schema.objects));
  for (const TableInfo& table : backup.schema.tables) {
    StringReader reader(backup.streams.at(table.name));
    LB_ASSIGN_OR_RETURN(TableStreamStats stats, txn->ReplaceTable(table, &reader, nullptr));
    EXPECT_EQ(stats.rows, backup.rows.at(table.name)) << table.name;
    EXPECT_EQ(stats.bytes, backup.streams.at(table.name).size()) << table.name;
  }
  LB_RETURN_IF_ERROR(txn->SetSequences(backup.sequences));
  return txn->Commit();
}

}  // namespace lifeboat::sqlite_test
