#include "ops/restore.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "base/clock.h"
#include "base/crash_point.h"
#include "base/units.h"
#include "base/work_queue.h"
#include "ops/files_restore.h"
#include "ops/progress_meter.h"
#include "repo/stream.h"

namespace lifeboat {
namespace {

// How much of a table's rows is loaded from the repository ahead of the database (the blobs
// are 64 KiB on average): enough that the database never waits for the next piece.
constexpr size_t kReadAheadBytes = size_t{4} << 20;

std::string Short(const std::string& id) {
  return id.substr(0, 8);
}

// What differs between a backup's table and the target's, or "" when they match.
std::string TableDifference(const TableEntry& backup, const TableInfo* target) {
  if (target == nullptr) return "missing on the target";
  std::vector<std::string> want, have;
  for (const ColumnInfo& c : backup.columns) want.push_back(c.name + " " + c.type);
  for (const ColumnInfo& c : target->columns) {
    if (!c.hidden) have.push_back(c.name + " " + c.type);
  }
  if (want != have) {
    std::string text = "columns differ (backup:";
    for (const std::string& w : want) text += " " + w + ",";
    text.back() = ';';
    text += " target:";
    for (const std::string& h : have) text += " " + h + ",";
    text.back() = ')';
    return text;
  }
  return "";
}

const TableInfo* FindInfo(const InstanceSchema& schema, const std::string& name) {
  for (const TableInfo& t : schema.tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Status CheckGuardsBeforeLock(const Manifest& backup, const RestoreRequest& request,
                             int64_t now_nanos) {
  if (backup.account != request.account) {
    return FailedPreconditionError("backup " + Short(backup.id) + " belongs to account '" +
                                   backup.account + "' but instance " + request.instance +
                                   " belongs to account '" + request.account +
                                   "': a backup is never restored into another account");
  }
  int64_t age = now_nanos - backup.finished_nanos;
  if (age > request.window_nanos && !request.ignore_window) {
    return FailedPreconditionError(
        "backup " + Short(backup.id) + " was taken " + FormatRfc3339(backup.finished_nanos) +
        ", outside the restore window of " + FormatDuration(request.window_nanos) +
        ": choose a newer backup, or pass --ignore-window if you mean it");
  }
  if (request.tables) {
    for (const std::string& name : *request.tables) {
      if (backup.FindTable(name) == nullptr) {
        std::string names;
        for (const TableEntry& t : backup.tables) names += (names.empty() ? "" : ", ") + t.name;
        return InvalidArgumentError("table " + name + " is not in backup " + Short(backup.id) +
                                    " (it holds: " + names + ")");
      }
    }
  }
  if (!request.confirmed && !request.dry_run) {
    return FailedPreconditionError(
        "restoring backup " + Short(backup.id) + " into " + request.instance +
        " replaces its data: confirm with --yes, or type 'I understand' at the prompt");
  }
  return OkStatus();
}

// Loads `tables` through `loaders` (the transaction itself first, then any a clone was given),
// largest first, each table on whichever loader is free; the results come back in the order
// of `tables`. After a failure no loader starts another table.
Result<std::vector<RestoredTable>> LoadTables(
    Repository* repo, const std::vector<TableLoader*>& loaders,
    const std::vector<const TableEntry*>& tables, ProgressMeter* meter, CancellationToken* cancel,
    std::vector<std::pair<std::string, std::string>>* table_errors) {
  std::vector<size_t> order(tables.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (loaders.size() > 1) {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return tables[a]->bytes > tables[b]->bytes; });
  }
  std::vector<RestoredTable> restored(tables.size());
  std::mutex errors_mu;
  Status status = RunOnWorkers(loaders.size(), order.size(), [&](size_t worker, size_t k) {
    LB_RETURN_IF_ERROR(cancel->Check());
    const TableEntry& t = *tables[order[k]];
    meter->StartItem(t.name);
    StreamReader rows(repo, t.content, kReadAheadBytes);
    Result<TableStreamStats> loaded = loaders[worker]->ReplaceTable(t.ToTableInfo(), &rows, cancel);
    if (!loaded.ok()) {
      std::lock_guard<std::mutex> lock(errors_mu);
      if (table_errors) table_errors->emplace_back(t.name, loaded.status().ToString());
      return loaded.status().WithContext("restoring table " + t.name);
    }
    meter->Add(t.bytes, loaded->rows);
    meter->FinishItem();
    restored[order[k]] = {t.name, loaded->rows, t.bytes};
    return OkStatus();
  });
  LB_RETURN_IF_ERROR(status);
  return restored;
}

}  // namespace

Result<RestoreOutcome> RunRestore(Repository* repo, Source* source, const std::string& location,
                                  const Manifest& backup, const RestoreRequest& request,
                                  ProgressSink* progress, CancellationToken* cancel,
                                  std::vector<std::pair<std::string, std::string>>* table_errors) {
  Clock* clock = repo->clock();
  LB_RETURN_IF_ERROR(CheckGuardsBeforeLock(backup, request, clock->NowUnixNanos()));

  std::vector<const TableEntry*> tables;
  for (const TableEntry& t : backup.tables) {
    if (!request.tables || std::find(request.tables->begin(), request.tables->end(), t.name) !=
                               request.tables->end()) {
      tables.push_back(&t);
    }
  }

  if (backup.source_kind != source->kind()) {
    return FailedPreconditionError("backup " + Short(backup.id) + " holds a " + backup.source_kind +
                                   " database and " + request.instance + " is a " + source->kind() +
                                   " database: restore it into a " + backup.source_kind +
                                   " instance");
  }
  if (!request.dry_run && request.files_root) {
    LB_ASSIGN_OR_RETURN(std::string settled, SettleInterruptedRestore(source, *request.files_root));
    if (!settled.empty() && progress != nullptr) progress->OnMessage(MessageLevel::kInfo, settled);
  }
  // A dry run (also the guard pass before the user confirms) reads the instance in a snapshot
  // of its own, without maintenance: nobody is logged out by a restore that may not happen.
  // Otherwise maintenance starts here: the instance is ours until commit or rollback.
  std::unique_ptr<ReadSnapshot> snapshot;
  std::unique_ptr<RestoreTransaction> tx;
  if (request.dry_run) {
    LB_ASSIGN_OR_RETURN(snapshot, source->BeginRead());
  } else {
    LB_ASSIGN_OR_RETURN(tx, source->BeginRestore(request.wait_millis));
  }
  ReadSnapshot* reader = tx ? tx->Reader() : snapshot.get();
  LB_ASSIGN_OR_RETURN(InstanceSchema target, reader->Describe());

  RestoreOutcome outcome;
  outcome.clone = std::none_of(backup.tables.begin(), backup.tables.end(),
                               [&](const TableEntry& t) { return FindInfo(target, t.name); });
  if (!outcome.clone) {
    if (backup.app_version && request.version_query) {
      Result<std::optional<std::string>> version = reader->QueryVersion(*request.version_query);
      if (!version.ok() && version.status().code() != StatusCode::kNotFound) {
        return version.status();
      }
      if (version.ok()) outcome.target_version = *version;
      if (outcome.target_version != backup.app_version) {
        return FailedPreconditionError("backup " + Short(backup.id) + " was taken at version " +
                                       *backup.app_version + " but " + request.instance + " runs " +
                                       outcome.target_version.value_or("no readable version") +
                                       ": install " + *backup.app_version +
                                       " first, or restore into an empty instance (a clone)");
      }
    }
    std::vector<TableInfo> matching;
    std::string differences;
    for (const TableEntry& t : backup.tables) {
      const TableInfo* info = FindInfo(target, t.name);
      std::string diff = TableDifference(t, info);
      if (!diff.empty()) differences += "\n  " + t.name + ": " + diff;
      if (info) matching.push_back(*info);
    }
    if (!differences.empty() || SchemaFingerprint(matching) != backup.schema_fingerprint) {
      if (differences.empty()) differences = "\n  column defaults, constraints or keys differ";
      return FailedPreconditionError(
          "the schema of " + request.instance + " differs from backup " + Short(backup.id) + ":" +
          differences + "\ninstall the application version the backup was taken with (" +
          backup.app_version.value_or("unknown") + "), or restore into an empty instance");
    }
  }
  if (request.dry_run) return outcome;

  if (request.safety_backup && !outcome.clone) {
    BackupRequest safety;
    safety.instance = request.instance;
    safety.account = request.account;
    safety.name = "safety before restoring " + Short(backup.id);
    safety.notes = "taken automatically before restoring backup " + Short(backup.id) +
                   (backup.name.empty() ? "" : " (" + backup.name + ")");
    safety.tags = {"safety"};
    safety.user = request.user;
    safety.host = request.host;
    safety.files_root = request.files_root;
    safety.rules = request.rules;
    safety.version_query = request.version_query;
    safety.large = LargeTableOverride::kInclude;  // a safety copy is whole
    LB_ASSIGN_OR_RETURN(
        BackupOutcome saved,
        BackupFromSnapshot(repo, reader, source->kind(), location, safety, progress, cancel));
    outcome.safety_snapshot = saved.manifest.id;
  }

  uint64_t total = 0;
  for (const TableEntry* t : tables) total += t->bytes;
  // The files directory is restored only with the whole backup, not with chosen tables.
  const bool restore_files = backup.files && request.files_root && !request.tables;
  if (restore_files) total += backup.files->bytes;
  // A clone from the database's own script builds its indexes and constraints after the rows:
  // an item of its own, so that the progress does not stop at the last table.
  const bool post_data = outcome.clone && backup.schema_scripts.has_value();
  ProgressMeter meter(progress, clock, "restore", total,
                      tables.size() + (restore_files ? 1 : 0) + (post_data ? 1 : 0));

  // A clone creates the schema: from the database's own script when the backup has one (the
  // post-data part, indexes and constraints, follows the rows), else from the tables' DDL.
  std::optional<SchemaScripts> scripts;
  if (post_data) {
    scripts.emplace();
    scripts->kind = backup.schema_scripts->kind;
    LB_ASSIGN_OR_RETURN(scripts->pre_data, LoadStream(repo, backup.schema_scripts->pre_data));
    LB_ASSIGN_OR_RETURN(scripts->post_data, LoadStream(repo, backup.schema_scripts->post_data));
    LB_RETURN_IF_ERROR(tx->CreateFromScript(*scripts));
  } else if (outcome.clone) {
    std::vector<TableInfo> infos;
    for (const TableEntry& t : backup.tables) infos.push_back(t.ToTableInfo());
    LB_RETURN_IF_ERROR(tx->CreateMissing(infos, backup.schema_objects));
  }
  // A clone may load several tables at once when the driver can keep it all or nothing.
  std::vector<TableLoader*> loaders = {tx.get()};
  if (scripts) {
    const int wanted = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) - 1;
    LB_ASSIGN_OR_RETURN(std::vector<TableLoader*> more, tx->CloneLoaders(wanted));
    loaders.insert(loaders.end(), more.begin(), more.end());
  }
  std::vector<TableInfo> replaced;
  for (const TableEntry* t : tables) replaced.push_back(t->ToTableInfo());
  LB_RETURN_IF_ERROR(tx->PrepareReplace(replaced));
  LB_ASSIGN_OR_RETURN(outcome.tables,
                      LoadTables(repo, loaders, tables, &meter, cancel, table_errors));
  CrashPoint("restore-tables-loaded");
  std::vector<SequenceValue> sequences;
  for (const SequenceValue& s : backup.sequences) {
    for (const TableEntry* t : tables) {
      if (t->name == s.table) sequences.push_back(s);
    }
  }
  if (scripts) {
    meter.StartItem("indexes, constraints and triggers");
    LB_RETURN_IF_ERROR(tx->CompleteFromScript(*scripts));
    meter.FinishItem();
  }
  LB_RETURN_IF_ERROR(tx->SetSequences(sequences));
  LB_RETURN_IF_ERROR(cancel->Check());

