#include "source/postgres/pg_read_snapshot.h"

#include <unistd.h>

#include "base/subprocess.h"

namespace lifeboat {

std::string PgDumpProgram(int server_version) {
  // Debian's /usr/bin/pg_dump is a Perl wrapper that chooses among the installed versions the
  // same way; calling the binary saves the wrapper's 40 ms of CPU per call.
  const int major = server_version / 10000;
  for (int candidate = major + 10; candidate >= major; --candidate) {
    const std::string path = "/usr/lib/postgresql/" + std::to_string(candidate) + "/bin/pg_dump";
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return "pg_dump";
}

std::string PgCopyColumns(const TableInfo& table) {
  std::string out = "(";
  for (const ColumnInfo& c : table.columns) {
    if (c.hidden) continue;
    if (out.size() > 1) out += ", ";
    out += PgQuoteIdentifier(c.name);
  }
  return out + ")";
}

Result<std::unique_ptr<PgReadSnapshot>> PgReadSnapshot::Begin(
    std::unique_ptr<PgConnection> conn, std::vector<std::string> schemas,
    std::function<Result<std::unique_ptr<PgConnection>>()> connect) {
  LB_RETURN_IF_ERROR(conn->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                                "starting a read transaction"));
  LB_ASSIGN_OR_RETURN(PgResult exported,
                      conn->Query("SELECT pg_export_snapshot()", "exporting the snapshot"));
  auto snapshot = std::make_unique<PgReadSnapshot>(conn.get(), std::move(schemas));
  snapshot->exported_ = exported.GetString(0, 0);
  snapshot->helper_ = snapshot->conn_->HelperConnection();
  snapshot->described_ = snapshot->conn_->described();
  snapshot->pg_dump_ = PgDumpProgram(snapshot->conn_->server_version());
  snapshot->owned_ = std::move(conn);
  snapshot->connect_ = std::move(connect);
  return snapshot;
}

Result<std::unique_ptr<ReadSnapshot>> PgReadSnapshot::Fork() {
  if (exported_.empty() || !connect_) return std::unique_ptr<ReadSnapshot>();
  LB_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, connect_());
  LB_RETURN_IF_ERROR(
      conn->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
                 "SET TRANSACTION SNAPSHOT " +
                     PgQuoteString(exported_),
                 "importing the backup's snapshot"));
  auto fork = std::make_unique<PgReadSnapshot>(conn.get(), schemas_);
  fork->owned_ = std::move(conn);
  fork->catalog_ = catalog_;
  fork->large_values_ = large_values_;
  fork->sliced_ = sliced_;
  fork->part_pages_ = part_pages_;
  return std::unique_ptr<ReadSnapshot>(std::move(fork));
}

PgReadSnapshot::PgReadSnapshot(PgConnection* conn, std::vector<std::string> schemas)
    : conn_(conn), schemas_(std::move(schemas)) {}

PgReadSnapshot::~PgReadSnapshot() {
  if (owned_) owned_->Exec("ROLLBACK", "ending the read transaction").IgnoreError();
}

Result<const PgCatalog*> PgReadSnapshot::Catalog() {
  if (!catalog_) {
    LB_ASSIGN_OR_RETURN(PgCatalog catalog, ReadPgCatalog(conn_, schemas_));
    catalog_ = std::move(catalog);
  }
  return &*catalog_;
}

Result<const PgTable*> PgReadSnapshot::Find(const std::string& name) {
  LB_ASSIGN_OR_RETURN(const PgCatalog* catalog, Catalog());
  auto it = catalog->tables.find(name);
  if (it == catalog->tables.end()) {
    return NotFoundError("table " + name + " does not exist on PostgreSQL " + conn_->described());
  }
  return &it->second;
}

Result<InstanceSchema> PgReadSnapshot::Describe() {
  LB_ASSIGN_OR_RETURN(const PgCatalog* catalog, Catalog());
  return catalog->schema;
}

Result<std::optional<std::string>> PgReadSnapshot::QueryVersion(const std::string& sql) {
  LB_RETURN_IF_ERROR(conn_->Exec("SAVEPOINT lifeboat_version", "reading the version"));
  Result<PgResult> result = conn_->Query(sql, "running the version query");
  if (!result.ok()) {
    LB_RETURN_IF_ERROR(
        conn_->Exec("ROLLBACK TO SAVEPOINT lifeboat_version; "
                    "RELEASE SAVEPOINT lifeboat_version",
                    "reading the version"));
    return result.status();
  }
  LB_RETURN_IF_ERROR(conn_->Exec("RELEASE SAVEPOINT lifeboat_version", "reading the version"));
  if (result->rows() == 0 || result->IsNull(0, 0)) return std::optional<std::string>();
  return std::optional<std::string>(result->GetString(0, 0));
}

Result<uint64_t> PgReadSnapshot::EstimateSize(const TableInfo& table) {
  LB_ASSIGN_OR_RETURN(const PgTable* found, Find(table.name));
  return PgTableBytes(conn_, *found);
}

Result<TableStreamStats> PgReadSnapshot::StreamTable(
    const TableInfo& table, ByteSink* out, CancellationToken* cancel,
    const std::function<void(const TableStreamStats&)>& on_progress) {
  return StreamTablePart(table, TablePart{}, out, cancel, on_progress);
}

namespace {

std::string PageTid(uint64_t page) {
  return PgQuoteString("(" + std::to_string(page) + ",0)");
}

}  // namespace

