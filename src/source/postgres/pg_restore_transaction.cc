#include "source/postgres/pg_restore_transaction.h"

#include <algorithm>
#include <map>

#include "base/crash_point.h"
#include "base/work_queue.h"
#include "source/postgres/pg_catalog.h"
#include "source/postgres/pg_clone_mark.h"
#include "source/postgres/pg_dump_script.h"

namespace lifeboat {
namespace {

// Loads one table of a staged clone in a transaction of its own, frozen into the table the
// same transaction truncated (a partitioned table is loaded through its parent, unfrozen).
Result<TableStreamStats> LoadStagedTable(PgConnection* conn,
                                         const std::map<std::string, PgTable>& tables,
                                         const TableInfo& table, ByteReader* rows,
                                         CancellationToken* cancel) {
  auto found = tables.find(table.name);
  if (found == tables.end()) {
    return NotFoundError("table " + table.name + " was not created on PostgreSQL " +
                         conn->described() + " by the backup's schema script");
  }
  const PgTable& t = found->second;
  const std::string action = "loading table " + table.name;
  LB_RETURN_IF_ERROR(
      conn->Exec(t.partitioned ? "BEGIN" : "BEGIN; TRUNCATE " + t.Qualified(), action));
  Result<uint64_t> loaded =
      conn->CopyIn("COPY " + t.Qualified() + " " + PgCopyColumns(table) + " FROM STDIN" +
                       (t.partitioned ? "" : " WITH (FREEZE)"),
                   action, rows, cancel);
  Status committed = loaded.ok() ? conn->Exec("COMMIT", action) : loaded.status();
  if (!committed.ok()) {
    conn->Exec("ROLLBACK", action).IgnoreError();
    return committed;
  }
  TableStreamStats stats;
  stats.rows = *loaded;
  return stats;
}

}  // namespace

class PgRestoreTransaction::Loader : public TableLoader {
 public:
  Loader(PgConnection* conn, const std::map<std::string, PgTable>* tables)
      : conn_(conn), tables_(tables) {}
  Result<TableStreamStats> ReplaceTable(const TableInfo& table, ByteReader* rows,
                                        CancellationToken* cancel) override {
    return LoadStagedTable(conn_, *tables_, table, rows, cancel);
  }

