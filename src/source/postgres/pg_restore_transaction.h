// PgRestoreTransaction: a RestoreTransaction (source.h) on PostgreSQL, in one transaction.
//
// Begin locks every table of the instance's schemas in ACCESS EXCLUSIVE mode (waiting at
// most `wait_millis`, then Aborted naming the instance), so the application can neither read
// nor write them until the end. Triggers and foreign-key checks are held back while rows
// load: with `session_replication_role = replica` when the role may set it (a superuser, or
// on PostgreSQL 15 and newer `GRANT SET ON PARAMETER session_replication_role`), with the
// user triggers that fire in replica mode too (ENABLE ALWAYS or REPLICA) disabled by name;
// otherwise the enabled user triggers are disabled, and the foreign keys that touch the
// replaced tables are made DEFERRABLE INITIALLY DEFERRED until the commit, when they are
// checked and set back as they were (slower: every loaded row queues a check). Each trigger
// gets its own mode back at the commit.
// PrepareReplace empties the replaced tables with one TRUNCATE; a table that a table outside
// the restore references is emptied with DELETE instead (only under the replica role, where
// DELETE fires no foreign-key action). Rows load with `COPY ... FROM STDIN`, `WITH (FREEZE)`
// into the tables the TRUNCATE emptied. Plain indexes of those tables (not unique, backing no
// constraint, nothing depending on them, no comment, tablespace, statistics target, replica
// identity or cluster mark, not part of a partitioned index) are dropped for the load and
// built again from their definitions before the commit: building an index is faster than
// maintaining it row by row. Commit checks every foreign key that touches a
// replaced table (one anti-join per key; not after a clone's post-data script, whose ALTER
// TABLE ... ADD FOREIGN KEY checked them) and names the offending constraint and tables
// before it commits; any failure rolls everything back. Sequences are restarted before they
// are set, so that a rollback undoes them too. A commit after which connections could not be
// allowed again is a restore that happened: Commit returns OK and says, through `on_notice`,
// that maintenance is still on and how to leave it.
//
// A clone from pg_dump's scripts into schemas that hold no object, with connections refused
// and helper connections at hand, may be staged instead (CloneLoaders): the schema commits
// together with the clone mark (pg_clone_mark.h), every table then loads in a transaction of
// its own (TRUNCATE, COPY ... FREEZE) on whichever connection is free, post-data's primary
// keys, unique constraints and indexes are built on all connections at once, and the rest of
// post-data, the sequences and the removal of the mark are the last transaction. A failure
// undoes the clone (UndoPgClone) before maintenance ends; a kill leaves the mark for the next
// run to undo.
//
// Thread-safety: one thread, but for the loaders CloneLoaders returns, each of which may run on
// a thread of its own beside this one's ReplaceTable. Ownership: owns its connections.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "source/postgres/pg_connection.h"
#include "source/postgres/pg_maintenance.h"
#include "source/postgres/pg_read_snapshot.h"
#include "source/source.h"

namespace lifeboat {

class PgRestoreTransaction : public RestoreTransaction {
 public:
  // `maintenance` (pg_maintenance.h) is left when the transaction ends, however it ends.
  // `helpers`, connections to the same database opened before maintenance refused new ones,
  // are what a staged clone loads and indexes with.
  static Result<std::unique_ptr<PgRestoreTransaction>> Begin(
      std::unique_ptr<PgConnection> conn, std::vector<std::string> schemas, int wait_millis,
      PgMaintenance maintenance = {}, std::vector<std::unique_ptr<PgConnection>> helpers = {});
  ~PgRestoreTransaction() override;

