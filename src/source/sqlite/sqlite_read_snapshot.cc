#include "source/sqlite/sqlite_read_snapshot.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "source/row_codec.h"
#include "source/sqlite/sqlite_table_layout.h"

namespace lifeboat {
namespace {

// SQLite 3.43 added octet_length(), which reports a TEXT value's size in bytes without
// reading it. Before that, length() (characters; it reads the text) is the test: a text of
// more than 1 MiB / 4 characters may hold more than 1 MiB of UTF-8.
constexpr int kOctetLengthVersion = 3043000;
constexpr uint64_t kLargeTextChars = SqliteReadSnapshot::kLargeValueBytes / 4;

// SQLite's own tables, and the restore's commit record.
bool IsInternalName(std::string_view name) {
  return (name.size() >= 7 && SqlNamesEqual(name.substr(0, 7), "sqlite_")) ||
         SqlNamesEqual(name, kSqliteCommitTable);
}

// "fts5" from "CREATE VIRTUAL TABLE t USING fts5(a, b)".
std::string VirtualTableModule(std::string_view sql) {
  for (size_t i = 0; i + 5 <= sql.size(); ++i) {
    if (!SqlNamesEqual(sql.substr(i, 5), "using")) continue;
    size_t start = i + 5;
    while (start < sql.size() && (sql[start] == ' ' || sql[start] == '\n' || sql[start] == '\t'))
      ++start;
    size_t end = start;
    while (end < sql.size() && sql[end] != '(' && sql[end] != ' ' && sql[end] != '\n') ++end;
    return std::string(sql.substr(start, end - start));
  }
  return "unknown";
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<SqliteReadSnapshot>> SqliteReadSnapshot::Begin(
    std::unique_ptr<SqliteDb> db) {
  SqliteDb* raw = db.get();
  std::unique_ptr<SqliteReadSnapshot> snapshot(new SqliteReadSnapshot(std::move(db)));
  LB_RETURN_IF_ERROR(raw->Exec("BEGIN", "starting a read transaction"));
  // The transaction's snapshot is taken at its first read, not at BEGIN.
  LB_ASSIGN_OR_RETURN(SqliteStatement first, raw->Prepare("SELECT count(*) FROM main.sqlite_schema",
                                                          "starting a read transaction"));
  LB_RETURN_IF_ERROR(first.Run());
  return snapshot;
}

SqliteReadSnapshot::SqliteReadSnapshot(std::unique_ptr<SqliteDb> db)
    : owned_db_(std::move(db)), db_(owned_db_.get()) {}

SqliteReadSnapshot::SqliteReadSnapshot(SqliteDb* db, std::function<Status()> usable)
    : db_(db), usable_(std::move(usable)) {}

SqliteReadSnapshot::~SqliteReadSnapshot() {
  if (owned_db_ != nullptr && sqlite3_get_autocommit(owned_db_->get()) == 0) {
    owned_db_->Exec("ROLLBACK", "ending the read transaction").IgnoreError();
  }
}

Status SqliteReadSnapshot::Usable() const {
  return usable_ ? usable_() : OkStatus();
}

Result<InstanceSchema> SqliteReadSnapshot::Describe() {
  LB_RETURN_IF_ERROR(Usable());
  struct Row {
    std::string type, name, table;
    std::optional<std::string> sql;
  };
  std::vector<Row> rows;
  {
    LB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        db_->Prepare("SELECT type, name, tbl_name, sql FROM main.sqlite_schema",
                                     "reading the schema"));
    while (true) {
      LB_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      rows.push_back({stmt.ColumnString(0), stmt.ColumnString(1), stmt.ColumnString(2),
                      stmt.ColumnOptionalString(3)});
    }
  }
  InstanceSchema schema;
  std::vector<std::string> left_out;  // names of skipped tables, for their objects
  for (const Row& row : rows) {
    if (row.type != "table" || IsInternalName(row.name)) continue;
    LB_ASSIGN_OR_RETURN(std::optional<SqliteTableLayout> layout,
                        SqliteTableLayout::Load(db_, row.name));
    if (!layout.has_value()) {
      return InternalError("describing table " + SqlQuoteIdentifier(row.name) +
                           " in SQLite database " + db_->path() +
                           ": it is listed in sqlite_schema but cannot be found");
    }
    if (layout->kind == "virtual") {
      schema.skipped.push_back({row.name, "virtual table (module " +
                                              VirtualTableModule(row.sql.value_or("")) +
                                              "): virtual tables are not supported yet"});
      left_out.push_back(row.name);
    } else if (layout->kind == "shadow") {
      schema.skipped.push_back(
          {row.name, "storage table of a virtual table: virtual tables are not supported yet"});
      left_out.push_back(row.name);
    } else {
      schema.tables.push_back(std::move(layout->info));
    }
  }
  for (const Row& row : rows) {
    if (row.type != "index" && row.type != "trigger" && row.type != "view") continue;
    if (!row.sql.has_value()) continue;  // automatic indexes come with their table's DDL
    bool of_skipped = std::any_of(left_out.begin(), left_out.end(), [&](const std::string& n) {
      return SqlNamesEqual(n, row.table);
    });
    if (of_skipped || IsInternalName(row.table)) continue;
    schema.objects.push_back(
        {row.type, row.name, row.type == "view" ? std::string() : row.table, *row.sql});
  }
  std::sort(schema.tables.begin(), schema.tables.end(),
            [](const TableInfo& a, const TableInfo& b) { return a.name < b.name; });
  std::sort(schema.objects.begin(), schema.objects.end(),
            [](const SchemaObject& a, const SchemaObject& b) {
              return std::tie(a.type, a.name) < std::tie(b.type, b.name);
            });
  std::sort(schema.skipped.begin(), schema.skipped.end(),
            [](const SkippedTable& a, const SkippedTable& b) { return a.name < b.name; });
  return schema;
}

Result<std::optional<std::string>> SqliteReadSnapshot::QueryVersion(const std::string& sql) {
  LB_RETURN_IF_ERROR(Usable());
  const std::string action = "running the version query \"" + sql + "\"";
  Result<SqliteStatement> prepared = db_->Prepare(sql, action, StatusCode::kInvalidArgument);
  if (!prepared.ok()) {
    std::string detail = sqlite3_errmsg(db_->get());
    if (detail.rfind("no such table", 0) == 0) {
      return NotFoundError("version query \"" + sql + "\" failed in SQLite database " +
                           db_->path() + ": " + detail + ": the instance looks empty");
    }
    return prepared.status();
  }
  SqliteStatement stmt = std::move(prepared).value();
  if (sqlite3_stmt_readonly(stmt.get()) == 0) {
    return InvalidArgumentError(action + " in SQLite database " + db_->path() +
                                ": a version query must only read");
  }
  if (stmt.ColumnCount() != 1) {
    return InvalidArgumentError(action + " in SQLite database " + db_->path() +
                                ": a version query must return one column, it returns " +
                                std::to_string(stmt.ColumnCount()));
  }
  LB_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<std::string>();
  std::optional<std::string> version = stmt.ColumnOptionalString(0);
  LB_ASSIGN_OR_RETURN(bool second, stmt.Step());
  if (second) {
    return InvalidArgumentError(action + " in SQLite database " + db_->path() +
                                ": a version query must return at most one row");
  }
  return version;
}

Result<uint64_t> SqliteReadSnapshot::EstimateSize(const TableInfo& table) {
  LB_RETURN_IF_ERROR(Usable());
  const std::string action = "estimating the size of table " + SqlQuoteIdentifier(table.name);
  // dbstat (SQLITE_ENABLE_DBSTAT_VTAB) walks the table's b-tree pages without decoding rows;
  // in aggregate mode (its second argument, SQLite 3.31 and later) it returns one row for the
  // whole b-tree instead of one per page: the same sums, a fifth faster.
  Result<SqliteStatement> dbstat = db_->Prepare(
      "SELECT coalesce(sum(pgsize), 0), coalesce(max(mx_payload), 0) "
      "FROM dbstat('main', 1) WHERE name = ?1",
      action);
  if (dbstat.ok()) {
    LB_RETURN_IF_ERROR(dbstat->BindText(1, table.name));
    LB_ASSIGN_OR_RETURN(bool row, dbstat->Step());
    int64_t bytes = row ? dbstat->ColumnInt64(0) : 0;
    // The largest record of the table, overflow included: when no record can hold a large
    // value, StreamTable reads plain columns (FORMAT.md §8 streams only values > 1 MiB).
    if (row) largest_record_[table.name] = dbstat->ColumnInt64(1);
    return static_cast<uint64_t>(std::max<int64_t>(bytes, 0));
  }
  if (std::string(sqlite3_errmsg(db_->get())).find("dbstat") == std::string::npos) {
    return dbstat.status();  // a failure other than a library built without dbstat
  }
  // Without dbstat: the database's size shared evenly among its tables.
  LB_ASSIGN_OR_RETURN(
      SqliteStatement stmt,
      db_->Prepare("SELECT (SELECT page_count * page_size FROM pragma_page_count, "
                   "pragma_page_size) / max(1, (SELECT count(*) FROM main.sqlite_schema "
                   "WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'))",
                   action));
  LB_ASSIGN_OR_RETURN(bool row, stmt.Step());
  int64_t bytes = row ? stmt.ColumnInt64(0) : 0;
  return static_cast<uint64_t>(std::max<int64_t>(bytes, 0));
}

Result<TableStreamStats> SqliteReadSnapshot::StreamTable(
    const TableInfo& table, ByteSink* out, CancellationToken* cancel,
    const std::function<void(const TableStreamStats&)>& on_progress) {
  LB_RETURN_IF_ERROR(Usable());
  const std::string quoted = SqlQuoteIdentifier(table.name);
  const std::string action = "streaming table " + quoted;
  LB_ASSIGN_OR_RETURN(std::optional<SqliteTableLayout> found,
                      SqliteTableLayout::Load(db_, table.name));
  if (!found.has_value()) {
    return NotFoundError(action + " from SQLite database " + db_->path() +
                         ": the table does not exist");
  }
  const SqliteTableLayout& layout = *found;
  if (layout.kind != "table") {
    return UnimplementedError(action + " from SQLite database " + db_->path() + ": it is a " +
                              layout.kind + " table, which is not supported yet");
  }
  // The stream must match the description the caller records in the manifest.
  std::vector<std::string> expected;
  for (const ColumnInfo& column : table.columns) {
    if (!column.hidden) expected.push_back(column.name);
  }
  std::vector<std::string> actual = layout.StoredColumnNames();
  if (expected != actual || table.rowid != layout.info.rowid) {
    return FailedPreconditionError(action + " from SQLite database " + db_->path() +
                                   ": the table changed since it was described (columns now " +
                                   Join(actual) +
                                   (layout.info.rowid ? ", with rowid" : ", without rowid") + ")");
  }

  auto largest = largest_record_.find(table.name);
  const bool no_large_values =
      largest != largest_record_.end() && largest->second <= static_cast<int64_t>(kLargeValueBytes);
  const bool stream_large = layout.CanStreamRead() && !no_large_values;
  const bool octet_length = sqlite3_libversion_number() >= kOctetLengthVersion;
  const std::string large = std::to_string(kLargeValueBytes);
  std::string sql = "SELECT ";
  int first_value = 0;
  if (layout.info.rowid) {
    sql += layout.rowid_name;
    first_value = 1;
  }
  for (size_t i = 0; i < layout.stored_columns.size(); ++i) {
    const std::string column =
        SqlQuoteIdentifier(layout.info.columns[layout.stored_columns[i]].name);
    if (first_value > 0 || i > 0) sql += ", ";
    if (!stream_large) {
      sql += column;
      continue;
    }
    // Large values read as NULL here; typeof() (which SQLite answers without reading the
    // value) tells them from real NULLs. length() of a BLOB does not read it either.
    sql += "CASE typeof(" + column + ") WHEN 'blob' THEN CASE WHEN length(" + column + ") > " +
           large + " THEN NULL ELSE " + column + " END";
    if (layout.utf8) {
      sql += " WHEN 'text' THEN CASE WHEN " +
             (octet_length ? "octet_length(" + column + ") > " + large
                           : "length(" + column + ") > " + std::to_string(kLargeTextChars)) +
             " THEN NULL ELSE " + column + " END";
    }
    sql += " ELSE " + column + " END, typeof(" + column + ")";
  }
  sql += " FROM main." + quoted;
  if (layout.without_rowid) {
    sql += " ORDER BY " + layout.primary_key_order;
  } else if (layout.info.rowid) {
    sql += " ORDER BY " + layout.rowid_name;
  }  // else: no selectable rowid; a full scan of a rowid table runs in rowid order

  ScopedSqliteCancellation scoped_cancel(db_, cancel);
  LB_ASSIGN_OR_RETURN(SqliteStatement stmt, db_->Prepare(sql, action));
  RowEncoder encoder(out);
  std::vector<std::unique_ptr<SqliteBlob>> blobs(layout.stored_columns.size());
  std::unique_ptr<char[]> piece;
  TableStreamStats stats;
  const int stride = stream_large ? 2 : 1;

  auto stream_large_value = [&](size_t i, int64_t rowid, bool is_text) -> Status {
    if (blobs[i] == nullptr) {
      blobs[i] = std::make_unique<SqliteBlob>(
          db_, layout.info.name, layout.info.columns[layout.stored_columns[i]].name, false);
    }
    if (piece == nullptr) piece.reset(new char[kBlobPieceBytes]);
    SqliteBlob& blob = *blobs[i];
    LB_RETURN_IF_ERROR(blob.Open(rowid));
    const uint64_t size = blob.size();
    LB_RETURN_IF_ERROR(is_text ? encoder.BeginText(size) : encoder.BeginBlob(size));
    for (uint64_t offset = 0; offset < size;) {
      if (cancel != nullptr) LB_RETURN_IF_ERROR(cancel->Check());
      size_t n = static_cast<size_t>(std::min<uint64_t>(kBlobPieceBytes, size - offset));
      LB_RETURN_IF_ERROR(blob.Read(piece.get(), n, offset));
      LB_RETURN_IF_ERROR(encoder.Append(std::string_view(piece.get(), n)));
      offset += n;
    }
    return OkStatus();
  };

  while (true) {
    if (cancel != nullptr && stats.rows % kCancelCheckRows == 0) {
      LB_RETURN_IF_ERROR(cancel->Check());
    }
    LB_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::optional<int64_t> rowid;
    if (layout.info.rowid) rowid = stmt.ColumnInt64(0);
    LB_RETURN_IF_ERROR(encoder.BeginRow(rowid));
    for (size_t i = 0; i < layout.stored_columns.size(); ++i) {
      const int column = first_value + static_cast<int>(i) * stride;
      switch (stmt.ColumnType(column)) {
        case SQLITE_INTEGER: LB_RETURN_IF_ERROR(encoder.Integer(stmt.ColumnInt64(column))); break;
        case SQLITE_FLOAT: LB_RETURN_IF_ERROR(encoder.Real(stmt.ColumnDouble(column))); break;
        case SQLITE_TEXT: {
          LB_ASSIGN_OR_RETURN(std::string_view text, stmt.ColumnText(column));
          LB_RETURN_IF_ERROR(encoder.Text(text));
          break;
        }
        case SQLITE_BLOB: {
          LB_ASSIGN_OR_RETURN(std::string_view blob, stmt.ColumnBlob(column));
          LB_RETURN_IF_ERROR(encoder.Blob(blob));
          break;
        }
        default: {  // SQLITE_NULL: a NULL, or a large value left out of the query
          // typeof() is "null", "text" or "blob" here.
          const unsigned char* type =
              stream_large ? sqlite3_column_text(stmt.get(), column + 1) : nullptr;
          if (stream_large && type == nullptr) {
            return db_->Error(SQLITE_NOMEM, action + " (reading the type of a value)");
          }
          if (type != nullptr && (type[0] == 't' || type[0] == 'b')) {
            LB_RETURN_IF_ERROR(stream_large_value(i, *rowid, type[0] == 't'));
          } else {
            LB_RETURN_IF_ERROR(encoder.Null());
          }
          break;
        }
      }
    }
    ++stats.rows;
    if (on_progress && stats.rows % kProgressRows == 0) {
      stats.bytes = encoder.bytes_written();
      on_progress(stats);
    }
  }
  LB_RETURN_IF_ERROR(encoder.Flush());
  stats.bytes = encoder.bytes_written();
  if (on_progress) on_progress(stats);
  return stats;
}

Result<std::vector<SequenceValue>> SqliteReadSnapshot::ReadSequences(
    const std::vector<std::string>& tables) {
  LB_RETURN_IF_ERROR(Usable());
  std::vector<SequenceValue> values;
  {
    LB_ASSIGN_OR_RETURN(SqliteStatement exists,
                        db_->Prepare("SELECT 1 FROM main.sqlite_schema WHERE type = 'table' "
                                     "AND name = 'sqlite_sequence'",
                                     "reading sqlite_sequence"));
    LB_ASSIGN_OR_RETURN(bool found, exists.Step());
    if (!found) return values;
  }
  LB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                      db_->Prepare("SELECT name, seq FROM main.sqlite_sequence ORDER BY rowid",
                                   "reading sqlite_sequence"));
  while (true) {
    LB_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    if (stmt.ColumnType(0) == SQLITE_NULL) continue;
    std::string name = stmt.ColumnString(0);
    for (const std::string& table : tables) {
      if (SqlNamesEqual(table, name)) {
        values.push_back({table, "", stmt.ColumnInt64(1)});
        break;
      }
    }
  }
  std::stable_sort(
      values.begin(), values.end(),
      [](const SequenceValue& a, const SequenceValue& b) { return a.table < b.table; });
  return values;
}

}  // namespace lifeboat