Result<std::vector<PgSlicedColumn>> PgReadSnapshot::FindSliced(const PgTable& found,
                                                               const TableInfo& table) {
  {
    std::lock_guard<std::mutex> lock(sliced_->mu);
    auto known = sliced_->by_table.find(table.name);
    if (known != sliced_->by_table.end()) return known->second;
  }
  LB_ASSIGN_OR_RETURN(std::vector<PgSlicedColumn> sliced,
                      FindLargeValueColumns(conn_, found, StoredColumns(table), large_values_));
  std::lock_guard<std::mutex> lock(sliced_->mu);
  sliced_->by_table[table.name] = sliced;
  return sliced;
}

Result<std::vector<TablePart>> PgReadSnapshot::SplitTable(const TableInfo& table) {
  std::vector<TablePart> parts = {TablePart{}};
  // Before PostgreSQL 14 a ctid range is a filter on a scan of the whole table.
  if (conn_->server_version() < 140000 || part_pages_ == 0) return parts;
  LB_ASSIGN_OR_RETURN(const PgTable* found, Find(table.name));
  if (found->partitioned) return parts;
  LB_ASSIGN_OR_RETURN(
      PgResult size,
      conn_->Query("SELECT pg_relation_size($1::oid) / current_setting('block_size')::bigint",
                   "measuring table " + table.name, {found->oid}));
  const uint64_t pages = static_cast<uint64_t>(size.GetInt64(0, 0));
  if (pages <= part_pages_) return parts;
  LB_ASSIGN_OR_RETURN(std::vector<PgSlicedColumn> sliced, FindSliced(*found, table));
  if (!sliced.empty()) return parts;
  parts.clear();
  // The last part is open-ended: pages added after the size was read hold no row the snapshot
  // sees, but the part reads them all the same.
  for (uint64_t first = 0; first < pages; first += part_pages_) {
    TablePart part{first, first + part_pages_};
    if (first + part_pages_ >= pages) part.end_page.reset();
    parts.push_back(part);
  }
  return parts;
}

Result<TableStreamStats> PgReadSnapshot::StreamTablePart(
    const TableInfo& table, const TablePart& part, ByteSink* out, CancellationToken* cancel,
    const std::function<void(const TableStreamStats&)>& on_progress) {
  LB_ASSIGN_OR_RETURN(const PgTable* found, Find(table.name));
  const std::string columns = PgCopyColumns(table);
  std::string sql;
  if (part.whole()) {
    LB_ASSIGN_OR_RETURN(std::vector<PgSlicedColumn> sliced, FindSliced(*found, table));
    if (!sliced.empty()) {
      return StreamTableWithLargeValues(conn_, *found, StoredColumns(table), sliced, large_values_,
                                        out, cancel, kProgressRows, on_progress);
    }
    // COPY reads a partitioned table only through a query.
    sql = found->partitioned ? "COPY (SELECT " + columns.substr(1, columns.size() - 2) + " FROM " +
                                   found->Qualified() + ") TO STDOUT"
                             : "COPY " + found->Qualified() + " " + columns + " TO STDOUT";
  } else {
    // SplitTable left tables with large values and partitioned ones whole. ONLY: an
    // inheritance parent's COPY holds its own rows, not its children's.
    sql = "COPY (SELECT " + columns.substr(1, columns.size() - 2) + " FROM ONLY " +
          found->Qualified() + " WHERE ctid >= " + PageTid(part.first_page) +
          (part.end_page ? " AND ctid < " + PageTid(*part.end_page) : "") + ") TO STDOUT";
  }
  const std::string action =
      part.whole()
          ? "reading table " + table.name
          : "reading table " + table.name + " from page " + std::to_string(part.first_page) +
                (part.end_page ? " to page " + std::to_string(*part.end_page) : "");
  TableStreamStats stats;
  LB_RETURN_IF_ERROR(conn_->CopyOut(sql, action, cancel, [&](std::string_view row) {
    Status written = out->Write(row);
    if (!written.ok()) return written;
    ++stats.rows;
    stats.bytes += row.size();
    if (on_progress && stats.rows % kProgressRows == 0) on_progress(stats);
    return OkStatus();
  }));
  return stats;
}

Result<std::vector<SequenceValue>> PgReadSnapshot::ReadSequences(
    const std::vector<std::string>& tables) {
  std::vector<PgTable> found;
  for (const std::string& name : tables) {
    LB_ASSIGN_OR_RETURN(const PgTable* table, Find(name));
    found.push_back(*table);
  }
  return ReadPgSequences(conn_, found);
}

Result<std::optional<SchemaScripts>> PgReadSnapshot::DumpSchema(CancellationToken* cancel) {
  if (exported_.empty()) return std::optional<SchemaScripts>();
  SchemaScripts scripts;
  scripts.kind = "pg_dump";
  const auto& [conninfo, env] = helper_;
  for (const char* section : {"pre-data", "post-data"}) {
    std::vector<std::string> argv = {pg_dump_,
                                     "--schema-only",
                                     "--no-owner",
                                     "--no-privileges",
                                     "--section=" + std::string(section),
                                     "--snapshot=" + exported_};
    for (const std::string& schema : schemas_) argv.push_back("--schema=" + schema);
    argv.push_back("--dbname=" + conninfo);
    std::string& out = section == std::string("pre-data") ? scripts.pre_data : scripts.post_data;
    Status dumped = RunProcess(
        argv, env,
        [&](std::string_view data) {
          out.append(data);
          return OkStatus();
        },
        cancel);
    if (!dumped.ok()) {
      return dumped.WithContext("dumping the schema of PostgreSQL " + described_ +
                                " with pg_dump (Debian package postgresql-client)");
    }
  }
  return std::optional<SchemaScripts>(std::move(scripts));
}

}  // namespace lifeboat
