#include "source/sqlite/sqlite_restore_transaction.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include "base/encoding.h"
#include "codec/random.h"
#include "source/row_codec.h"
#include "source/sqlite/sqlite_table_layout.h"

namespace lifeboat {
namespace {

constexpr const char* kNothingChanged = "the restore was rolled back: nothing was changed";
// A value buffer that grew past this for one value is released after the row.
constexpr size_t kKeepBufferBytes = 2 * SqliteRestoreTransaction::kLargeValueBytes;
// The temporary file is truncated after a row that spooled more than this.
constexpr uint64_t kKeepSpillBytes = 64ull << 20;
// Distinct INSERT statements kept per table (one per pattern of large TEXT columns).
constexpr size_t kMaxCachedStatements = 64;

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return SqlNamesEqual(n, name); });
}

// An unlinked temporary file holding large values of the current row while the rest of the
// row is read (the row must be complete before it can be inserted).
class SpillFile {
 public:
  SpillFile() = default;
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;
  ~SpillFile() {
    if (fd_ >= 0) ::close(fd_);
  }

  uint64_t size() const { return size_; }

  Status Append(std::string_view data) {
    if (fd_ < 0) LB_RETURN_IF_ERROR(Create());
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(size_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Failure("writing");
      }
      data.remove_prefix(static_cast<size_t>(n));
      size_ += static_cast<uint64_t>(n);
      high_water_ = std::max(high_water_, size_);
    }
    return OkStatus();
  }

  Status ReadAt(uint64_t offset, char* buf, size_t n) {
    while (n > 0) {
      ssize_t got = ::pread(fd_, buf, n, static_cast<off_t>(offset));
      if (got < 0) {
        if (errno == EINTR) continue;
        return Failure("reading");
      }
      if (got == 0) {
        return InternalError("reading the temporary file " + path_ + ": it ends early");
      }
      buf += got;
      n -= static_cast<size_t>(got);
      offset += static_cast<uint64_t>(got);
    }
    return OkStatus();
  }

  // Forgets the content; gives the disk space back when much was used.
  void Clear() {
    size_ = 0;
    if (fd_ >= 0 && high_water_ > kKeepSpillBytes) {
      if (::ftruncate(fd_, 0) == 0) high_water_ = 0;
    }
  }

 private:
  Status Create() {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir != nullptr && dir[0] != '\0' ? dir : "/tmp") + "/lifeboat-value-XXXXXX";
    fd_ = ::mkostemp(path_.data(), O_CLOEXEC);
    if (fd_ < 0) return Failure("creating");
    ::unlink(path_.c_str());  // gone when closed, even if the process dies
    return OkStatus();
  }

  Status Failure(const char* verb) const {
    return UnavailableError(
        std::string(verb) + " the temporary file " + path_ +
        " that holds a large value during the restore: " + std::strerror(errno));
  }

  int fd_ = -1;
  std::string path_;
  uint64_t size_ = 0;
  uint64_t high_water_ = 0;
};

// Where the bytes of one TEXT or BLOB value of the current row are.
enum class ValueSource {
  kBound,     // in Slot::bytes, bound directly
  kSpilled,   // in the temporary file, written through blob I/O after the insert
  kDeferred,  // still in the row stream (the row's last value), written after the insert
};

struct Slot {
  ValueHeader header;
  ValueSource source = ValueSource::kBound;
  uint64_t spill_offset = 0;
  std::string bytes;
};

