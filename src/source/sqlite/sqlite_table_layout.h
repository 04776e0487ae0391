// SqliteTableLayout: what the SQLite driver needs to know about one table to describe it,
// stream its rows (FORMAT.md section 8) and load them back: its columns as PRAGMA
// table_xinfo reports them, whether it has a rowid and under which name that rowid can be
// selected, the primary-key order of a WITHOUT ROWID table, and whether large values of a
// column may be written through incremental blob I/O.
//
// The rowid: a rowid table streams its rowid explicitly, selected as `rowid`, `oid` or
// `_rowid_` (the first of these that no column is named). In the rare table whose columns
// take all three names the rowid cannot be selected; such a table streams without one
// (TableInfo::rowid = false), in the table's natural (rowid) order, and its rows get new
// rowids when restored.
//
// Thread-safety: a value. Load reads through the connection it is given, inside whatever
// transaction that connection has open.
// Errors: Load returns nullopt when no table of that name exists and passes on the
// connection's errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/status.h"
#include "source/source.h"
#include "source/sqlite/sqlite_db.h"

namespace lifeboat {

struct SqliteTableLayout {
  // Name as stored in sqlite_schema, every column (hidden ones flagged), rowid, ddl.
  TableInfo info;
  // PRAGMA table_list type: "table", "virtual" or "shadow" (a virtual table's storage).
  std::string kind;
  bool without_rowid = false;
  // "rowid", "oid" or "_rowid_"; empty for WITHOUT ROWID tables and when all are shadowed.
  std::string rowid_name;
  // Indexes into info.columns of the columns that are stored (not hidden): the row stream's
  // values, in order.
  std::vector<size_t> stored_columns;
  // WITHOUT ROWID: the ORDER BY terms that follow the primary key's own order (collation
  // and direction included), so SQLite reads the table in storage order without sorting.
  std::string primary_key_order;
  // True when the database stores text as UTF-8 (incremental blob I/O sees text bytes as
  // stored, so text is streamed that way only in UTF-8 databases).
  bool utf8 = true;
  // Per info.columns: the column is a key column of some index.
  std::vector<bool> indexed;
  // Features that make writing a placeholder first and the bytes afterwards unsafe: CHECK
  // constraints and generated columns could see the placeholder, partial and expression
  // indexes could index it.
  bool has_check = false;
  bool has_generated_columns = false;
  bool has_partial_or_expression_index = false;

  // Reads the layout of table `name` (matched as SQLite matches names: ASCII letters folded).
  static Result<std::optional<SqliteTableLayout>> Load(SqliteDb* db, std::string_view name);

  // The names of the stored columns, in order.
  std::vector<std::string> StoredColumnNames() const;

  // Whether a TEXT or BLOB value of stored column `column` (an index into info.columns) may
  // be restored by inserting a zero-filled placeholder and writing the bytes through
  // incremental blob I/O afterwards.
  bool CanStreamWrite(size_t column, bool is_text) const;
  // Whether large values can be read through incremental blob I/O (by rowid).
  bool CanStreamRead() const { return !without_rowid && !rowid_name.empty(); }
};

}  // namespace lifeboat
