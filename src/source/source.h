// Source: one database engine seen as a place to back up from and restore into. The ops
// layer talks only to this interface; only the engine layer names concrete drivers
// (SqliteSource now, PostgresSource later).
//
// Rows travel as the canonical row stream of docs/FORMAT.md section 8, produced by
// ReadSnapshot::StreamTable and consumed by RestoreTransaction::ReplaceTable. Values of any
// size stream in pieces: memory does not grow with a table or with one value.
//
// Thread-safety: a Source may be shared; each ReadSnapshot and RestoreTransaction belongs to
// one thread (but for ReadSnapshot::DumpSchema, which may run beside it). Ownership: the caller
// owns what Begin* returns; destroying an uncommitted RestoreTransaction rolls it back.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/byte_stream.h"
#include "base/cancellation.h"
#include "lifeboat/status.h"

namespace lifeboat {

struct ColumnInfo {
  std::string name;
  std::string type;  // declared type as written ("INTEGER", "varchar(20)")
  bool not_null = false;
  std::optional<std::string> default_sql;
  int pk_position = 0;  // 1-based position in the primary key, 0 if not in it
  bool hidden = false;  // generated or otherwise not stored: never copied
};

struct TableInfo {
  std::string name;
  std::vector<ColumnInfo> columns;
  bool rowid = false;            // rows carry an explicit rowid in the stream (section 8)
  std::string ddl;               // CREATE TABLE statement that recreates it in an empty database
  uint64_t estimated_bytes = 0;  // filled by EstimateSize
};

// The columns a table's row stream holds: all but the hidden ones, in order.
inline std::vector<ColumnInfo> StoredColumns(const TableInfo& table) {
  std::vector<ColumnInfo> stored;
  for (const ColumnInfo& c : table.columns) {
    if (!c.hidden) stored.push_back(c);
  }
  return stored;
}

// Indexes, triggers and views that belong to the tables (recreated on clone).
struct SchemaObject {
  std::string type;  // "index", "trigger", "view"
  std::string name;
  std::string table;  // the table it belongs to ("" for a view)
  std::string sql;
};

// A table the driver cannot copy (a virtual table, say): reported so that the manifest can
// list it under "excluded" (FORMAT.md section 10) instead of losing it silently.
struct SkippedTable {
  std::string name;
  std::string reason;  // "virtual table (module fts5): virtual tables are not supported yet"
};

struct InstanceSchema {
  std::vector<TableInfo> tables;      // user tables, sorted by name
  std::vector<SchemaObject> objects;  // sorted by (type, name)
  std::vector<SkippedTable> skipped;  // tables left out by the driver, sorted by name
};

// The value a table's id generator has reached (sqlite_sequence, PostgreSQL sequences).
struct SequenceValue {
  std::string table;
  std::string name;  // sequence name, schema-qualified ("" for SQLite's per-table sequence)
  int64_t value = 0;
  bool called = true;  // PostgreSQL's is_called: false when nextval() has not been called
};

// A database's own script of its schema, for a clone into an empty database (PostgreSQL:
// pg_dump --schema-only of the instance's schemas, FORMAT.md section 10).
struct SchemaScripts {
  std::string kind;       // "pg_dump"
  std::string pre_data;   // schemas, types, functions, tables, sequences: before rows load
  std::string post_data;  // indexes, constraints, triggers: after rows load
};

struct TableStreamStats {
  uint64_t rows = 0;
  uint64_t bytes = 0;  // bytes of row stream written
};

// A range of a table's rows that can be read on its own, so that one large table is read by
// several snapshots at once (PostgreSQL: the rows on heap pages [first_page, end_page)). The
// row streams of a table's parts, concatenated in order, are its row stream.
struct TablePart {
  uint64_t first_page = 0;
  std::optional<uint64_t> end_page;  // nullopt: to the end of the table
  bool whole() const { return first_page == 0 && !end_page; }
};

// A consistent, read-only view of the instance at one point in time.
class ReadSnapshot {
 public:
  virtual ~ReadSnapshot() = default;
  virtual Result<InstanceSchema> Describe() = 0;
  // Runs the profile's version query; nullopt when it returns no row, NotFound-like error
  // when the table it reads does not exist (an empty instance).
  virtual Result<std::optional<std::string>> QueryVersion(const std::string& sql) = 0;
  // Bytes the table occupies on disk (an estimate that does not read every row when the
  // engine offers a cheaper way).
  virtual Result<uint64_t> EstimateSize(const TableInfo& table) = 0;
  // Writes every row in rowid (or primary-key) order as the row stream of section 8.
  // `on_progress` (may be empty) is called every few thousand rows with the totals so far.
  virtual Result<TableStreamStats> StreamTable(
      const TableInfo& table, ByteSink* out, CancellationToken* cancel,
      const std::function<void(const TableStreamStats&)>& on_progress) = 0;
  // The parts `table` may be read in, in order (FORMAT.md section 10, "parts"): one whole
  // part unless the driver can read ranges of a table on their own.
  virtual Result<std::vector<TablePart>> SplitTable(const TableInfo& table) {
    (void)table;
    return std::vector<TablePart>{TablePart{}};
  }
  // StreamTable for one part of those SplitTable gave.
  virtual Result<TableStreamStats> StreamTablePart(
      const TableInfo& table, const TablePart& part, ByteSink* out, CancellationToken* cancel,
      const std::function<void(const TableStreamStats&)>& on_progress) {
    if (!part.whole()) {
      return UnimplementedError("table " + table.name + " cannot be read in parts");
    }
    return StreamTable(table, out, cancel, on_progress);
  }
  virtual Result<std::vector<SequenceValue>> ReadSequences(
      const std::vector<std::string>& tables) = 0;
  // Another snapshot of the same point in time on a connection of its own, so that tables can
  // be read in parallel (PostgreSQL: an imported snapshot). nullptr when the driver cannot.
  virtual Result<std::unique_ptr<ReadSnapshot>> Fork() { return std::unique_ptr<ReadSnapshot>(); }
  // The schema as a script of the database's own, when the driver keeps one (nullopt: the
  // tables' DDL and schema objects describe it, as for SQLite). May run on a thread of its own
  // while the snapshot's thread streams tables.
  virtual Result<std::optional<SchemaScripts>> DumpSchema(CancellationToken* cancel) {
    (void)cancel;
    return std::optional<SchemaScripts>();
  }
};

// What loads the rows of tables into a restore (a RestoreTransaction itself, or one of the
// loaders RestoreTransaction::CloneLoaders gives).
class TableLoader {
 public:
  virtual ~TableLoader() = default;
  // Deletes every row of `table` and loads the rows of `rows` (section 8) without firing
  // triggers. The table must exist with the same columns.
  virtual Result<TableStreamStats> ReplaceTable(const TableInfo& table, ByteReader* rows,
                                                CancellationToken* cancel) = 0;
};

// An open restore: the instance is held exclusively (maintenance) from BeginRestore until
// Commit or Rollback; the application's connections wait or fail meanwhile. A restore is all
// or nothing: when CreateMissing, ReplaceTable, SetSequences or Commit fails, the whole
// transaction is rolled back at once (nothing was changed) and every later call fails.
class RestoreTransaction : public TableLoader {
 public:
  // Reads the current state inside the same exclusive hold (for the safety backup and the
  // version check). Owned by the transaction.
  virtual ReadSnapshot* Reader() = 0;
  // Creates the tables and their schema objects that do not exist yet (clone into an empty
  // database). Objects of tables that exist are left as they are.
  virtual Status CreateMissing(const std::vector<TableInfo>& tables,
                               const std::vector<SchemaObject>& objects) = 0;
  // Announces, once and before the first ReplaceTable, every table that will be replaced, so
  // that a driver can empty them together (PostgreSQL truncates tables that reference each
  // other in one statement). The default does nothing.
  virtual Status PrepareReplace(const std::vector<TableInfo>& tables) {
    (void)tables;
    return OkStatus();
  }
  virtual Status SetSequences(const std::vector<SequenceValue>& values) = 0;
  // A clone from SchemaScripts: CreateFromScript runs the pre-data part before the rows load,
  // CompleteFromScript the post-data part after them. Unimplemented unless the driver keeps
  // scripts.
  virtual Status CreateFromScript(const SchemaScripts& scripts) {
    return UnimplementedError("schema scripts of kind " + scripts.kind + " are not supported");
  }
  virtual Status CompleteFromScript(const SchemaScripts& scripts) {
    return UnimplementedError("schema scripts of kind " + scripts.kind + " are not supported");
  }
  // For a clone from SchemaScripts, after CreateFromScript and before PrepareReplace: up to
  // `wanted` more loaders, each of which may load tables on a thread of its own while this
  // transaction's ReplaceTable loads others. Only a driver that keeps a clone all or nothing
  // without one transaction gives any (PostgreSQL, into empty schemas: pg_clone_mark.h); the
  // others, and a driver that cannot here, give none and the clone stays one transaction.
  // The loaders belong to the transaction; when one fails, the caller stops using them and
  // the whole clone is undone by Rollback (or the destructor).
  virtual Result<std::vector<TableLoader*>> CloneLoaders(int wanted) {
    (void)wanted;
    return std::vector<TableLoader*>();
  }
  // Leaves a record inside the transaction from which a later process learns, through
  // Source::RestoreCommitState, whether Commit took effect, even when this one dies during it
  // (a restore swaps its files in only after the commit, FORMAT.md section 13). Call it once,
  // just before Commit; returns the record's token.
  virtual Result<std::string> RecordCommitToken() = 0;
  // Checks foreign keys of the touched tables (error names the offending tables, and the
  // transaction is rolled back), then commits atomically.
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
};

// Whether the restore transaction that recorded a commit token committed.
enum class CommitState {
  kCommitted,
  kRolledBack,
  kUnknown,  // the database no longer knows (PostgreSQL forgets the status of very old ones)
};

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string kind() const = 0;  // "sqlite"
  // Where it is, without secrets, for messages and manifests.
  virtual std::string Describe() const = 0;
  virtual Result<std::unique_ptr<ReadSnapshot>> BeginRead() = 0;
  // Fails with Aborted when the instance cannot be locked exclusively within `wait_millis`.
  virtual Result<std::unique_ptr<RestoreTransaction>> BeginRestore(int wait_millis) = 0;
  // Takes the instance out of a maintenance mode that a killed restore left behind; returns
  // what it did ("" when there was nothing to do). Aborted while a live restore holds it.
  virtual Result<std::string> LeaveMaintenance() { return std::string(); }
  // What became of the restore transaction that recorded `token` (RecordCommitToken). Only
  // for a transaction that has ended: its process is gone or it returned from Commit.
  virtual Result<CommitState> RestoreCommitState(const std::string& token) = 0;
  // Removes what RecordCommitToken left in the database, once nothing needs it any more.
  virtual Status ForgetCommitToken(const std::string& token) = 0;
};

}  // namespace lifeboat
