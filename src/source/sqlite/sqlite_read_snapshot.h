// SqliteReadSnapshot: a ReadSnapshot (source.h) of one SQLite database, reading inside one
// transaction so that every call sees the same point in time.
//
// A snapshot made by Begin() owns its connection and read transaction: `BEGIN` followed by
// a first read establishes the snapshot (in WAL mode other connections keep writing and the
// snapshot does not see it; in rollback-journal mode the shared lock makes writers wait
// until the snapshot ends, and a long read transaction keeps a WAL from being checkpointed
// past it). A snapshot made with the borrowing constructor reads inside a transaction owned
// by someone else (the restore's exclusive transaction) and asks `usable` before each call.
//
// Rows are streamed as FORMAT.md section 8: `SELECT <rowid>, <columns> ... ORDER BY <rowid>`
// for rowid tables, `ORDER BY <primary key>` for WITHOUT ROWID tables. A TEXT or BLOB value
// larger than 1 MiB in a rowid table is not selected: the query yields NULL plus its
// typeof(), and the value is read through incremental blob I/O in 256 KiB pieces, so
// neither this process nor SQLite holds it whole. Limits: in WITHOUT ROWID tables (no blob
// I/O) such values are read whole; SQLite before 3.43 has no octet_length(), so a TEXT
// value's size is found by length(), which loads the whole text into SQLite's memory for a
// moment (counts characters, stops at the first NUL) - texts of more than 262,144 characters
// are then streamed, others are read whole; text in a UTF-16 database is always read whole
// (converted to UTF-8).
//
// Virtual tables and their shadow tables are not copied: Describe lists them in
// InstanceSchema::skipped with the reason.
//
// Thread-safety: one thread at a time. Ownership: see above; the borrowed connection and
// `usable` must outlive the snapshot.
// Errors: Status values naming the table and the database (sqlite_db.h); NotFound for a
// version query that reads a missing table; Cancelled (the token's reason) when cancelled.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "source/source.h"
#include "source/sqlite/sqlite_db.h"

namespace lifeboat {

// The table in which a restore records its commit token (RestoreTransaction::RecordCommitToken)
// until its files are in place. Never backed up, never listed.
inline constexpr char kSqliteCommitTable[] = "lifeboat_restore_commit";

class SqliteReadSnapshot : public ReadSnapshot {
 public:
  // Values larger than this are streamed through incremental blob I/O.
  static constexpr uint64_t kLargeValueBytes = 1 << 20;
  // Pieces in which large values are read.
  static constexpr size_t kBlobPieceBytes = 256 * 1024;
  static constexpr uint64_t kCancelCheckRows = 1024;
  static constexpr uint64_t kProgressRows = 4096;

  // Starts a read transaction on `db` and owns both.
  static Result<std::unique_ptr<SqliteReadSnapshot>> Begin(std::unique_ptr<SqliteDb> db);

  // Reads through `db` inside its current transaction; `usable` returns OK while that
  // transaction is open and the reason otherwise.
  SqliteReadSnapshot(SqliteDb* db, std::function<Status()> usable);

  SqliteReadSnapshot(const SqliteReadSnapshot&) = delete;
  SqliteReadSnapshot& operator=(const SqliteReadSnapshot&) = delete;
  // Ends the read transaction when it owns it.
  ~SqliteReadSnapshot() override;

  Result<InstanceSchema> Describe() override;
  Result<std::optional<std::string>> QueryVersion(const std::string& sql) override;
  Result<uint64_t> EstimateSize(const TableInfo& table) override;
  Result<TableStreamStats> StreamTable(
      const TableInfo& table, ByteSink* out, CancellationToken* cancel,
      const std::function<void(const TableStreamStats&)>& on_progress) override;
  Result<std::vector<SequenceValue>> ReadSequences(const std::vector<std::string>& tables) override;

 private:
  explicit SqliteReadSnapshot(std::unique_ptr<SqliteDb> db);
  Status Usable() const;

  std::unique_ptr<SqliteDb> owned_db_;
  SqliteDb* db_;
  // Per table, the largest record dbstat saw in this snapshot (EstimateSize).
  std::map<std::string, int64_t> largest_record_;
  std::function<Status()> usable_;
};

}  // namespace lifeboat
