// SqliteDb, SqliteStatement and SqliteBlob: small owners of SQLite C API handles (a
// connection, a prepared statement, an incremental-I/O blob handle) that turn SQLite result
// codes into Status values naming the action and the database file.
//
// Messages read "<action> in SQLite database <path>: <SQLite's message>", for example
// `reading table "trk_issues" in SQLite database /srv/app.db: database disk image is
// malformed`. Codes: SQLITE_BUSY/LOCKED -> Aborted (another process holds the database),
// READONLY/PERM/AUTH -> PermissionDenied, CORRUPT/NOTADB -> DataLoss, IOERR/FULL/CANTOPEN/
// NOMEM -> Unavailable, CONSTRAINT/MISMATCH/TOOBIG -> FailedPrecondition (the data does not
// fit the table), INTERRUPT -> the reason of the cancellation token when it was cancelled,
// anything else (SQLITE_ERROR: SQL the database refused) -> Internal unless the caller passes
// a code for it.
//
// Thread-safety: none. A connection is opened with SQLITE_OPEN_NOMUTEX and belongs, with
// its statements and blob handles, to one thread at a time.
// Ownership: SqliteDb owns the connection; statements and blob handles borrow their SqliteDb,
// which must outlive them (they are finalized and closed by their destructors).
// Used by the SQLite driver (sqlite_source.h); the row stream itself is FORMAT.md section 8.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/cancellation.h"
#include "lifeboat/status.h"

namespace lifeboat {

// `"name"` with every `"` doubled: an identifier SQLite reads back as exactly `name`.
std::string SqlQuoteIdentifier(std::string_view name);
// `'text'` with every `'` doubled: a string literal.
std::string SqlQuoteString(std::string_view text);
// Whether two identifiers name the same object: SQLite folds ASCII letters only.
bool SqlNamesEqual(std::string_view a, std::string_view b);

class SqliteDb;

// A prepared statement. Move-only; the destructor finalizes it.
class SqliteStatement {
 public:
  SqliteStatement() = default;
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  bool valid() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }
  const std::string& action() const { return action_; }

  // Parameters are 1-based. Text and blob bytes are not copied: they must stay unchanged
  // until the statement is stepped and reset. Embedded NUL bytes are kept.
  Status BindNull(int index);
  Status BindInt64(int index, int64_t value);
  Status BindDouble(int index, double value);
  Status BindText(int index, std::string_view value);
  Status BindBlob(int index, std::string_view value);
  Status BindZeroBlob(int index, uint64_t size);

  // Runs to the next row: true when a row is ready, false when the statement is done.
  Result<bool> Step();
  // Steps until done, ignoring rows.
  Status Run();
  // Rewinds the statement and clears its bindings (errors surface at the next Step).
  void Reset();

  // Columns are 0-based.
  int ColumnCount() const { return sqlite3_column_count(stmt_); }
  int ColumnType(int column) const { return sqlite3_column_type(stmt_, column); }
  int64_t ColumnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }
  double ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }
  // The value as UTF-8 text or as bytes, by byte count (NUL bytes included). The view is
  // valid until the next Step, Reset or column access that converts the value.
  Result<std::string_view> ColumnText(int column) const;
  Result<std::string_view> ColumnBlob(int column) const;
  // Text of a column known to be small (names, SQL); NULL reads as "".
  std::string ColumnString(int column) const;
  // NULL reads as nullopt.
  std::optional<std::string> ColumnOptionalString(int column) const;

 private:
  friend class SqliteDb;
  SqliteStatement(SqliteDb* db, sqlite3_stmt* stmt, std::string action, StatusCode sql_error)
      : db_(db), stmt_(stmt), action_(std::move(action)), sql_error_(sql_error) {}
  Status BindResult(int rc, int index) const;

  SqliteDb* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string action_;
  StatusCode sql_error_ = StatusCode::kInternal;
};

// A connection to one database file.
class SqliteDb {
 public:
  // Opens `path` (a plain file name, never a URI) with sqlite3_open_v2 `flags` plus
  // SQLITE_OPEN_NOMUTEX.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, int flags);
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }

  // Prepares exactly one statement; `action` ("reading table \"t\"") names it in errors.
  // `sql_error` is the code given to SQLITE_ERROR (SQL the database refused).
  Result<SqliteStatement> Prepare(std::string_view sql, std::string action,
                                  StatusCode sql_error = StatusCode::kInternal);
  // Prepares and runs each statement of `sql` in turn, ignoring rows.
  Status Exec(std::string_view sql, std::string_view action,
              StatusCode sql_error = StatusCode::kInternal);

  // The Status for result code `rc` of `action` (see the header comment).
  Status Error(int rc, std::string_view action, StatusCode sql_error = StatusCode::kInternal) const;

  void SetBusyTimeout(int millis);
  // While a token is set, a running statement is interrupted soon after the token is
  // cancelled and fails with the token's reason. nullptr removes it.
  void SetCancellation(CancellationToken* cancel);

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  static int OnProgress(void* self);

  sqlite3* db_;
  std::string path_;
  CancellationToken* cancel_ = nullptr;
};

// Sets a cancellation token on a connection for the lifetime of the guard.
class ScopedSqliteCancellation {
 public:
  ScopedSqliteCancellation(SqliteDb* db, CancellationToken* cancel) : db_(db) {
    db_->SetCancellation(cancel);
  }
  ScopedSqliteCancellation(const ScopedSqliteCancellation&) = delete;
  ScopedSqliteCancellation& operator=(const ScopedSqliteCancellation&) = delete;
  ~ScopedSqliteCancellation() { db_->SetCancellation(nullptr); }

 private:
  SqliteDb* db_;
};

// Incremental I/O on one column of a rowid table (sqlite3_blob_*): reads or writes a TEXT or
// BLOB value in pieces without loading it whole. Works only on tables with a rowid; a
// writable handle needs a column that is not indexed. The value's size cannot change
// through the handle.
class SqliteBlob {
 public:
  SqliteBlob(SqliteDb* db, std::string table, std::string column, bool writable)
      : db_(db), table_(std::move(table)), column_(std::move(column)), writable_(writable) {}
  SqliteBlob(const SqliteBlob&) = delete;
  SqliteBlob& operator=(const SqliteBlob&) = delete;
  ~SqliteBlob();

  // Points the handle at the value in row `rowid` (opening it the first time).
  Status Open(int64_t rowid);
  uint64_t size() const { return size_; }
  Status Read(char* buf, size_t n, uint64_t offset);
  Status Write(std::string_view data, uint64_t offset);
  void Close();

 private:
  std::string Action(std::string_view verb) const;

  SqliteDb* db_;
  std::string table_;
  std::string column_;
  bool writable_;
  sqlite3_blob* blob_ = nullptr;
  int64_t rowid_ = 0;
  uint64_t size_ = 0;
};

}  // namespace lifeboat