 private:
  PgConnection* conn_;
  const std::map<std::string, PgTable>* tables_;
};

Result<std::unique_ptr<PgRestoreTransaction>> PgRestoreTransaction::Begin(
    std::unique_ptr<PgConnection> conn, std::vector<std::string> schemas, int wait_millis,
    PgMaintenance maintenance, std::vector<std::unique_ptr<PgConnection>> helpers) {
  std::unique_ptr<PgRestoreTransaction> tx(
      new PgRestoreTransaction(std::move(conn), std::move(schemas)));
  tx->maintenance_ = std::move(maintenance);
  tx->helpers_ = std::move(helpers);
  PgConnection* c = tx->conn_.get();
  LB_RETURN_IF_ERROR(
      c->Exec("BEGIN; SET LOCAL lock_timeout = " + std::to_string(std::max(wait_millis, 1)),
              "starting the restore transaction"));
  LB_ASSIGN_OR_RETURN(const PgCatalog* catalog, tx->reader_.Catalog());
  if (!catalog->tables.empty()) {
    std::string tables;
    for (const auto& [name, table] : catalog->tables) {
      tables += (tables.empty() ? "" : ", ") + table.Qualified();
    }
    Status locked = c->Exec("LOCK TABLE " + tables + " IN ACCESS EXCLUSIVE MODE",
                            "locking the tables for the restore");
    if (locked.code() == StatusCode::kAborted) {
      return AbortedError("PostgreSQL " + c->described() +
                          " is in use: its tables could not be locked within " +
                          std::to_string(wait_millis) +
                          " ms (another session holds them); stop the application or retry");
    }
    LB_RETURN_IF_ERROR(locked);
  }
  // The catalog read before the lock may be stale: read it again under the lock.
  tx->reader_.ForgetCatalog();
  LB_RETURN_IF_ERROR(c->Exec("SAVEPOINT lifeboat_role", "starting the restore"));
  if (c->Exec("SET LOCAL session_replication_role = replica", "holding back triggers").ok()) {
    tx->replica_role_ = true;
    LB_RETURN_IF_ERROR(c->Exec("RELEASE SAVEPOINT lifeboat_role", "starting the restore"));
  } else {
    LB_RETURN_IF_ERROR(
        c->Exec("ROLLBACK TO SAVEPOINT lifeboat_role; RELEASE SAVEPOINT lifeboat_role",
                "starting the restore"));
  }
  return tx;
}

PgRestoreTransaction::PgRestoreTransaction(std::unique_ptr<PgConnection> conn,
                                           std::vector<std::string> schemas)
    : conn_(std::move(conn)), reader_(conn_.get(), std::move(schemas)) {}

PgRestoreTransaction::~PgRestoreTransaction() {
  Rollback();
}

Status PgRestoreTransaction::Guard(Status status) {
  if (!status.ok() && failed_.ok()) {
    failed_ = status;
    Rollback();
  }
  return status;
}

Status PgRestoreTransaction::CreateMissing(const std::vector<TableInfo>& tables,
                                           const std::vector<SchemaObject>& objects) {
  (void)objects;
  if (!failed_.ok()) return failed_;
  for (const TableInfo& t : tables) {
    if (reader_.Find(t.name).ok()) continue;
    return Guard(UnimplementedError(
        "table " + t.name + " does not exist on PostgreSQL " + conn_->described() +
        ": this backup holds no schema script to create it from (safety backups do not); "
        "restore a regular backup, or create the schema first"));
  }
  return OkStatus();
}

Status PgRestoreTransaction::RunScript(const std::string& script, const std::string& action) {
  if (!failed_.ok()) return failed_;
  std::string sql;
  size_t pos = 0;
  while (pos < script.size()) {
    size_t end = script.find('\n', pos);
    end = end == std::string::npos ? script.size() : end + 1;
    std::string_view line(script.data() + pos, end - pos);
    pos = end;
    if (line.rfind("\\restrict ", 0) == 0 || line.rfind("\\unrestrict ", 0) == 0) continue;
    if (line.rfind("CREATE SCHEMA ", 0) == 0) {
      sql += "CREATE SCHEMA IF NOT EXISTS ";
      line.remove_prefix(14);
    }
    sql += line;
  }
  LB_RETURN_IF_ERROR(Guard(conn_->Exec(sql, action)));
  LB_RETURN_IF_ERROR(Guard(conn_->ResetSearchPath()));
  reader_.ForgetCatalog();
  return OkStatus();
}

Status PgRestoreTransaction::CreateFromScript(const SchemaScripts& scripts) {
  if (scripts.kind != "pg_dump") return RestoreTransaction::CreateFromScript(scripts);
  if (!failed_.ok()) return failed_;
  if (!helpers_.empty() && maintenance_.connections_refused) {
    Result<bool> empty = PgSchemasAreEmpty(conn_.get(), conn_->options().schemas);
    if (!empty.ok()) return Guard(empty.status());
    may_stage_ = *empty;
  }
  // What undoing a staged clone takes is what the schemas are before pre-data runs; the mark
  // is committed only if the clone is staged (a clone in one transaction removes it again).
  if (may_stage_) {
    LB_RETURN_IF_ERROR(Guard(
        MarkPgClone(conn_.get(), conn_->options().schemas, conn_->options().application_name)));
  }
  return RunScript(scripts.pre_data, "creating the schema (pg_dump pre-data)");
}

Result<std::vector<TableLoader*>> PgRestoreTransaction::CloneLoaders(int wanted) {
  std::vector<TableLoader*> out;
  if (!failed_.ok()) return failed_;
  if (!may_stage_ || wanted < 1 || prepared_) return out;
  // The schema and the mark commit together: from here on a failure is undone by UndoStaged.
  LB_RETURN_IF_ERROR(Guard(conn_->Exec("COMMIT", "committing the clone's schema")));
  open_ = false;
  staged_ = true;
  CrashPoint("clone-schema-committed");
  reader_.ForgetCatalog();
  Result<const PgCatalog*> catalog = reader_.Catalog();
  if (!catalog.ok()) return Guard(catalog.status());
  staged_tables_ = (*catalog)->tables;
  for (size_t i = 0; i < helpers_.size() && static_cast<int>(i) < wanted; ++i) {
    loaders_.push_back(std::make_unique<Loader>(helpers_[i].get(), &staged_tables_));
    out.push_back(loaders_.back().get());
  }
  return out;
}

Status PgRestoreTransaction::CompleteFromScript(const SchemaScripts& scripts) {
  if (scripts.kind != "pg_dump") return RestoreTransaction::CompleteFromScript(scripts);
  if (staged_) {
    LB_RETURN_IF_ERROR(Guard(CompleteStaged(scripts.post_data)));
  } else {
    LB_RETURN_IF_ERROR(RunScript(scripts.post_data,
                                 "creating indexes, constraints and triggers (pg_dump post-data)"));
  }
  // Every foreign key of a clone's tables was just created, which checked it.
  keys_checked_by_script_ = true;
  return OkStatus();
}

Status PgRestoreTransaction::CompleteStaged(const std::string& post_data) {
  const PgDumpScript script = SplitPgDumpScript(post_data);
  std::vector<const PgDumpEntry*> parallel;
  std::string rest = script.preamble;
  for (const PgDumpEntry& e : script.entries) {
    if (PgDumpEntryRunsInParallel(e.type)) {
      parallel.push_back(&e);
    } else {
      rest += e.settings + e.sql;
    }
  }
  // Indexes and keys on every connection, each statement committing on its own: a table's
  // rows are all loaded, and nobody can connect to see a table without its keys. One build per
  // connection and core, without parallel workers of its own: at 1 GB on 2 cores, 2.95 s for
  // them all against 4.4 s with the default 2 workers a build.
  std::vector<PgConnection*> conns = {conn_.get()};
  for (auto& h : helpers_) conns.push_back(h.get());
  for (PgConnection* c : conns) {
    LB_RETURN_IF_ERROR(c->Exec("SET max_parallel_maintenance_workers = 0", "building indexes"));
  }
  LB_RETURN_IF_ERROR(RunOnWorkers(conns.size(), parallel.size(), [&](size_t worker, size_t k) {
    const PgDumpEntry& e = *parallel[k];
    return conns[worker]->Exec(e.settings + e.sql,
                               "creating " + e.type + " " + e.name + " (pg_dump post-data)");
  }));
  for (PgConnection* c : conns) {
    LB_RETURN_IF_ERROR(c->Exec("RESET max_parallel_maintenance_workers", "building indexes"));
    LB_RETURN_IF_ERROR(c->ResetSearchPath());
  }
  // The rest (foreign keys, which check the rows, triggers, ...), the sequences and the end of
  // the mark are the clone's last transaction.
  LB_RETURN_IF_ERROR(conn_->Exec("BEGIN", "starting the clone's last transaction"));
  open_ = true;
  LB_RETURN_IF_ERROR(RunScript(rest, "creating constraints and triggers (pg_dump post-data)"));
  return OkStatus();
}

void PgRestoreTransaction::UndoStaged() {
  staged_ = false;
  open_ = false;
  for (auto& h : helpers_) h->Exec("ROLLBACK", "ending a load").IgnoreError();
  conn_->Exec("ROLLBACK", "rolling back the clone's last transaction").IgnoreError();
  Result<std::string> undone = UndoPgClone(conn_.get());
  // Without the undo, maintenance stays on and the mark tells the next run what to do.
  if (undone.ok()) LeavePgMaintenance(conn_.get(), maintenance_).IgnoreError();
  maintenance_ = {};
}

Status PgRestoreTransaction::PrepareReplace(const std::vector<TableInfo>& tables) {
  if (!failed_.ok()) return failed_;
  if (staged_) {  // every load truncates its table in a transaction of its own
    prepared_ = true;
    return OkStatus();
  }
  std::map<std::string, const PgTable*> replaced;  // by oid
  for (const TableInfo& t : tables) {
    Result<const PgTable*> found = reader_.Find(t.name);
    if (!found.ok()) return Guard(found.status());
    replaced[(*found)->oid] = *found;
    replaced_oids_.push_back((*found)->oid);
  }
  Result<std::vector<PgForeignKey>> keys = ReadPgForeignKeys(conn_.get(), replaced_oids_);
  if (!keys.ok()) return Guard(keys.status());
  // A table referenced from outside the restore cannot be truncated.
  std::set<std::string> referenced_from_outside;  // oids
  for (const PgForeignKey& key : *keys) {
    if (replaced.count(key.child_oid) != 0 || replaced.count(key.parent_oid) == 0) continue;
    if (!replica_role_) {
      return Guard(FailedPreconditionError(
          "table " + replaced[key.parent_oid]->name + " is referenced by " + key.child +
          " (foreign key " + key.name + "), which this restore leaves alone: emptying it " +
          "needs session_replication_role = replica, which the role of " + conn_->described() +
          " may not set; grant it (GRANT SET ON PARAMETER session_replication_role) or " +
          "restore " + key.child + " too"));
    }
    referenced_from_outside.insert(key.parent_oid);
  }
  if (!replica_role_) {
    for (const PgForeignKey& key : *keys) {
      if (key.deferrable && key.initially_deferred) continue;
      Status deferred =
          conn_->Exec("ALTER TABLE " + key.child + " ALTER CONSTRAINT " +
                          PgQuoteIdentifier(key.name) + " DEFERRABLE INITIALLY DEFERRED",
                      "deferring foreign key " + key.name);
      if (!deferred.ok()) return Guard(deferred);
      keys_deferred_.push_back(key);
    }
    Status all = conn_->Exec("SET CONSTRAINTS ALL DEFERRED", "deferring constraints");
    if (!all.ok()) return Guard(all);
    constraints_deferred_ = true;
  }
  Status held = HoldBackTriggers();
  if (!held.ok()) return Guard(held);
  std::string truncate;
  for (const auto& [oid, table] : replaced) {
    const std::string qualified = table->Qualified();
    if (referenced_from_outside.count(oid) != 0) {
      Status deleted = conn_->Exec("DELETE FROM " + qualified, "emptying table " + table->name);
      if (!deleted.ok()) return Guard(deleted);
    } else {
      truncate += (truncate.empty() ? "" : ", ") + qualified;
      if (!table->partitioned) truncated_oids_.insert(oid);
    }
  }
  if (!truncate.empty()) {
    Status emptied = conn_->Exec("TRUNCATE " + truncate, "emptying the restored tables");
    if (!emptied.ok()) return Guard(emptied);
  }
  Status dropped = DropPlainIndexes();
  if (!dropped.ok()) return Guard(dropped);
  prepared_ = true;
  return OkStatus();
}

Status PgRestoreTransaction::HoldBackTriggers() {
  // The user triggers of the replaced tables (and of their partitions) that would fire at the
  // TRUNCATE and as rows load: those enabled in origin mode ('O', 'A') without the replica
  // role, those that fire in replica mode too ('A', 'R') under it. Each is disabled by name and
  // gets its own mode back at the commit, so that pg_dump sees the triggers as they were.
  // Before PostgreSQL 13 a partition's copies of its parent's triggers are internal; from 13
  // on they name their parent, and ALTER TABLE on the parent's trigger reaches them.
  const std::string not_a_copy = conn_->server_version() >= 130000 ? " AND t.tgparentid = 0" : "";
  LB_ASSIGN_OR_RETURN(
      PgResult triggers,
      conn_->Query(
          "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
          "pg_catalog.quote_ident(t.tgname), t.tgenabled::text "
          "FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid "
          "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
          "WHERE NOT t.tgisinternal" +
              not_a_copy +
              " AND t.tgenabled::text = ANY($2::text[]) AND (t.tgrelid = ANY($1::oid[]) OR "
              "t.tgrelid IN (SELECT p.relid FROM unnest($1::oid[]) r(oid), "
              "pg_catalog.pg_partition_tree(r.oid) p)) ORDER BY 1, 2",
          "reading the triggers of the restored tables",
          {PgTextArray(replaced_oids_), replica_role_ ? "{A,R}" : "{O,A}"}));
  for (int row = 0; row < triggers.rows(); ++row) {
    HeldTrigger held{triggers.GetString(row, 0), triggers.GetString(row, 1),
                     triggers.GetString(row, 2)};
    LB_RETURN_IF_ERROR(conn_->Exec("ALTER TABLE " + held.table + " DISABLE TRIGGER " + held.name,
                                   "disabling trigger " + held.name + " of " + held.table));
    triggers_disabled_.push_back(std::move(held));
  }
  return OkStatus();
}

Status PgRestoreTransaction::DropPlainIndexes() {
  if (truncated_oids_.empty()) return OkStatus();
  // Only indexes that nothing else refers to: dropping one and building it again from its
  // definition leaves the catalog as pg_dump sees it.
  LB_ASSIGN_OR_RETURN(
      PgResult plain,
      conn_->Query(
          "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
          "pg_catalog.pg_get_indexdef(i.indexrelid) "
          "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
          "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
          "WHERE i.indrelid = ANY($1::oid[]) AND NOT i.indisunique AND NOT i.indisprimary "
          "AND NOT i.indisexclusion AND i.indisvalid AND i.indisready AND i.indislive "
          "AND NOT i.indisreplident AND NOT i.indisclustered AND c.reltablespace = 0 "
          "AND pg_catalog.pg_has_role(c.relowner, 'USAGE') "
          "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = "
          "i.indexrelid) "
          "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h "
          "WHERE h.inhrelid = i.indexrelid OR h.inhparent = i.indexrelid) "
          "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
          "WHERE d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = i.indexrelid) "
          "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
          "WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = i.indexrelid "
          "AND d.deptype = 'e') "
          "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_description x "
          "WHERE x.classoid = 'pg_catalog.pg_class'::regclass AND x.objoid = i.indexrelid) "
          "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_seclabel l "
          "WHERE l.classoid = 'pg_catalog.pg_class'::regclass AND l.objoid = i.indexrelid) "
          "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a "
          "WHERE a.attrelid = i.indexrelid AND a.attstattarget > 0) "
          "ORDER BY 1",
          "finding the plain indexes of the restored tables",
          {OidList({truncated_oids_.begin(), truncated_oids_.end()})}));
  if (plain.rows() == 0) return OkStatus();
  std::string names;
  for (int r = 0; r < plain.rows(); ++r) names += (r ? ", " : "") + plain.GetString(r, 0);
  LB_RETURN_IF_ERROR(
      conn_->Exec("DROP INDEX " + names, "dropping indexes " + names + " for the load"));
  for (int r = 0; r < plain.rows(); ++r) indexes_dropped_.push_back(plain.GetString(r, 1));
  return OkStatus();
}

Result<TableStreamStats> PgRestoreTransaction::ReplaceTable(const TableInfo& table,
                                                            ByteReader* rows,
                                                            CancellationToken* cancel) {
  if (!failed_.ok()) return failed_;
  // Staged, the loaders run beside this: a failure is left to the caller's Rollback.
  if (staged_) return LoadStagedTable(conn_.get(), staged_tables_, table, rows, cancel);
  if (!prepared_) LB_RETURN_IF_ERROR(PrepareReplace({table}));
  Result<const PgTable*> found = reader_.Find(table.name);
  if (!found.ok()) return Guard(found.status());
  // A table emptied by this transaction's TRUNCATE is loaded frozen: its rows need no hint
  // bits set by the first reader (index builds, the foreign-key checks) and no freezing by a
  // later vacuum. Nobody else can see it before the commit.
  const bool freeze = truncated_oids_.count((*found)->oid) != 0;
  Result<uint64_t> loaded =
      conn_->CopyIn("COPY " + (*found)->Qualified() + " " + PgCopyColumns(table) + " FROM STDIN" +
                        (freeze ? " WITH (FREEZE)" : ""),
                    "loading table " + table.name, rows, cancel);
  if (!loaded.ok()) return Guard(loaded.status());
  TableStreamStats stats;
  stats.rows = *loaded;
  return stats;
}

Status PgRestoreTransaction::SetSequences(const std::vector<SequenceValue>& values) {
  if (!failed_.ok()) return failed_;
  for (const SequenceValue& v : values) {
    const std::string action = "setting sequence " + v.name;
    // setval alone outlives a rollback. ALTER SEQUENCE ... RESTART gives the sequence new
    // storage in this transaction, so that the setval that follows is undone with it.
    Result<PgResult> named = conn_->Query("SELECT $1::regclass::text", action, {v.name});
    if (!named.ok()) return Guard(named.status());
    Status restarted = conn_->Exec("ALTER SEQUENCE " + named->GetString(0, 0) + " RESTART", action);
    if (!restarted.ok()) return Guard(restarted);
    Result<PgResult> set =
        conn_->Query("SELECT setval($1::regclass, $2::bigint, $3::boolean)", action,
                     {v.name, std::to_string(v.value), v.called ? "true" : "false"});
    if (!set.ok()) return Guard(set.status());
  }
  return OkStatus();
}

Status PgRestoreTransaction::CheckForeignKeys() {
  LB_ASSIGN_OR_RETURN(std::vector<PgForeignKey> keys,
                      ReadPgForeignKeys(conn_.get(), replaced_oids_));
  std::vector<std::string> broken;
  std::vector<std::string> restore_too;  // the table on the other end of each broken key
  auto restored = [&](const std::string& oid) {
    return std::find(replaced_oids_.begin(), replaced_oids_.end(), oid) != replaced_oids_.end();
  };
  for (const PgForeignKey& key : keys) {
    std::string not_null, match;
    for (size_t i = 0; i < key.child_columns.size(); ++i) {
      not_null += " AND c." + PgQuoteIdentifier(key.child_columns[i]) + " IS NOT NULL";
      match += std::string(i ? " AND " : "") + "p." + PgQuoteIdentifier(key.parent_columns[i]) +
               " = c." + PgQuoteIdentifier(key.child_columns[i]);
    }
    LB_ASSIGN_OR_RETURN(
        PgResult orphans,
        conn_->Query("SELECT count(*) FROM " + key.child + " c WHERE true" + not_null +
                         " AND NOT EXISTS (SELECT 1 FROM " + key.parent + " p WHERE " + match + ")",
                     "checking foreign key " + key.name));
    if (int64_t n = orphans.GetInt64(0, 0); n > 0) {
      broken.push_back(key.child + " (" + std::to_string(n) + " rows; foreign key " + key.name +
                       " to " + key.parent + ")");
      // Rows of a restored table miss their parent, or a table left alone loses the rows it
      // references.
      const bool child_restored = restored(key.child_oid);
      if (!child_restored || !restored(key.parent_oid)) {
        const std::string& other = child_restored ? key.parent : key.child;
        if (std::find(restore_too.begin(), restore_too.end(), other) == restore_too.end()) {
          restore_too.push_back(other);
        }
      }
    }
  }
  if (broken.empty()) return OkStatus();
  std::string list, tables;
  for (const std::string& b : broken) list += (list.empty() ? "" : ", ") + b;
  for (const std::string& t : restore_too) tables += (tables.empty() ? "" : ", ") + t;
  return FailedPreconditionError(
      "the restore would leave rows that reference missing rows in " + list +
      "; nothing was changed: " +
      (tables.empty() ? "the backup's own rows break these keys: restore the whole backup"
                      : "restore " + tables + " too"));
}

Result<std::string> PgRestoreTransaction::RecordCommitToken() {
  if (!failed_.ok()) return failed_;
  Result<PgResult> xid = conn_->Query("SELECT txid_current()::text", "reading the transaction id");
  if (!xid.ok()) {
    LB_RETURN_IF_ERROR(Guard(xid.status()));
  }
  return "xid:" + xid->GetString(0, 0);
}

Status PgRestoreTransaction::Commit() {
  if (!failed_.ok()) return failed_;
  if (!keys_checked_by_script_) LB_RETURN_IF_ERROR(Guard(CheckForeignKeys()));
  if (constraints_deferred_) {
    // The queued checks run now (they pass: CheckForeignKeys found nothing), also those of
    // keys that were deferred already, then every key Lifeboat deferred gets its own timing
    // back.
    LB_RETURN_IF_ERROR(
        Guard(conn_->Exec("SET CONSTRAINTS ALL IMMEDIATE", "checking the foreign keys")));
    for (const PgForeignKey& key : keys_deferred_) {
      const std::string timing =
          !key.deferrable ? "NOT DEFERRABLE" : "DEFERRABLE INITIALLY IMMEDIATE";
      LB_RETURN_IF_ERROR(Guard(conn_->Exec("ALTER TABLE " + key.child + " ALTER CONSTRAINT " +
                                               PgQuoteIdentifier(key.name) + " " + timing,
                                           "restoring foreign key " + key.name)));
    }
  }
  // After the queued key checks: a table with pending trigger events takes no CREATE INDEX.
  for (const std::string& index : indexes_dropped_) {
    LB_RETURN_IF_ERROR(Guard(conn_->Exec(index, "building index again: " + index)));
  }
  for (const HeldTrigger& held : triggers_disabled_) {
    const char* mode = held.mode == "A"   ? " ENABLE ALWAYS TRIGGER "
                       : held.mode == "R" ? " ENABLE REPLICA TRIGGER "
                                          : " ENABLE TRIGGER ";
    LB_RETURN_IF_ERROR(Guard(conn_->Exec("ALTER TABLE " + held.table + mode + held.name,
                                         "enabling trigger " + held.name + " of " + held.table)));
  }
  if (may_stage_) LB_RETURN_IF_ERROR(Guard(UnmarkPgClone(conn_.get())));
  return Guard(End("COMMIT"));
}

Status PgRestoreTransaction::End(const std::string& sql) {
  open_ = false;
  Status ended =
      conn_->Exec(sql, sql == "COMMIT" ? "committing the restore" : "rolling back the restore");
  if (ended.ok() && sql == "COMMIT") committed_ = true;
  // A staged clone that did not commit leaves maintenance only once it is undone.
  if (!ended.ok() && staged_) return ended;
  const std::string database = maintenance_.database;
  Status left = LeavePgMaintenance(conn_.get(), maintenance_);
  maintenance_ = {};
  if (!ended.ok()) return ended;
  if (!left.ok() && committed_ && on_notice_) {
    // The rows are in: a restore that happened is not reported as failed.
    on_notice_("the restore committed, but database " + database + " still refuses connections: " +
               left.ToString() + "; run `lifeboat maintenance off` for this instance");
    return OkStatus();
  }
  return left;
}

void PgRestoreTransaction::Rollback() {
  if (staged_ && !committed_) {
    UndoStaged();
  } else if (open_) {
    End("ROLLBACK").IgnoreError();
  }
}

}  // namespace lifeboat
