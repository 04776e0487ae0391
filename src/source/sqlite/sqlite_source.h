// SqliteSource: the Source (source.h) for one SQLite database file, through the SQLite C
// API. BeginRead gives a SqliteReadSnapshot (sqlite_read_snapshot.h) on a connection of its
// own; BeginRestore a SqliteRestoreTransaction (sqlite_restore_transaction.h) that holds the
// database with BEGIN EXCLUSIVE. Rows travel as the row stream of FORMAT.md section 8; the
// manifest records the kind "sqlite" and the file's absolute path (section 10).
//
// Requires SQLite 3.37 or newer at run time (PRAGMA table_list tells WITHOUT ROWID, virtual
// and shadow tables apart). Readers wait up to kReaderBusyTimeoutMillis for a lock.
//
// Thread-safety: a SqliteSource is immutable after Open and may be shared; every snapshot
// and restore has its own connection and belongs to one thread.
// Ownership: the caller owns what Open and Begin* return; they do not refer to the source.
// Errors: NotFound for a missing file (unless created), FailedPrecondition for a file that is
// not a database or a SQLite library that is too old, Aborted when the database is locked
// by another process beyond the wait.
#pragma once

#include <memory>
#include <string>

#include "source/source.h"

namespace lifeboat {

class SqliteSource : public Source {
 public:
  static constexpr int kReaderBusyTimeoutMillis = 10000;
  static constexpr int kMinimumLibraryVersion = 3037000;

  // Opens the database at `path`. A missing file is NotFound unless `create_if_missing`,
  // which creates an empty database there (the directory must exist).
  static Result<std::unique_ptr<SqliteSource>> Open(const std::string& path,
                                                    bool create_if_missing);

  std::string kind() const override { return "sqlite"; }
  // The database file's absolute path.
  std::string Describe() const override { return path_; }
  Result<std::unique_ptr<ReadSnapshot>> BeginRead() override;
  Result<std::unique_ptr<RestoreTransaction>> BeginRestore(int wait_millis) override;
  // Committed when the token is in kSqliteCommitTable: SQLite rolls an interrupted
  // transaction back when the database is next opened, so any other answer is certain.
  Result<CommitState> RestoreCommitState(const std::string& token) override;
  // Deletes the token, and the table once it is empty.
  Status ForgetCommitToken(const std::string& token) override;

  const std::string& path() const { return path_; }

 private:
  explicit SqliteSource(std::string path) : path_(std::move(path)) {}

  const std::string path_;
};

}  // namespace lifeboat