std::string DescribeColumnDifference(const std::vector<std::string>& backup,
                                     const std::vector<std::string>& database) {
  std::vector<std::string> parts;
  for (const std::string& name : backup) {
    if (!Contains(database, name)) {
      parts.push_back("column " + SqlQuoteIdentifier(name) + " is missing from the database");
    }
  }
  for (const std::string& name : database) {
    if (!Contains(backup, name)) {
      parts.push_back("column " + SqlQuoteIdentifier(name) + " is not in the backup");
    }
  }
  if (parts.empty()) {
    parts.push_back("the columns are in another order (database: " + Join(database) +
                    "; backup: " + Join(backup) + ")");
  }
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out += "; ";
    out += part;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<SqliteRestoreTransaction>> SqliteRestoreTransaction::Begin(
    std::unique_ptr<SqliteDb> db, int wait_millis) {
  std::unique_ptr<SqliteRestoreTransaction> txn(new SqliteRestoreTransaction(std::move(db)));
  SqliteDb* conn = txn->db_.get();
  conn->SetBusyTimeout(wait_millis);
  {
    LB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        conn->Prepare("PRAGMA foreign_keys", "reading PRAGMA foreign_keys"));
    LB_ASSIGN_OR_RETURN(bool row, stmt.Step());
    txn->foreign_keys_were_on_ = row && stmt.ColumnInt64(0) != 0;
  }
  // Outside a transaction: PRAGMA foreign_keys is a no-op inside one.
  LB_RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys=OFF", "turning foreign keys off"));
  int rc = sqlite3_db_config(conn->get(), SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
  if (rc != SQLITE_OK) return conn->Error(rc, "turning triggers off for the restore");
  Status locked = conn->Exec("BEGIN EXCLUSIVE", "locking the database for the restore");
  if (!locked.ok()) {
    if (locked.code() == StatusCode::kAborted) {
      return AbortedError("SQLite database " + conn->path() +
                          " is in use by another process: it could not be locked within " +
                          std::to_string(wait_millis) + " ms (" + locked.message() + ")");
    }
    return locked;
  }
  txn->open_ = true;
  // A first read: fails here, not halfway through, when the file is not a database.
  LB_ASSIGN_OR_RETURN(
      SqliteStatement first,
      conn->Prepare("SELECT count(*) FROM main.sqlite_schema", "reading the schema"));
  LB_RETURN_IF_ERROR(first.Run());
  return txn;
}

SqliteRestoreTransaction::SqliteRestoreTransaction(std::unique_ptr<SqliteDb> db)
    : db_(std::move(db)),
      reader_(std::make_unique<SqliteReadSnapshot>(db_.get(), [this] { return Usable(); })) {}

SqliteRestoreTransaction::~SqliteRestoreTransaction() {
  Rollback();
}

Status SqliteRestoreTransaction::Usable() const {
  if (open_) return OkStatus();
  if (!closed_reason_.ok()) return closed_reason_;
  return FailedPreconditionError("the restore transaction of SQLite database " + db_->path() +
                                 " is not open");
}

void SqliteRestoreTransaction::EndTransaction(const char* sql) {
  if (!open_) return;
  open_ = false;
  if (sqlite3_get_autocommit(db_->get()) == 0) {
    Status status = db_->Exec(sql, "ending the restore transaction");
    if (!status.ok() && sqlite3_get_autocommit(db_->get()) == 0) {
      // Closing the connection would roll back as well; try once more explicitly.
      db_->Exec("ROLLBACK", "rolling back the restore").IgnoreError();
    }
  }
  sqlite3_db_config(db_->get(), SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, nullptr);
  if (foreign_keys_were_on_) {
    db_->Exec("PRAGMA foreign_keys=ON", "turning foreign keys back on").IgnoreError();
  }
}

Status SqliteRestoreTransaction::Abandon(Status error) {
  EndTransaction("ROLLBACK");
  Status reported(error.code(), error.message() + " (" + kNothingChanged + ")");
  closed_reason_ =
      FailedPreconditionError("the restore of SQLite database " + db_->path() +
                              " was rolled back after an earlier error: " + error.message());
  return reported;
}

void SqliteRestoreTransaction::Rollback() {
  if (!open_) return;
  EndTransaction("ROLLBACK");
  closed_reason_ =
      FailedPreconditionError("the restore of SQLite database " + db_->path() + " was rolled back");
}

Status SqliteRestoreTransaction::CreateMissing(const std::vector<TableInfo>& tables,
                                               const std::vector<SchemaObject>& objects) {
  LB_RETURN_IF_ERROR(Usable());
  auto exists = [&](std::string_view name, const char* types) -> Result<bool> {
    LB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        db_->Prepare(std::string("SELECT 1 FROM main.sqlite_schema WHERE name = ?1 "
                                                 "COLLATE NOCASE AND type IN (") +
                                         types + ")",
                                     "looking up " + SqlQuoteIdentifier(name)));
    LB_RETURN_IF_ERROR(stmt.BindText(1, name));
    return stmt.Step();
  };
  auto create = [&](const std::string& type, const std::string& name,
                    const std::string& sql) -> Status {
    const std::string action = "creating " + type + " " + SqlQuoteIdentifier(name);
    LB_RETURN_IF_ERROR(db_->Exec(sql, action, StatusCode::kFailedPrecondition));
    LB_ASSIGN_OR_RETURN(bool created, exists(name, "'table', 'view', 'index', 'trigger'"));
    if (!created) {
      return DataLossError(action + " in SQLite database " + db_->path() +
                           ": its SQL did not create it (" + sql + ")");
    }
    return OkStatus();
  };
  std::vector<std::string> created;  // tables and views created now
  Status status = [&]() -> Status {
    for (const TableInfo& table : tables) {
      LB_ASSIGN_OR_RETURN(bool found, exists(table.name, "'table'"));
      if (found) continue;
      LB_RETURN_IF_ERROR(create("table", table.name, table.ddl));
      created.push_back(table.name);
    }
    // Indexes, then views, then triggers (which may belong to a view).
    for (const char* type : {"index", "view", "trigger"}) {
      for (const SchemaObject& object : objects) {
        if (object.type != type) continue;
        if (object.type == "view") {
          LB_ASSIGN_OR_RETURN(bool found, exists(object.name, "'table', 'view'"));
          if (found) continue;
          LB_RETURN_IF_ERROR(create("view", object.name, object.sql));
          created.push_back(object.name);
        } else if (Contains(created, object.table)) {
          LB_RETURN_IF_ERROR(create(object.type, object.name, object.sql));
        }
      }
    }
    return OkStatus();
  }();
  if (!status.ok()) return Abandon(status);
  return OkStatus();
}