  ReadSnapshot* Reader() override { return &reader_; }
  PgReadSnapshot& reader() { return reader_; }
  void set_on_notice(std::function<void(const std::string&)> on_notice) {
    on_notice_ = std::move(on_notice);
  }
  Status CreateMissing(const std::vector<TableInfo>& tables,
                       const std::vector<SchemaObject>& objects) override;
  Status PrepareReplace(const std::vector<TableInfo>& tables) override;
  Result<TableStreamStats> ReplaceTable(const TableInfo& table, ByteReader* rows,
                                        CancellationToken* cancel) override;
  Status SetSequences(const std::vector<SequenceValue>& values) override;
  // Stages the clone (see above) when it may: after CreateFromScript, before PrepareReplace;
  // none otherwise (the clone stays one transaction).
  Result<std::vector<TableLoader*>> CloneLoaders(int wanted) override;
  // Runs pg_dump's script: `\restrict` lines (psql commands) are left out and `CREATE SCHEMA`
  // becomes `CREATE SCHEMA IF NOT EXISTS`, so that an existing empty schema is fine.
  Status CreateFromScript(const SchemaScripts& scripts) override;
  Status CompleteFromScript(const SchemaScripts& scripts) override;
  // The transaction's id, with its epoch (txid_current()): "xid:<decimal>".
  Result<std::string> RecordCommitToken() override;
  Status Commit() override;
  void Rollback() override;

  // Whether the load runs with session_replication_role = replica.
  bool replica_role() const { return replica_role_; }
  // Whether the clone was staged over several connections.
  bool staged() const { return staged_; }

 private:
  class Loader;

  PgRestoreTransaction(std::unique_ptr<PgConnection> conn, std::vector<std::string> schemas);
  // Ends the transaction (COMMIT or ROLLBACK) and leaves maintenance.
  Status End(const std::string& sql);
  // Runs `step`; on failure rolls back at once and keeps the error for every later call.
  Status Guard(Status status);
  Status CheckForeignKeys();
  Status RunScript(const std::string& script, const std::string& action);
  // Post-data of a staged clone: the entries that may run in parallel on every connection,
  // then the others in a new transaction, the last one.
  Status CompleteStaged(const std::string& post_data);
  // Undoes a staged clone that did not commit and leaves maintenance (which stays on, with
  // the mark, when the undo fails: the next run undoes it).
  void UndoStaged();
  // Disables, one by one, the user triggers that would fire while the tables are emptied and
  // loaded, keeping their modes for the commit.
  Status HoldBackTriggers();
  // Drops the plain indexes of the truncated tables, keeping their definitions.
  Status DropPlainIndexes();

  std::unique_ptr<PgConnection> conn_;
  PgReadSnapshot reader_;
  PgMaintenance maintenance_;
  bool open_ = true;
  Status failed_;
  bool replica_role_ = false;
  bool prepared_ = false;
  std::vector<std::string> replaced_oids_;
  std::set<std::string> truncated_oids_;      // emptied by TRUNCATE: loaded WITH (FREEZE)
  std::vector<std::string> indexes_dropped_;  // their CREATE INDEX statements, for the commit
  bool keys_checked_by_script_ = false;       // post-data created (and so checked) every key
  // A user trigger disabled for the load: its table and name (quoted) and its mode before.
  struct HeldTrigger {
    std::string table;
    std::string name;
    std::string mode;  // pg_trigger.tgenabled: "O", "A" or "R"
  };
  std::vector<HeldTrigger> triggers_disabled_;
  std::vector<PgForeignKey> keys_deferred_;  // made deferrable for the load, not in replica mode
  bool constraints_deferred_ = false;        // SET CONSTRAINTS ALL DEFERRED ran
  std::vector<std::unique_ptr<PgConnection>> helpers_;
  bool may_stage_ = false;  // pre-data ran into empty schemas, connections are refused
  bool staged_ = false;
  bool committed_ = false;
  std::function<void(const std::string&)> on_notice_;
  std::map<std::string, PgTable> staged_tables_;  // read once staged, shared by the loaders
  std::vector<std::unique_ptr<Loader>> loaders_;
};

}  // namespace lifeboat
