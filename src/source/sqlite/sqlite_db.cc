#include "source/sqlite/sqlite_db.h"

#include <climits>
#include <utility>

namespace lifeboat {
namespace {

// The progress handler runs every this many virtual-machine instructions: often enough to
// stop a long statement within milliseconds, rarely enough to cost nothing measurable.
constexpr int kProgressInstructions = 10000;

char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

StatusCode CodeFor(int rc, StatusCode sql_error) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_SCHEMA:
    case SQLITE_ABORT: return StatusCode::kAborted;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return StatusCode::kPermissionDenied;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return StatusCode::kDataLoss;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_NOLFS:
    case SQLITE_PROTOCOL: return StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG: return StatusCode::kFailedPrecondition;
    case SQLITE_INTERRUPT: return StatusCode::kCancelled;
    case SQLITE_ERROR: return sql_error;
    default: return StatusCode::kInternal;
  }
}

}  // namespace

std::string SqlQuoteIdentifier(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('"');
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string SqlQuoteString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

bool SqlNamesEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// SqliteStatement

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      action_(std::move(other.action_)),
      sql_error_(other.sql_error_) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    action_ = std::move(other.action_);
    sql_error_ = other.sql_error_;
  }
  return *this;
}

SqliteStatement::~SqliteStatement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Status SqliteStatement::BindResult(int rc, int index) const {
  if (rc == SQLITE_OK) return OkStatus();
  return db_->Error(rc, action_ + " (binding parameter " + std::to_string(index) + ")");
}

Status SqliteStatement::BindNull(int index) {
  return BindResult(sqlite3_bind_null(stmt_, index), index);
}

Status SqliteStatement::BindInt64(int index, int64_t value) {
  return BindResult(sqlite3_bind_int64(stmt_, index, value), index);
}

Status SqliteStatement::BindDouble(int index, double value) {
  return BindResult(sqlite3_bind_double(stmt_, index, value), index);
}

Status SqliteStatement::BindText(int index, std::string_view value) {
  // A null pointer would bind NULL, not an empty text.
  const char* data = value.data() != nullptr ? value.data() : "";
  return BindResult(
      sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8), index);
}

Status SqliteStatement::BindBlob(int index, std::string_view value) {
  // A null pointer would bind NULL, not an empty blob.
  const char* data = value.data() != nullptr ? value.data() : "";
  return BindResult(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_STATIC), index);
}

Status SqliteStatement::BindZeroBlob(int index, uint64_t size) {
  return BindResult(sqlite3_bind_zeroblob64(stmt_, index, size), index);
}

Result<bool> SqliteStatement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status status = db_->Error(rc, action_, sql_error_);
  sqlite3_reset(stmt_);
  return status;
}

Status SqliteStatement::Run() {
  while (true) {
    LB_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return OkStatus();
  }
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Result<std::string_view> SqliteStatement::ColumnText(int column) const {
  const unsigned char* data = sqlite3_column_text(stmt_, column);
  int bytes = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) {
    if (sqlite3_column_type(stmt_, column) != SQLITE_NULL || bytes != 0) {
      return db_->Error(SQLITE_NOMEM, action_ + " (reading a TEXT value)");
    }
    return std::string_view();
  }
  return std::string_view(reinterpret_cast<const char*>(data), static_cast<size_t>(bytes));
}

Result<std::string_view> SqliteStatement::ColumnBlob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int bytes = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) {
    // A zero-length blob reads as a null pointer; anything longer means out of memory.
    if (bytes != 0) return db_->Error(SQLITE_NOMEM, action_ + " (reading a BLOB value)");
    return std::string_view();
  }
  return std::string_view(static_cast<const char*>(data), static_cast<size_t>(bytes));
}

std::string SqliteStatement::ColumnString(int column) const {
  const unsigned char* data = sqlite3_column_text(stmt_, column);
  if (data == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(data),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::string> SqliteStatement::ColumnOptionalString(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
  return ColumnString(column);
}

// ---------------------------------------------------------------------------------------
// SqliteDb

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Status(CodeFor(rc, StatusCode::kInternal),
                  "opening SQLite database " + path + ": " + message);
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db, path));
}

SqliteDb::~SqliteDb() {
  // close_v2 defers the close until every statement and blob handle is gone; all of them
  // are owned by objects that end before this one.
  sqlite3_close_v2(db_);
}