Result<TableStreamStats> SqliteRestoreTransaction::ReplaceTable(const TableInfo& table,
                                                                ByteReader* rows,
                                                                CancellationToken* cancel) {
  LB_RETURN_IF_ERROR(Usable());
  Result<TableStreamStats> stats = LoadRows(table, rows, cancel);
  if (!stats.ok()) return Abandon(stats.status());
  return stats;
}

Result<TableStreamStats> SqliteRestoreTransaction::LoadRows(const TableInfo& table,
                                                            ByteReader* rows,
                                                            CancellationToken* cancel) {
  const std::string quoted = SqlQuoteIdentifier(table.name);
  const std::string action = "restoring table " + quoted;
  const std::string where = action + " into SQLite database " + db_->path();
  LB_ASSIGN_OR_RETURN(std::optional<SqliteTableLayout> found,
                      SqliteTableLayout::Load(db_.get(), table.name));
  if (!found.has_value()) return FailedPreconditionError(where + ": the table does not exist");
  const SqliteTableLayout& layout = *found;
  if (layout.kind != "table") {
    return FailedPreconditionError(where + ": it is a " + layout.kind +
                                   " table, which cannot be restored");
  }
  std::vector<std::string> backup_columns;
  for (const ColumnInfo& column : table.columns) {
    if (!column.hidden) backup_columns.push_back(column.name);
  }
  const std::vector<std::string> columns = layout.StoredColumnNames();
  bool same = backup_columns.size() == columns.size();
  for (size_t i = 0; same && i < columns.size(); ++i) {
    same = SqlNamesEqual(columns[i], backup_columns[i]);
  }
  if (!same) {
    return FailedPreconditionError(where + ": the table does not match the backup: " +
                                   DescribeColumnDifference(backup_columns, columns));
  }
  if (table.rowid != layout.info.rowid) {
    return FailedPreconditionError(
        where + ": the table does not match the backup: " +
        (table.rowid ? "the backup has rowids and the table in the database has none"
                     : "the backup has no rowids and the table in the database has them"));
  }

  ScopedSqliteCancellation scoped_cancel(db_.get(), cancel);
  const std::string table_sql = "main." + SqlQuoteIdentifier(layout.info.name);
  LB_RETURN_IF_ERROR(db_->Exec("DELETE FROM " + table_sql, "emptying table " + quoted));

  const size_t n = layout.stored_columns.size();
  const int first_param = table.rowid ? 2 : 1;
  // One INSERT per pattern of large TEXT columns ('t'), which need CAST(zeroblob(?) AS TEXT);
  // everything else binds to a plain parameter.
  std::map<std::string, SqliteStatement> statements;
  auto statement_for = [&](const std::string& pattern) -> Result<SqliteStatement*> {
    auto it = statements.find(pattern);
    if (it != statements.end()) return &it->second;
    if (statements.size() >= kMaxCachedStatements) statements.clear();
    std::string sql = "INSERT INTO " + table_sql + "(";
    std::string values;
    if (table.rowid) {
      sql += layout.rowid_name;
      values += "?1";
    }
    for (size_t i = 0; i < n; ++i) {
      if (table.rowid || i > 0) {
        sql += ", ";
        values += ", ";
      }
      sql += SqlQuoteIdentifier(columns[i]);
      std::string param = "?" + std::to_string(first_param + static_cast<int>(i));
      values += pattern[i] == 't' ? "CAST(zeroblob(" + param + ") AS TEXT)" : param;
    }
    sql += ") VALUES(" + values + ")";
    LB_ASSIGN_OR_RETURN(SqliteStatement stmt, db_->Prepare(sql, "inserting into table " + quoted));
    return &statements.emplace(pattern, std::move(stmt)).first->second;
  };

  RowDecoder decoder(rows);
  std::vector<Slot> slots(n);
  std::vector<std::unique_ptr<SqliteBlob>> blobs(n);
  std::unique_ptr<char[]> piece;
  SpillFile spill;
  std::string pattern;
  TableStreamStats stats;
  auto check_cancel = [&]() -> Status { return cancel != nullptr ? cancel->Check() : OkStatus(); };

  while (true) {
    if (stats.rows % kCancelCheckRows == 0) LB_RETURN_IF_ERROR(check_cancel());
    int64_t rowid = 0;
    LB_ASSIGN_OR_RETURN(bool more, decoder.NextRow(table.rowid, &rowid));
    if (!more) break;
    pattern.assign(n, 'v');
    spill.Clear();
    bool any_large = false;
    for (size_t i = 0; i < n; ++i) {
      Slot& slot = slots[i];
      LB_ASSIGN_OR_RETURN(slot.header, decoder.NextValue());
      slot.source = ValueSource::kBound;
      const bool is_text = slot.header.type == ValueType::kText;
      if (!is_text && slot.header.type != ValueType::kBlob) continue;
      if (slot.header.size <= kLargeValueBytes ||
          !layout.CanStreamWrite(layout.stored_columns[i], is_text)) {
        LB_RETURN_IF_ERROR(decoder.ReadValue(&slot.bytes));
        continue;
      }
      any_large = true;
      if (is_text) pattern[i] = 't';
      if (i + 1 == n) {
        slot.source = ValueSource::kDeferred;
        continue;
      }
      slot.source = ValueSource::kSpilled;
      slot.spill_offset = spill.size();
      while (true) {
        LB_ASSIGN_OR_RETURN(std::string_view bytes, decoder.ReadValueBytes(kBlobPieceBytes));
        if (bytes.empty()) break;
        LB_RETURN_IF_ERROR(spill.Append(bytes));
        LB_RETURN_IF_ERROR(check_cancel());
      }
    }

    LB_ASSIGN_OR_RETURN(SqliteStatement * insert, statement_for(pattern));
    if (table.rowid) LB_RETURN_IF_ERROR(insert->BindInt64(1, rowid));
    for (size_t i = 0; i < n; ++i) {
      const Slot& slot = slots[i];
      const int param = first_param + static_cast<int>(i);
      const bool bound = slot.source == ValueSource::kBound;
      switch (slot.header.type) {
        case ValueType::kNull: LB_RETURN_IF_ERROR(insert->BindNull(param)); break;
        case ValueType::kInteger:
          LB_RETURN_IF_ERROR(insert->BindInt64(param, slot.header.integer));
          break;
        case ValueType::kReal:
          LB_RETURN_IF_ERROR(insert->BindDouble(param, slot.header.real));
          break;
        case ValueType::kText:
          LB_RETURN_IF_ERROR(
              bound ? insert->BindText(param, slot.bytes)
                    : insert->BindInt64(param, static_cast<int64_t>(slot.header.size)));
          break;
        case ValueType::kBlob:
          LB_RETURN_IF_ERROR(bound ? insert->BindBlob(param, slot.bytes)
                                   : insert->BindZeroBlob(param, slot.header.size));
          break;
      }
    }
    Status inserted = insert->Run();
    insert->Reset();
    if (!inserted.ok()) {
      return Status(inserted.code(), inserted.message() + " (row " +
                                         std::to_string(decoder.rows()) + " of the backup)");
    }

    if (any_large) {
      const int64_t target = sqlite3_last_insert_rowid(db_->get());
      if (piece == nullptr) piece.reset(new char[kBlobPieceBytes]);
      for (size_t i = 0; i < n; ++i) {
        const Slot& slot = slots[i];
        if (slot.source == ValueSource::kBound) continue;
        if (blobs[i] == nullptr) {
          blobs[i] = std::make_unique<SqliteBlob>(db_.get(), layout.info.name, columns[i], true);
        }
        SqliteBlob& blob = *blobs[i];
        LB_RETURN_IF_ERROR(blob.Open(target));
        if (blob.size() != slot.header.size) {
          return InternalError(where + ": the placeholder of a value of " +
                               std::to_string(slot.header.size) + " bytes holds " +
                               std::to_string(blob.size()) + " bytes");
        }
        uint64_t offset = 0;
        if (slot.source == ValueSource::kSpilled) {
          while (offset < slot.header.size) {
            size_t len =
                static_cast<size_t>(std::min<uint64_t>(kBlobPieceBytes, slot.header.size - offset));
            LB_RETURN_IF_ERROR(spill.ReadAt(slot.spill_offset + offset, piece.get(), len));
            LB_RETURN_IF_ERROR(blob.Write(std::string_view(piece.get(), len), offset));
            offset += len;
            LB_RETURN_IF_ERROR(check_cancel());
          }
        } else {
          while (true) {
            LB_ASSIGN_OR_RETURN(std::string_view bytes, decoder.ReadValueBytes(kBlobPieceBytes));
            if (bytes.empty()) break;
            LB_RETURN_IF_ERROR(blob.Write(bytes, offset));
            offset += bytes.size();
            LB_RETURN_IF_ERROR(check_cancel());
          }
        }
      }
    }
    for (Slot& slot : slots) {
      if (slot.bytes.capacity() > kKeepBufferBytes) std::string().swap(slot.bytes);
    }
    ++stats.rows;
  }
  stats.bytes = decoder.bytes_read();
  replaced_.push_back(layout.info.name);
  return stats;
}

