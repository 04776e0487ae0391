// SqliteRestoreTransaction: a RestoreTransaction (source.h) on one SQLite database, held
// with `BEGIN EXCLUSIVE` from Begin until Commit or Rollback.
//
// The exclusive lock is the maintenance mode: while it is held, the application's writers
// (and, in rollback-journal mode, its readers too) wait for their busy timeout or fail with
// SQLITE_BUSY; in WAL mode its readers keep seeing the state before the restore until the
// commit. The connection runs with `PRAGMA foreign_keys=OFF` (set before BEGIN; the previous
// setting is put back afterwards) and with triggers disabled
// (SQLITE_DBCONFIG_ENABLE_TRIGGER, a per-connection switch), so loading rows fires no
// trigger and no foreign-key action, and the schema is never touched to achieve that.
// Foreign keys are checked once, in Commit, for the replaced tables and the tables that
// reference them; any violation rolls everything back.
//
// Rows (FORMAT.md section 8) are inserted with `INSERT INTO t(rowid, columns...)`. A TEXT or
// BLOB value larger than 1 MiB is inserted as a zero-filled placeholder of its size (a
// zeroblob, or CAST(zeroblob(n) AS TEXT) so TEXT stays TEXT) and its bytes are then written
// through incremental blob I/O in pieces of at most 256 KiB; when such a value is not the row's
// last, its bytes wait in an unlinked temporary file until the rest of the row has been read. This
// process never holds a large value whole. Limits: SQLite itself builds each inserted record in
// memory, so a row whose large value is not in its last column is held there, zero-filled, for the
// duration of the insert; a TEXT placeholder is a zero-filled text that SQLite holds whole (about
// twice the value's size at the peak), unlike a zeroblob; the placeholder path is used only where
// nothing can observe the placeholder (a rowid table without CHECK constraints, generated columns,
// partial or expression indexes, and a column in no index; UTF-8 text), otherwise the value is read
// whole into memory and bound.
//
// Failure: any error in CreateMissing, ReplaceTable or SetSequences (a damaged stream,
// cancellation, a constraint) rolls the whole transaction back at once, releasing the lock;
// every later call, Commit included, returns FailedPrecondition saying so. Destroying an
// open transaction rolls it back.
//
// Thread-safety: one thread at a time. Ownership: owns its connection and its Reader().
// Errors: Aborted when the database cannot be locked within the wait; FailedPrecondition for
// a table that is missing or has other columns, and for failed foreign-key checks; DataLoss
// for a damaged row stream; Cancelled (the token's reason) when cancelled.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "source/source.h"
#include "source/sqlite/sqlite_db.h"
#include "source/sqlite/sqlite_read_snapshot.h"

namespace lifeboat {

class SqliteRestoreTransaction : public RestoreTransaction {
 public:
  // Values larger than this are written through incremental blob I/O where possible.
  static constexpr uint64_t kLargeValueBytes = SqliteReadSnapshot::kLargeValueBytes;
  static constexpr size_t kBlobPieceBytes = SqliteReadSnapshot::kBlobPieceBytes;
  static constexpr uint64_t kCancelCheckRows = 1024;

  // Locks `db` exclusively, waiting up to `wait_millis` for other connections.
  static Result<std::unique_ptr<SqliteRestoreTransaction>> Begin(std::unique_ptr<SqliteDb> db,
                                                                 int wait_millis);

  SqliteRestoreTransaction(const SqliteRestoreTransaction&) = delete;
  SqliteRestoreTransaction& operator=(const SqliteRestoreTransaction&) = delete;
  ~SqliteRestoreTransaction() override;

  ReadSnapshot* Reader() override { return reader_.get(); }
  Status CreateMissing(const std::vector<TableInfo>& tables,
                       const std::vector<SchemaObject>& objects) override;
  Result<TableStreamStats> ReplaceTable(const TableInfo& table, ByteReader* rows,
                                        CancellationToken* cancel) override;
  Status SetSequences(const std::vector<SequenceValue>& values) override;
  // Inserts a random token into the table kSqliteCommitTable (created if missing).
  Result<std::string> RecordCommitToken() override;
  Status Commit() override;
  void Rollback() override;

 private:
  explicit SqliteRestoreTransaction(std::unique_ptr<SqliteDb> db);
  // OK while the transaction is open; else why it is not.
  Status Usable() const;
  // Rolls back after `error` and remembers it; returns it.
  Status Abandon(Status error);
  Status CheckForeignKeys();
  Result<TableStreamStats> LoadRows(const TableInfo& table, ByteReader* rows,
                                    CancellationToken* cancel);
  void EndTransaction(const char* sql);

  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<SqliteReadSnapshot> reader_;
  bool open_ = false;
  bool foreign_keys_were_on_ = false;
  Status closed_reason_;
  std::vector<std::string> replaced_;  // tables replaced so far, as stored
};

}  // namespace lifeboat