Result<SqliteStatement> SqliteDb::Prepare(std::string_view sql, std::string action,
                                          StatusCode sql_error) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  if (sql.size() > static_cast<size_t>(INT_MAX)) {
    return InvalidArgumentError(action + " in SQLite database " + path_ +
                                ": the statement is too long");
  }
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, &tail);
  if (rc != SQLITE_OK) return Error(rc, action, sql_error);
  SqliteStatement statement(this, stmt, std::move(action), sql_error);
  if (stmt == nullptr) {
    return Status(sql_error, statement.action() + " in SQLite database " + path_ +
                                 ": the SQL holds no statement");
  }
  // Whatever follows must be white space, comments or empty statements.
  int rest = static_cast<int>(sql.data() + sql.size() - tail);
  while (rest > 0) {
    sqlite3_stmt* extra = nullptr;
    const char* next = nullptr;
    rc = sqlite3_prepare_v2(db_, tail, rest, &extra, &next);
    if (extra != nullptr || rc != SQLITE_OK) {
      sqlite3_finalize(extra);
      return Status(sql_error, statement.action() + " in SQLite database " + path_ +
                                   ": the SQL holds more than one statement");
    }
    if (next == tail) break;
    rest -= static_cast<int>(next - tail);
    tail = next;
  }
  return statement;
}

Status SqliteDb::Exec(std::string_view sql, std::string_view action, StatusCode sql_error) {
  while (!sql.empty()) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    if (sql.size() > static_cast<size_t>(INT_MAX)) {
      return InvalidArgumentError(std::string(action) + " in SQLite database " + path_ +
                                  ": the statement is too long");
    }
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, &tail);
    if (rc != SQLITE_OK) return Error(rc, action, sql_error);
    sql.remove_prefix(static_cast<size_t>(tail - sql.data()));
    if (stmt == nullptr) continue;  // white space or a comment
    SqliteStatement statement(this, stmt, std::string(action), sql_error);
    LB_RETURN_IF_ERROR(statement.Run());
  }
  return OkStatus();
}

Status SqliteDb::Error(int rc, std::string_view action, StatusCode sql_error) const {
  if ((rc & 0xff) == SQLITE_INTERRUPT && cancel_ != nullptr && cancel_->cancelled()) {
    return cancel_->Check();
  }
  // sqlite3_errmsg describes the most recent failure on this connection; use it when it is
  // about this result code, else the generic text of the code.
  std::string detail =
      (sqlite3_errcode(db_) & 0xff) == (rc & 0xff) ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  return Status(CodeFor(rc, sql_error),
                std::string(action) + " in SQLite database " + path_ + ": " + detail);
}

void SqliteDb::SetBusyTimeout(int millis) {
  sqlite3_busy_timeout(db_, millis < 0 ? 0 : millis);
}

int SqliteDb::OnProgress(void* self) {
  CancellationToken* cancel = static_cast<SqliteDb*>(self)->cancel_;
  return cancel != nullptr && cancel->cancelled() ? 1 : 0;
}

void SqliteDb::SetCancellation(CancellationToken* cancel) {
  cancel_ = cancel;
  if (cancel != nullptr) {
    sqlite3_progress_handler(db_, kProgressInstructions, &SqliteDb::OnProgress, this);
  } else {
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
  }
}

// ---------------------------------------------------------------------------------------
// SqliteBlob

SqliteBlob::~SqliteBlob() {
  Close();
}

std::string SqliteBlob::Action(std::string_view verb) const {
  return std::string(verb) + " column " + SqlQuoteIdentifier(column_) + " of row " +
         std::to_string(rowid_) + " of table " + SqlQuoteIdentifier(table_);
}

Status SqliteBlob::Open(int64_t rowid) {
  rowid_ = rowid;
  int rc;
  if (blob_ == nullptr) {
    rc = sqlite3_blob_open(db_->get(), "main", table_.c_str(), column_.c_str(), rowid,
                           writable_ ? 1 : 0, &blob_);
  } else {
    rc = sqlite3_blob_reopen(blob_, rowid);
  }
  if (rc != SQLITE_OK) {
    Status status = db_->Error(rc, Action("opening"));
    Close();
    return status;
  }
  size_ = static_cast<uint64_t>(sqlite3_blob_bytes(blob_));
  return OkStatus();
}

Status SqliteBlob::Read(char* buf, size_t n, uint64_t offset) {
  if (offset > size_ || n > size_ - offset) {
    return InternalError(Action("reading") + ": " + std::to_string(n) + " bytes at offset " +
                         std::to_string(offset) + " are outside the value of " +
                         std::to_string(size_) + " bytes");
  }
  int rc = sqlite3_blob_read(blob_, buf, static_cast<int>(n), static_cast<int>(offset));
  if (rc != SQLITE_OK) return db_->Error(rc, Action("reading"));
  return OkStatus();
}

Status SqliteBlob::Write(std::string_view data, uint64_t offset) {
  if (offset > size_ || data.size() > size_ - offset) {
    return InternalError(Action("writing") + ": " + std::to_string(data.size()) +
                         " bytes at offset " + std::to_string(offset) +
                         " are outside the value of " + std::to_string(size_) + " bytes");
  }
  int rc = sqlite3_blob_write(blob_, data.data(), static_cast<int>(data.size()),
                              static_cast<int>(offset));
  if (rc != SQLITE_OK) return db_->Error(rc, Action("writing"));
  return OkStatus();
}

void SqliteBlob::Close() {
  if (blob_ != nullptr) sqlite3_blob_close(blob_);
  blob_ = nullptr;
  size_ = 0;
}

}  // namespace lifeboat