Status SqliteRestoreTransaction::SetSequences(const std::vector<SequenceValue>& values) {
  LB_RETURN_IF_ERROR(Usable());
  Status status = [&]() -> Status {
    const std::string where = "setting sequences in SQLite database " + db_->path();
    LB_ASSIGN_OR_RETURN(SqliteStatement lookup,
                        db_->Prepare("SELECT name FROM main.sqlite_schema WHERE type = 'table' "
                                     "AND name = ?1 COLLATE NOCASE",
                                     "setting sequences"));
    LB_RETURN_IF_ERROR(lookup.BindText(1, "sqlite_sequence"));
    LB_ASSIGN_OR_RETURN(bool has_sequences, lookup.Step());
    if (!has_sequences && values.empty()) return OkStatus();
    if (!has_sequences) {
      return FailedPreconditionError(where +
                                     ": the database has no sqlite_sequence table (no "
                                     "table in it uses AUTOINCREMENT), so the sequence "
                                     "of table " +
                                     SqlQuoteIdentifier(values.front().table) +
                                     " has nowhere to go");
    }
    // A replaced table's sequence is the backup's, and the backup has none for a table whose
    // AUTOINCREMENT had not handed out a value yet: such a row goes.
    LB_ASSIGN_OR_RETURN(
        SqliteStatement forget,
        db_->Prepare("DELETE FROM main.sqlite_sequence WHERE name = ?1", "setting sequences"));
    for (const std::string& table : replaced_) {
      forget.Reset();
      LB_RETURN_IF_ERROR(forget.BindText(1, table));
      LB_RETURN_IF_ERROR(forget.Run());
    }
    LB_ASSIGN_OR_RETURN(SqliteStatement update,
                        db_->Prepare("UPDATE main.sqlite_sequence SET seq = ?2 WHERE name = ?1",
                                     "setting sequences"));
    LB_ASSIGN_OR_RETURN(SqliteStatement insert,
                        db_->Prepare("INSERT INTO main.sqlite_sequence(name, seq) VALUES(?1, ?2)",
                                     "setting sequences"));
    for (const SequenceValue& value : values) {
      lookup.Reset();
      LB_RETURN_IF_ERROR(lookup.BindText(1, value.table));
      LB_ASSIGN_OR_RETURN(bool table_exists, lookup.Step());
      if (!table_exists) {
        return FailedPreconditionError(where + ": table " + SqlQuoteIdentifier(value.table) +
                                       " does not exist");
      }
      // sqlite_sequence matches names exactly: use the name as the database spells it.
      const std::string name = lookup.ColumnString(0);
      update.Reset();
      LB_RETURN_IF_ERROR(update.BindText(1, name));
      LB_RETURN_IF_ERROR(update.BindInt64(2, value.value));
      LB_RETURN_IF_ERROR(update.Run());
      if (sqlite3_changes(db_->get()) == 0) {
        insert.Reset();
        LB_RETURN_IF_ERROR(insert.BindText(1, name));
        LB_RETURN_IF_ERROR(insert.BindInt64(2, value.value));
        LB_RETURN_IF_ERROR(insert.Run());
      }
    }
    return OkStatus();
  }();
  if (!status.ok()) return Abandon(status);
  return OkStatus();
}

