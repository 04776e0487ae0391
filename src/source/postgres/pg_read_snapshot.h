// PgReadSnapshot: a ReadSnapshot (source.h) of a PostgreSQL database at one point in time.
//
// A snapshot made by Begin() owns its connection and a `REPEATABLE READ, READ ONLY`
// transaction, whose snapshot it exports (pg_export_snapshot) so that other connections can
// read the same point in time. One made with the borrowing constructor reads inside a
// transaction owned by someone else (the restore's, which holds the tables locked).
//
// Rows stream as `COPY table (stored columns) TO STDOUT` in text format, in the table's
// physical order, exactly as pg_dump reads them (FORMAT.md section 8.1); a partitioned table
// is read through its parent, partition after partition. Generated columns are left out. A
// table that holds values over 8 MiB is read through a cursor with those values fetched in
// slices (pg_large_values.h), which writes the same bytes with bounded memory.
// On PostgreSQL 14 and newer a table of more than part_pages() heap pages is read in parts of
// that many pages (SplitTable), each `COPY (SELECT stored columns FROM ONLY table WHERE ctid
// >= '(first,0)' AND ctid < '(end,0)') TO STDOUT`, a TID range scan that reads only those
// pages; the parts' streams, in order, are the bytes of the whole table's COPY. Partitioned
// tables and tables read through a cursor stay whole.
// The version query runs inside a savepoint, so that a failing one does not end the snapshot.
//
// Thread-safety: one thread at a time, except DumpSchema, which may run on another thread while
// this one streams tables (it uses only what Begin recorded, not the connection). Ownership: the
// borrowed connection must outlive the snapshot.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "source/postgres/pg_catalog.h"
#include "source/postgres/pg_connection.h"
#include "source/postgres/pg_large_values.h"
#include "source/source.h"

namespace lifeboat {

class PgReadSnapshot : public ReadSnapshot {
 public:
  static constexpr uint64_t kProgressRows = 4096;

  // `connect` opens the connections of forks.
  static Result<std::unique_ptr<PgReadSnapshot>> Begin(
      std::unique_ptr<PgConnection> conn, std::vector<std::string> schemas,
      std::function<Result<std::unique_ptr<PgConnection>>()> connect);
  // Reads through `conn` inside its current transaction.
  PgReadSnapshot(PgConnection* conn, std::vector<std::string> schemas);
  ~PgReadSnapshot() override;

  Result<InstanceSchema> Describe() override;
  Result<std::optional<std::string>> QueryVersion(const std::string& sql) override;
  Result<uint64_t> EstimateSize(const TableInfo& table) override;
  Result<TableStreamStats> StreamTable(
      const TableInfo& table, ByteSink* out, CancellationToken* cancel,
      const std::function<void(const TableStreamStats&)>& on_progress) override;
  Result<std::vector<TablePart>> SplitTable(const TableInfo& table) override;
  Result<TableStreamStats> StreamTablePart(
      const TableInfo& table, const TablePart& part, ByteSink* out, CancellationToken* cancel,
      const std::function<void(const TableStreamStats&)>& on_progress) override;
  Result<std::vector<SequenceValue>> ReadSequences(const std::vector<std::string>& tables) override;
  // pg_dump --schema-only of the instance's schemas, pre-data and post-data, on the exported
  // snapshot, without owners and privileges (roles belong to the cluster, not the database).
  // nullopt for a borrowing snapshot: pg_dump could not share its transaction.
  Result<std::optional<SchemaScripts>> DumpSchema(CancellationToken* cancel) override;
  // A snapshot on a new connection that imports this one's (SET TRANSACTION SNAPSHOT), the
  // way pg_dump -j shares one point in time; nullptr for a borrowing snapshot or a fork.
  Result<std::unique_ptr<ReadSnapshot>> Fork() override;

  // Tables with values above these limits are read in slices (pg_large_values.h); forks
  // inherit them.
  void set_large_value_limits(const PgLargeValueLimits& limits) {
    large_values_ = limits;
    sliced_ = std::make_shared<SlicedColumns>();
  }
  // Heap pages per part of a split table (64 MiB of 8 KiB pages); forks inherit it. Fixed, so
  // that consecutive backups split a table at the same pages (FORMAT.md section 10).
  static constexpr uint64_t kPartPages = 8192;
  void set_part_pages(uint64_t pages) { part_pages_ = pages; }
  uint64_t part_pages() const { return part_pages_; }

  // The exported snapshot's name ("" for a borrowing snapshot).
  const std::string& exported() const { return exported_; }
  // The catalog as Describe read it (read on first use).
  Result<const PgCatalog*> Catalog();
  // Drops the catalog read so far: the next call reads it again.
  void ForgetCatalog() {
    catalog_.reset();
    sliced_ = std::make_shared<SlicedColumns>();
  }
  // The table Lifeboat calls `name`; NotFound naming the instance when there is none.
  Result<const PgTable*> Find(const std::string& name);

 private:
  std::unique_ptr<PgConnection> owned_;
  PgConnection* conn_;
  std::vector<std::string> schemas_;
  std::string exported_;
  // How pg_dump reaches the same server and database (conninfo, environment), from Begin.
  std::pair<std::string, std::vector<std::string>> helper_;
  std::string described_;
  std::string pg_dump_;  // the pg_dump program DumpSchema runs
  std::function<Result<std::unique_ptr<PgConnection>>()> connect_;
  std::optional<PgCatalog> catalog_;
  PgLargeValueLimits large_values_;
  // Which columns of a table are read in slices, found once per table and shared with the
  // forks (the same point in time): SplitTable asks, and so does the read of a whole table.
  struct SlicedColumns {
    std::mutex mu;
    std::map<std::string, std::vector<PgSlicedColumn>> by_table;
  };
  Result<std::vector<PgSlicedColumn>> FindSliced(const PgTable& found, const TableInfo& table);
  std::shared_ptr<SlicedColumns> sliced_ = std::make_shared<SlicedColumns>();
  uint64_t part_pages_ = kPartPages;
};

// The pg_dump to run against a server of `server_version` (PQserverVersion): the newest
// /usr/lib/postgresql/N/bin/pg_dump with N at least the server's major version, else
// "pg_dump" from PATH.
std::string PgDumpProgram(int server_version);

// The COPY column list of a table's stored columns: ("id", "title").
std::string PgCopyColumns(const TableInfo& table);

}  // namespace lifeboat
