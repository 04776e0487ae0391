#include "source/sqlite/sqlite_source.h"

#include <sqlite3.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

#include "source/sqlite/sqlite_db.h"
#include "source/sqlite/sqlite_read_snapshot.h"
#include "source/sqlite/sqlite_restore_transaction.h"

namespace lifeboat {
namespace {

// Every SQLite database file starts with these 16 bytes (an empty file is an empty database).
constexpr char kHeader[] = "SQLite format 3";  // and its terminating NUL

Status CheckHeader(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return PermissionDeniedError("opening SQLite database " + path + ": " + std::strerror(errno));
  }
  char header[sizeof(kHeader)] = {};
  file.read(header, sizeof(header));
  std::streamsize got = file.gcount();
  if (got == 0) return OkStatus();
  if (got != static_cast<std::streamsize>(sizeof(header)) ||
      std::memcmp(header, kHeader, sizeof(kHeader)) != 0) {
    return FailedPreconditionError("opening SQLite database " + path +
                                   ": the file is not a SQLite database");
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<SqliteSource>> SqliteSource::Open(const std::string& path,
                                                         bool create_if_missing) {
  if (sqlite3_libversion_number() < kMinimumLibraryVersion) {
    return FailedPreconditionError("opening SQLite database " + path + ": the SQLite library " +
                                   sqlite3_libversion() +
                                   " is too old; Lifeboat needs 3.37 or newer");
  }
  if (path.empty()) return InvalidArgumentError("opening a SQLite database: the path is empty");
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) {
    return InvalidArgumentError("opening SQLite database " + path + ": " + ec.message());
  }
  const std::string full = absolute.lexically_normal().string();
  std::filesystem::file_status status = std::filesystem::status(full, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    if (!create_if_missing) {
      return NotFoundError("SQLite database " + full + " does not exist");
    }
    LB_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db,
                        SqliteDb::Open(full, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
    // The file appears on the first write; make it exist now.
    LB_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE; COMMIT", "creating the database file"));
  } else if (ec) {
    return UnavailableError("opening SQLite database " + full + ": " + ec.message());
  } else if (status.type() == std::filesystem::file_type::directory) {
    return InvalidArgumentError("opening SQLite database " + full +
                                ": it is a directory, not a database file");
  } else {
    LB_RETURN_IF_ERROR(CheckHeader(full));
  }
  return std::unique_ptr<SqliteSource>(new SqliteSource(full));
}

Result<std::unique_ptr<ReadSnapshot>> SqliteSource::BeginRead() {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path_, SQLITE_OPEN_READWRITE));
  db->SetBusyTimeout(kReaderBusyTimeoutMillis);
  // Opened read-write so that SQLite can recover a hot journal, but never writes.
  LB_RETURN_IF_ERROR(db->Exec("PRAGMA query_only=ON", "making the connection read-only"));
  LB_ASSIGN_OR_RETURN(std::unique_ptr<SqliteReadSnapshot> snapshot,
                      SqliteReadSnapshot::Begin(std::move(db)));
  return std::unique_ptr<ReadSnapshot>(std::move(snapshot));
}

Result<std::unique_ptr<RestoreTransaction>> SqliteSource::BeginRestore(int wait_millis) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path_, SQLITE_OPEN_READWRITE));
  LB_ASSIGN_OR_RETURN(std::unique_ptr<SqliteRestoreTransaction> txn,
                      SqliteRestoreTransaction::Begin(std::move(db), wait_millis));
  return std::unique_ptr<RestoreTransaction>(std::move(txn));
}

namespace {

// Whether kSqliteCommitTable exists in `db`.
Result<bool> HasCommitTable(SqliteDb* db) {
  LB_ASSIGN_OR_RETURN(SqliteStatement find,
                      db->Prepare("SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND "
                                  "name = ?1",
                                  "looking for the restore's commit record"));
  LB_RETURN_IF_ERROR(find.BindText(1, kSqliteCommitTable));
  return find.Step();
}

}  // namespace

Result<CommitState> SqliteSource::RestoreCommitState(const std::string& token) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path_, SQLITE_OPEN_READWRITE));
  db->SetBusyTimeout(kReaderBusyTimeoutMillis);
  LB_ASSIGN_OR_RETURN(bool has_table, HasCommitTable(db.get()));
  if (!has_table) return CommitState::kRolledBack;
  LB_ASSIGN_OR_RETURN(
      SqliteStatement find,
      db->Prepare(std::string("SELECT 1 FROM main.") + kSqliteCommitTable + " WHERE token = ?1",
                  "reading the restore's commit record"));
  LB_RETURN_IF_ERROR(find.BindText(1, token));
  LB_ASSIGN_OR_RETURN(bool found, find.Step());
  return found ? CommitState::kCommitted : CommitState::kRolledBack;
}

Status SqliteSource::ForgetCommitToken(const std::string& token) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path_, SQLITE_OPEN_READWRITE));
  db->SetBusyTimeout(kReaderBusyTimeoutMillis);
  const std::string action = "removing the restore's commit record from " + path_;
  LB_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE", action));
  Status status = [&]() -> Status {
    LB_ASSIGN_OR_RETURN(bool has_table, HasCommitTable(db.get()));
    if (!has_table) return OkStatus();
    LB_ASSIGN_OR_RETURN(
        SqliteStatement remove,
        db->Prepare(std::string("DELETE FROM main.") + kSqliteCommitTable + " WHERE token = ?1",
                    action));
    LB_RETURN_IF_ERROR(remove.BindText(1, token));
    LB_RETURN_IF_ERROR(remove.Step().status());
    {
      // Finalized before the DROP, which a statement still reading the table would block.
      LB_ASSIGN_OR_RETURN(
          SqliteStatement left,
          db->Prepare(std::string("SELECT 1 FROM main.") + kSqliteCommitTable, action));
      LB_ASSIGN_OR_RETURN(bool others, left.Step());
      if (others) return OkStatus();
    }
    return db->Exec(std::string("DROP TABLE main.") + kSqliteCommitTable, action);
  }();
  if (!status.ok()) {
    db->Exec("ROLLBACK", action).IgnoreError();
    return status;
  }
  return db->Exec("COMMIT", action);
}

}  // namespace lifeboat
