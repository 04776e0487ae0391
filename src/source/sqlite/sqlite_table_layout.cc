#include "source/sqlite/sqlite_table_layout.h"

#include <cctype>

namespace lifeboat {
namespace {

// Whether `sql` contains the keyword CHECK (ASCII case folded) as a whole word. Words inside
// names and strings count too: a false positive only costs the streamed write path.
bool MentionsCheck(std::string_view sql) {
  static constexpr std::string_view kWord = "check";
  auto is_word_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  for (size_t i = 0; i + kWord.size() <= sql.size(); ++i) {
    if (!SqlNamesEqual(sql.substr(i, kWord.size()), kWord)) continue;
    bool starts = i == 0 || !is_word_char(sql[i - 1]);
    bool ends = i + kWord.size() == sql.size() || !is_word_char(sql[i + kWord.size()]);
    if (starts && ends) return true;
  }
  return false;
}

}  // namespace

Result<std::optional<SqliteTableLayout>> SqliteTableLayout::Load(SqliteDb* db,
                                                                 std::string_view name) {
  const std::string display = SqlQuoteIdentifier(name);
  SqliteTableLayout layout;
  {
    LB_ASSIGN_OR_RETURN(
        SqliteStatement stmt,
        db->Prepare("SELECT name, sql FROM main.sqlite_schema WHERE type = 'table' AND "
                    "name = ?1 COLLATE NOCASE",
                    "looking up table " + display));
    LB_RETURN_IF_ERROR(stmt.BindText(1, name));
    LB_ASSIGN_OR_RETURN(bool found, stmt.Step());
    if (!found) return std::optional<SqliteTableLayout>();
    layout.info.name = stmt.ColumnString(0);
    layout.info.ddl = stmt.ColumnString(1);
  }
  const std::string table = SqlQuoteIdentifier(layout.info.name);
  {
    LB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        db->Prepare("SELECT type, wr FROM pragma_table_list(?1) "
                                    "WHERE schema = 'main'",
                                    "describing table " + table));
    LB_RETURN_IF_ERROR(stmt.BindText(1, layout.info.name));
    LB_ASSIGN_OR_RETURN(bool found, stmt.Step());
    if (!found) {
      return InternalError("describing table " + table + " in SQLite database " + db->path() +
                           ": PRAGMA table_list does not list it");
    }
    layout.kind = stmt.ColumnString(0);
    layout.without_rowid = stmt.ColumnInt64(1) != 0;
  }
  if (layout.kind != "table") return std::optional<SqliteTableLayout>(std::move(layout));
  {
    LB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        db->Prepare("PRAGMA main.encoding", "reading the text encoding"));
    LB_ASSIGN_OR_RETURN(bool found, stmt.Step());
    layout.utf8 = !found || stmt.ColumnString(0) == "UTF-8";
  }
  {
    LB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        db->Prepare("SELECT name, type, \"notnull\", dflt_value, pk, hidden "
                                    "FROM pragma_table_xinfo(?1, 'main') ORDER BY cid",
                                    "reading the columns of table " + table));
    LB_RETURN_IF_ERROR(stmt.BindText(1, layout.info.name));
    while (true) {
      LB_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      ColumnInfo column;
      column.name = stmt.ColumnString(0);
      column.type = stmt.ColumnString(1);
      column.not_null = stmt.ColumnInt64(2) != 0;
      column.default_sql = stmt.ColumnOptionalString(3);
      column.pk_position = static_cast<int>(stmt.ColumnInt64(4));
      int64_t hidden = stmt.ColumnInt64(5);
      column.hidden = hidden != 0;
      if (hidden == 2 || hidden == 3) layout.has_generated_columns = true;
      if (!column.hidden) layout.stored_columns.push_back(layout.info.columns.size());
      layout.info.columns.push_back(std::move(column));
    }
  }
  layout.indexed.assign(layout.info.columns.size(), false);
  {
    LB_ASSIGN_OR_RETURN(SqliteStatement indexes,
                        db->Prepare("SELECT name, origin, partial FROM "
                                    "pragma_index_list(?1, 'main')",
                                    "reading the indexes of table " + table));
    LB_RETURN_IF_ERROR(indexes.BindText(1, layout.info.name));
    LB_ASSIGN_OR_RETURN(SqliteStatement keys,
                        db->Prepare("SELECT cid, name, \"desc\", coll FROM "
                                    "pragma_index_xinfo(?1, 'main') WHERE key ORDER BY seqno",
                                    "reading the indexes of table " + table));
    while (true) {
      LB_ASSIGN_OR_RETURN(bool row, indexes.Step());
      if (!row) break;
      std::string index_name = indexes.ColumnString(0);
      bool primary_key = indexes.ColumnString(1) == "pk";
      if (indexes.ColumnInt64(2) != 0) layout.has_partial_or_expression_index = true;
      keys.Reset();
      LB_RETURN_IF_ERROR(keys.BindText(1, index_name));
      while (true) {
        LB_ASSIGN_OR_RETURN(bool key, keys.Step());
        if (!key) break;
        int64_t cid = keys.ColumnInt64(0);
        if (cid < 0) {
          layout.has_partial_or_expression_index = true;  // -2: an expression
        } else if (static_cast<uint64_t>(cid) < layout.indexed.size()) {
          layout.indexed[static_cast<size_t>(cid)] = true;
        }
        if (primary_key && layout.without_rowid) {
          if (!layout.primary_key_order.empty()) layout.primary_key_order += ", ";
          layout.primary_key_order += SqlQuoteIdentifier(keys.ColumnString(1));
          layout.primary_key_order += " COLLATE " + SqlQuoteIdentifier(keys.ColumnString(3));
          if (keys.ColumnInt64(2) != 0) layout.primary_key_order += " DESC";
        }
      }
    }
  }
  layout.has_check = MentionsCheck(layout.info.ddl);
  if (!layout.without_rowid) {
    for (const char* candidate : {"rowid", "oid", "_rowid_"}) {
      bool shadowed = false;
      for (const ColumnInfo& column : layout.info.columns) {
        if (SqlNamesEqual(column.name, candidate)) shadowed = true;
      }
      if (!shadowed) {
        layout.rowid_name = candidate;
        break;
      }
    }
  }
  layout.info.rowid = !layout.without_rowid && !layout.rowid_name.empty();
  return std::optional<SqliteTableLayout>(std::move(layout));
}

std::vector<std::string> SqliteTableLayout::StoredColumnNames() const {
  std::vector<std::string> names;
  names.reserve(stored_columns.size());
  for (size_t index : stored_columns) names.push_back(info.columns[index].name);
  return names;
}

bool SqliteTableLayout::CanStreamWrite(size_t column, bool is_text) const {
  if (without_rowid || has_check || has_generated_columns || has_partial_or_expression_index) {
    return false;
  }
  if (column >= indexed.size() || indexed[column]) return false;
  return !is_text || utf8;
}

}  // namespace lifeboat