  // The files directory is staged first and swapped in only after the database committed, so
  // a failed commit (a foreign-key violation) leaves both the tables and the files as they were;
  // the restore journal covers a crash in between (FORMAT.md section 13).
  if (restore_files) {
    meter.StartItem(*request.files_root);
    std::string token;
    DatabaseCommit commit;
    commit.record_token = [&]() -> Result<std::string> {
      LB_ASSIGN_OR_RETURN(token, tx->RecordCommitToken());
      return token;
    };
    commit.commit = [&] {
      CrashPoint("restore-before-commit");  // the journal is written
      Status committed = tx->Commit();
      CrashPoint("restore-after-commit");
      return committed;
    };
    commit.state = [source](const std::string& t) { return source->RestoreCommitState(t); };
    LB_ASSIGN_OR_RETURN(FilesRestoreSummary files,
                        RestoreFiles(repo, backup.files->content, *request.files_root, meter.sink(),
                                     cancel, &commit));
    Status forgotten = source->ForgetCommitToken(token);
    if (!forgotten.ok()) {
      meter.Message(MessageLevel::kWarning,
                    forgotten.ToString() + "; the next backup or restore removes it");
    }
    meter.SetItemProgress(backup.files->bytes, 0);
    meter.FinishItem();
    outcome.files = files.files;
    outcome.file_bytes = files.bytes;
  } else {
    LB_RETURN_IF_ERROR(tx->Commit());
  }
  return outcome;
}

}  // namespace lifeboat
