#include "source/postgres/pg_large_values.h"

#include <algorithm>
#include <optional>

#include "base/encoding.h"

namespace lifeboat {
namespace {

constexpr char kCursor[] = "lifeboat_large_values";
constexpr char kValueCursor[] = "lifeboat_large_value";
constexpr size_t kMaxBatchRows = 1000;
// A value over 1 MiB (and so one over the limit) never sits inline in the heap: even compressed
// (pglz or lz4, at most a few hundred to one) it stays above the 2 KB at which PostgreSQL moves
// values to TOAST. So a table with an empty TOAST relation needs no scan for such values.
constexpr uint64_t kInlineBound = uint64_t{1} << 20;

std::string OverLimit(const std::string& column, uint64_t limit) {
  return "octet_length(" + column + ") > " + std::to_string(limit);
}

// Where one row's large values are read from: the row's table (a partition for a partitioned
// table) and its position, both fixed for the snapshot.
struct RowPosition {
  std::string tableoid;
  std::string ctid;
};

class SlicedTableWriter {
 public:
  SlicedTableWriter(PgConnection* conn, const PgTable& table,
                    const std::vector<ColumnInfo>& columns,
                    const std::vector<PgSlicedColumn>& sliced, const PgLargeValueLimits& limits,
                    ByteSink* out, CancellationToken* cancel)
      : conn_(conn),
        table_(table),
        columns_(columns),
        sliced_(sliced),
        limits_(limits),
        out_(out),
        cancel_(cancel),
        action_("reading table " + table.name) {}

  Result<TableStreamStats> Run(uint64_t progress_rows,
                               const std::function<void(const TableStreamStats&)>& on_progress);

 private:
  Status Write(std::string_view data) {
    stats_.bytes += data.size();
    return out_->Write(data);
  }
  Status StreamValue(const std::string& column, bool bytea, const RowPosition& row);