Status SqliteRestoreTransaction::CheckForeignKeys() {
  if (replaced_.empty()) return OkStatus();
  // The tables to check: those replaced and those whose foreign keys point at one.
  std::vector<std::string> children;
  {
    LB_ASSIGN_OR_RETURN(
        SqliteStatement stmt,
        db_->Prepare("SELECT DISTINCT m.name, f.\"table\" FROM main.sqlite_schema AS m, "
                     "pragma_foreign_key_list(m.name, 'main') AS f WHERE m.type = 'table'",
                     "reading foreign keys"));
    while (true) {
      LB_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      std::string child = stmt.ColumnString(0);
      std::string parent = stmt.ColumnString(1);
      if ((Contains(replaced_, child) || Contains(replaced_, parent)) &&
          !Contains(children, child)) {
        children.push_back(child);
      }
    }
  }
  std::sort(children.begin(), children.end());
  std::vector<std::string> violations;
  for (const std::string& child : children) {
    LB_ASSIGN_OR_RETURN(
        SqliteStatement stmt,
        db_->Prepare("SELECT parent, count(*) FROM pragma_foreign_key_check(?1, 'main') "
                     "GROUP BY parent ORDER BY parent",
                     "checking the foreign keys of table " + SqlQuoteIdentifier(child)));
    LB_RETURN_IF_ERROR(stmt.BindText(1, child));
    while (true) {
      Result<bool> row = stmt.Step();
      if (!row.ok()) {
        // "foreign key mismatch": the parent key is not unique, so SQLite cannot enforce
        // this foreign key at all and the application cannot rely on it; not checkable.
        if (row.status().message().find("foreign key mismatch") != std::string::npos) break;
        return row.status();
      }
      if (!*row) break;
      int64_t count = stmt.ColumnInt64(1);
      violations.push_back(child + " references " + stmt.ColumnString(0) + " (" +
                           std::to_string(count) + (count == 1 ? " row)" : " rows)"));
    }
  }
  if (!violations.empty()) {
    std::string message = "foreign key check failed: ";
    for (size_t i = 0; i < violations.size(); ++i) {
      if (i > 0) message += "; ";
      message += violations[i];
    }
    return FailedPreconditionError(message + ": nothing was changed");
  }
  return OkStatus();
}

Result<std::string> SqliteRestoreTransaction::RecordCommitToken() {
  LB_RETURN_IF_ERROR(Usable());
  const std::string token = ToHex(RandomBytes(16));
  Status recorded = db_->Exec(std::string("CREATE TABLE IF NOT EXISTS main.") + kSqliteCommitTable +
                                  " (token TEXT PRIMARY KEY, committed_at TEXT NOT NULL);"
                                  "INSERT INTO main." +
                                  kSqliteCommitTable + " VALUES ('" + token +
                                  "', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                              "recording the restore's commit");
  if (!recorded.ok()) return Abandon(recorded);
  return token;
}

Status SqliteRestoreTransaction::Commit() {
  LB_RETURN_IF_ERROR(Usable());
  Status checked = CheckForeignKeys();
  if (!checked.ok()) {
    EndTransaction("ROLLBACK");
    closed_reason_ = FailedPreconditionError("the restore of SQLite database " + db_->path() +
                                             " was rolled back: " + checked.message());
    return checked;
  }
  Status committed = db_->Exec("COMMIT", "committing the restore");
  if (!committed.ok()) return Abandon(committed);
  EndTransaction("COMMIT");  // restores the connection's settings; the transaction is over
  closed_reason_ = FailedPreconditionError("the restore of SQLite database " + db_->path() +
                                           " is already committed");
  return OkStatus();
}

}  // namespace lifeboat