  PgConnection* conn_;
  const PgTable& table_;
  const std::vector<ColumnInfo>& columns_;
  const std::vector<PgSlicedColumn>& sliced_;
  const PgLargeValueLimits& limits_;
  ByteSink* out_;
  CancellationToken* cancel_;
  const std::string action_;
  TableStreamStats stats_;
};

Status SlicedTableWriter::StreamValue(const std::string& column, bool bytea,
                                      const RowPosition& row) {
  // The position comes from the server (an oid and a tid); checked before it goes into SQL.
  if (row.tableoid.find_first_not_of("0123456789") != std::string::npos ||
      row.ctid.find_first_not_of("0123456789(),") != std::string::npos) {
    return InternalError(action_ + ": unexpected row position " + row.tableoid + " " + row.ctid);
  }
  // The value is detoasted once, into the server's memory (as UTF-8 bytes for text, which is
  // what COPY sends), and cut there into slices that travel as hex.
  const std::string whole = bytea ? column + " || ''::bytea" : "convert_to(" + column + ", 'UTF8')";
  const std::string slice = std::to_string(limits_.slice_bytes);
  LB_RETURN_IF_ERROR(conn_->Exec(
      "DECLARE " + std::string(kValueCursor) +
          " NO SCROLL CURSOR FOR SELECT encode(substring(x.v FROM g FOR " + slice +
          "), 'hex') FROM (SELECT " + whole + " AS v FROM " + table_.Qualified() +
          " WHERE tableoid = " + row.tableoid + "::oid AND ctid = '" + row.ctid +
          "'::tid OFFSET 0) x CROSS JOIN LATERAL generate_series(1, octet_length(x.v), " + slice +
          ") g",
      action_));
  // bytea comes out of COPY as \x and lower-case hex, its backslash escaped.
  if (bytea) LB_RETURN_IF_ERROR(Write("\\\\x"));
  const size_t per_fetch =
      static_cast<size_t>(std::max<uint64_t>(1, limits_.batch_bytes / (2 * limits_.slice_bytes)));
  std::string bytes, escaped;
  bool any = false;
  for (;;) {
    LB_RETURN_IF_ERROR(cancel_->Check());
    LB_ASSIGN_OR_RETURN(
        PgResult pieces,
        conn_->Query("FETCH " + std::to_string(per_fetch) + " FROM " + kValueCursor, action_));
    if (pieces.rows() == 0) break;
    any = true;
    for (int r = 0; r < pieces.rows(); ++r) {
      const std::string_view hex = pieces.Get(r, 0);
      if (bytea) {
        LB_RETURN_IF_ERROR(Write(hex));
        continue;
      }
      std::optional<std::string> decoded = FromHex(hex);
      if (!decoded) return InternalError(action_ + ": the server sent a slice that is not hex");
      escaped.clear();
      AppendCopyText(*decoded, &escaped);
      LB_RETURN_IF_ERROR(Write(escaped));
    }
  }
  LB_RETURN_IF_ERROR(conn_->Exec("CLOSE " + std::string(kValueCursor), action_));
  if (!any) {
    return InternalError(action_ + ": the row at " + row.ctid + " vanished within the snapshot");
  }
  return OkStatus();
}

Result<TableStreamStats> SlicedTableWriter::Run(
    uint64_t progress_rows, const std::function<void(const TableStreamStats&)>& on_progress) {
  const std::string limit = std::to_string(limits_.value_bytes);
  std::string select, flags;
  // Per stored column: not sliced, or sliced as text or as bytea.
  enum class Kind { kPlain, kText, kBytea };
  std::vector<Kind> kinds(columns_.size(), Kind::kPlain);
  for (const PgSlicedColumn& c : sliced_) kinds[c.index] = c.bytea ? Kind::kBytea : Kind::kText;
  for (size_t i = 0; i < columns_.size(); ++i) {
    const std::string c = PgQuoteIdentifier(columns_[i].name);
    select += (i ? ", " : "");
    if (kinds[i] != Kind::kPlain) {
      select += "CASE WHEN " + OverLimit(c, limits_.value_bytes) + " THEN NULL ELSE " + c + " END";
      flags += (flags.empty() ? "" : ", ") + std::string("CASE WHEN ") +
               OverLimit(c, limits_.value_bytes) + " THEN '1' ELSE '0' END";
    } else {
      select += c;
    }
  }
  select += ", concat(" + flags + "), tableoid::oid, ctid";
  LB_RETURN_IF_ERROR(conn_->Exec("DECLARE " + std::string(kCursor) +
                                     " NO SCROLL CURSOR FOR SELECT " + select + " FROM " +
                                     table_.Qualified(),
                                 action_));
  const int n = static_cast<int>(columns_.size());
  std::string line;
  size_t batch = 64;
  uint64_t largest_row = 1;
  uint64_t next_report = progress_rows;
  for (;;) {
    LB_RETURN_IF_ERROR(cancel_->Check());
    LB_ASSIGN_OR_RETURN(
        PgResult rows,
        conn_->Query("FETCH " + std::to_string(batch) + " FROM " + kCursor, action_));
    if (rows.rows() == 0) break;
    for (int r = 0; r < rows.rows(); ++r) {
      const std::string_view flagged = rows.Get(r, n);
      const RowPosition position{rows.GetString(r, n + 1), rows.GetString(r, n + 2)};
      uint64_t row_bytes = 0;
      line.clear();
      size_t k = 0;  // index into the flags, one per sliced column
      for (int i = 0; i < n; ++i) {
        if (i) line += '\t';
        const Kind kind = kinds[static_cast<size_t>(i)];
        if (kind != Kind::kPlain && flagged[k++] == '1') {
          LB_RETURN_IF_ERROR(Write(line));
          line.clear();
          LB_RETURN_IF_ERROR(StreamValue(PgQuoteIdentifier(columns_[static_cast<size_t>(i)].name),
                                         kind == Kind::kBytea, position));
        } else if (rows.IsNull(r, i)) {
          line += "\\N";
        } else {
          const std::string_view value = rows.Get(r, i);
          row_bytes += value.size();
          AppendCopyText(value, &line);
        }
      }
      line += '\n';
      LB_RETURN_IF_ERROR(Write(line));
      largest_row = std::max(largest_row, row_bytes);
      if (++stats_.rows == next_report) {
        if (on_progress) on_progress(stats_);
        next_report += progress_rows;
      }
    }
    batch = static_cast<size_t>(
        std::clamp<uint64_t>(limits_.batch_bytes / largest_row, 1, kMaxBatchRows));
  }
  LB_RETURN_IF_ERROR(conn_->Exec("CLOSE " + std::string(kCursor), action_));
  return stats_;
}

}  // namespace

void AppendCopyText(std::string_view value, std::string* out) {
  size_t plain = 0;  // start of the run of bytes that need no escape
  for (size_t i = 0; i < value.size(); ++i) {
    char escape = 0;
    switch (value[i]) {
      case '\\': escape = '\\'; break;
      case '\b': escape = 'b'; break;
      case '\f': escape = 'f'; break;
      case '\n': escape = 'n'; break;
      case '\r': escape = 'r'; break;
      case '\t': escape = 't'; break;
      case '\v': escape = 'v'; break;
      default: continue;
    }
    out->append(value.data() + plain, i - plain);
    out->push_back('\\');
    out->push_back(escape);
    plain = i + 1;
  }
  out->append(value.data() + plain, value.size() - plain);
}

Result<std::vector<PgSlicedColumn>> FindLargeValueColumns(PgConnection* conn, const PgTable& table,
                                                          const std::vector<ColumnInfo>& columns,
                                                          const PgLargeValueLimits& limits) {
  const std::string action = "looking for large values in table " + table.name;
  LB_ASSIGN_OR_RETURN(
      PgResult toast,
      conn->Query("SELECT coalesce(sum(pg_relation_size(c.reltoastrelid)), 0) FROM pg_class c "
                  "WHERE c.reltoastrelid <> 0 AND (c.oid = $1::oid OR "
                  "c.oid IN (SELECT relid FROM pg_partition_tree($1::oid)))",
                  action, {table.oid}));
  if (toast.GetInt64(0, 0) == 0 && limits.value_bytes >= kInlineBound) {
    return std::vector<PgSlicedColumn>();
  }
  // Columns whose type, through any domains, is bytea, text or varchar.
  LB_ASSIGN_OR_RETURN(
      PgResult typed,
      conn->Query("WITH RECURSIVE base(attname, typ, depth) AS ("
                  "  SELECT a.attname::text, a.atttypid, 0 FROM pg_attribute a"
                  "  WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped"
                  "  UNION ALL"
                  "  SELECT b.attname, t.typbasetype, b.depth + 1 FROM base b"
                  "  JOIN pg_type t ON t.oid = b.typ WHERE t.typtype = 'd' AND b.depth < 32)"
                  "SELECT attname, typ = 'bytea'::regtype FROM base"
                  " WHERE typ IN ('bytea'::regtype, 'text'::regtype, 'varchar'::regtype)",
                  action, {table.oid}));
  std::vector<PgSlicedColumn> candidates;
  std::string any;
  for (int r = 0; r < typed.rows(); ++r) {
    const std::string name = typed.GetString(r, 0);
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].name != name) continue;
      candidates.push_back(PgSlicedColumn{i, typed.GetBool(r, 1)});
      any += (any.empty() ? "" : " OR ") + OverLimit(PgQuoteIdentifier(name), limits.value_bytes);
    }
  }
  if (candidates.empty()) return candidates;
  std::sort(candidates.begin(), candidates.end(),
            [](const PgSlicedColumn& a, const PgSlicedColumn& b) { return a.index < b.index; });
  LB_ASSIGN_OR_RETURN(PgResult found, conn->Query("SELECT EXISTS (SELECT 1 FROM " +
                                                      table.Qualified() + " WHERE " + any + ")",
                                                  action));
  if (!found.GetBool(0, 0)) candidates.clear();
  return candidates;
}

Result<TableStreamStats> StreamTableWithLargeValues(
    PgConnection* conn, const PgTable& table, const std::vector<ColumnInfo>& columns,
    const std::vector<PgSlicedColumn>& sliced, const PgLargeValueLimits& limits, ByteSink* out,
    CancellationToken* cancel, uint64_t progress_rows,
    const std::function<void(const TableStreamStats&)>& on_progress) {
  SlicedTableWriter writer(conn, table, columns, sliced, limits, out, cancel);
  return writer.Run(progress_rows, on_progress);
}

}  // namespace lifeboat
