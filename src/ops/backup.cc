#include "ops/backup.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "base/units.h"
#include "base/work_queue.h"
#include "ops/files_backup.h"
#include "ops/files_restore.h"
#include "ops/progress_meter.h"
#include "ops/snapshot_catalog.h"
#include "repo/stream.h"

namespace lifeboat {
namespace {

std::vector<std::string> TableNames(const InstanceSchema& schema) {
  std::vector<std::string> names;
  for (const TableInfo& t : schema.tables) names.push_back(t.name);
  return names;
}

const TableInfo* FindInfo(const InstanceSchema& schema, const std::string& name) {
  for (const TableInfo& t : schema.tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// One included table of a backup: its parts are read on whichever readers are free, and the
// table's stream is joined from them in order as they finish.
struct TableJob {
  const PlannedTable* planned = nullptr;
  const TableInfo* info = nullptr;
  const TableEntry* previous = nullptr;  // the table in the instance's previous backup, if any
  std::vector<TablePart> parts;

  std::mutex mu;
  size_t started = 0;
  // A table read in parts: the parts that finished before those ahead of them (parts are
  // about the same size and handed out in order, so about one per reader waits), and the
  // writer of the whole stream, which takes the parts' blob ids in order.
  struct FinishedPart {
    std::vector<std::string> ids;
    uint64_t bytes = 0;
    uint64_t rows = 0;
  };
  std::vector<std::optional<FinishedPart>> waiting;
  size_t joined = 0;
  std::unique_ptr<StreamWriter> whole;
  TableEntry entry;
};

// Where the previous backup's stream of the table reached `page`, for the deltas of the part
// that starts there; nullopt when that backup did not start a part at that page.
std::optional<uint64_t> ReferenceOffset(const TableEntry& previous, uint64_t page) {
  if (page == 0) return 0;
  for (const TablePartStart& p : previous.parts) {
    if (p.page == page) return p.offset;
  }
  return std::nullopt;
}

// Reads part `index` of `job` through `snapshot` into the repository; the part that completes
// the table fills in its entry.
Status BackupPart(Repository* repo, ReadSnapshot* snapshot, TableJob* job, size_t index,
                  ProgressMeter* meter, CancellationToken* cancel) {
  const TableInfo& info = *job->info;
  const TablePart& part = job->parts[index];
  {
    std::lock_guard<std::mutex> lock(job->mu);
    if (job->started++ == 0) meter->StartItem(info.name);
  }
  const StreamRef* reference = job->previous ? &job->previous->content : nullptr;
  const bool split = job->parts.size() > 1;
  std::optional<uint64_t> offset = 0;
  if (split && reference) offset = ReferenceOffset(*job->previous, part.first_page);
  std::unique_ptr<StreamWriter> writer =
      split ? std::make_unique<StreamWriter>(
                  repo, StreamWriter::PartOptions{offset ? reference : nullptr, offset.value_or(0)})
            : std::make_unique<StreamWriter>(repo, reference);
  TableStreamStats reported;
  auto report = [&](const TableStreamStats& s) {
    meter->Add(s.bytes - reported.bytes, s.rows - reported.rows);
    reported = s;
  };
  LB_ASSIGN_OR_RETURN(TableStreamStats stats,
                      snapshot->StreamTablePart(info, part, writer.get(), cancel, report));
  LB_ASSIGN_OR_RETURN(StreamRef ref, writer->Finish());
  report(stats);

  std::lock_guard<std::mutex> lock(job->mu);
  TableEntry& entry = job->entry;
  if (!split) {
    entry.content = std::move(ref);
    entry.rows = stats.rows;
    entry.bytes = stats.bytes;
  } else {
    job->waiting[index] = TableJob::FinishedPart{writer->TakeIds(), stats.bytes, stats.rows};
    if (!job->whole) job->whole = std::make_unique<StreamWriter>(repo);
    for (; job->joined < job->parts.size() && job->waiting[job->joined]; ++job->joined) {
      TableJob::FinishedPart& done = *job->waiting[job->joined];
      entry.parts.push_back({job->parts[job->joined].first_page, entry.bytes});
      LB_RETURN_IF_ERROR(job->whole->AppendIds(done.ids, done.bytes));
      entry.bytes += done.bytes;
      entry.rows += done.rows;
      job->waiting[job->joined].reset();
    }
    if (job->joined < job->parts.size()) return OkStatus();
    LB_ASSIGN_OR_RETURN(entry.content, job->whole->Finish());
  }
  meter->FinishItem();
  const PlannedTable& planned = *job->planned;
  entry.name = info.name;
  entry.kind = planned.kind;
  entry.rowid = info.rowid;
  entry.ddl = info.ddl;
  entry.columns = StoredColumns(info);
  return OkStatus();
}

// Backs up `tables` with up to `readers` snapshots at once (the given one plus forks of it),
// largest tables first, each in the parts the snapshot splits it into; the entries come back
// in the order of `tables`.
Result<std::vector<TableEntry>> BackupTables(
    Repository* repo, ReadSnapshot* snapshot, const InstanceSchema& schema,
    const std::vector<const PlannedTable*>& tables,
    const std::map<std::string, const TableEntry*>& previous, int readers, ProgressMeter* meter,
    CancellationToken* cancel) {
  std::vector<std::unique_ptr<ReadSnapshot>> forks;
  std::vector<ReadSnapshot*> readers_of = {snapshot};
  const size_t most = static_cast<size_t>(std::max(readers, 1));
  auto fork_up_to = [&](size_t wanted) -> Status {
    while (readers_of.size() < std::min(most, wanted)) {
      LB_ASSIGN_OR_RETURN(std::unique_ptr<ReadSnapshot> fork, snapshot->Fork());
      if (!fork) break;
      forks.push_back(std::move(fork));
      readers_of.push_back(forks.back().get());
    }
    return OkStatus();
  };
  LB_RETURN_IF_ERROR(fork_up_to(tables.size()));

  std::vector<TableJob> jobs(tables.size());
  Status split = RunOnWorkers(readers_of.size(), jobs.size(), [&](size_t worker, size_t k) {
    TableJob& job = jobs[k];
    job.planned = tables[k];
    job.info = FindInfo(schema, tables[k]->name);
    auto found = previous.find(tables[k]->name);
    if (found != previous.end()) job.previous = found->second;
    LB_ASSIGN_OR_RETURN(job.parts, readers_of[worker]->SplitTable(*job.info));
    if (job.parts.empty()) job.parts.push_back(TablePart{});
    job.waiting.resize(job.parts.size());
    return OkStatus();
  });
  LB_RETURN_IF_ERROR(split);
  std::vector<size_t> order(tables.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tables[a]->estimated_bytes > tables[b]->estimated_bytes;
  });
  std::vector<std::pair<size_t, size_t>> items;  // (job, part)
  for (size_t j : order) {
    for (size_t p = 0; p < jobs[j].parts.size(); ++p) items.emplace_back(j, p);
  }
  LB_RETURN_IF_ERROR(fork_up_to(items.size()));  // parts of few tables keep more readers busy
  Status read = RunOnWorkers(readers_of.size(), items.size(), [&](size_t worker, size_t k) {
    LB_RETURN_IF_ERROR(cancel->Check());
    return BackupPart(repo, readers_of[worker], &jobs[items[k].first], items[k].second, meter,
                      cancel);
  });
  LB_RETURN_IF_ERROR(read);
  std::vector<TableEntry> out;
  for (TableJob& job : jobs) out.push_back(std::move(job.entry));
  return out;
}

Result<BackupPlan> MakePlan(ReadSnapshot* snapshot, const InstanceSchema& schema,
                            const BackupRequest& request) {
  BackupPlan plan;
  const SelectionRules& rules = request.rules;
  std::vector<TableInfo> included;
  for (const TableDecision& d : SelectTables(TableNames(schema), rules)) {
    PlannedTable t;
    t.name = d.name;
    t.included = d.included;
    t.kind = d.metadata ? "metadata" : "data";
    t.reason = d.reason;
    const TableInfo* info = FindInfo(schema, d.name);
    if (d.included) {
      LB_ASSIGN_OR_RETURN(t.estimated_bytes, snapshot->EstimateSize(*info));
      if (t.estimated_bytes > rules.large_table_bytes) {
        t.large = true;
        bool include = false;
        std::string size = FormatBytes(t.estimated_bytes);
        std::string limit = FormatBytes(rules.large_table_bytes);
        if (request.large == LargeTableOverride::kInclude) {
          include = true;
        } else if (request.large == LargeTableOverride::kExclude) {
          include = false;
        } else if (rules.large_tables == SelectionRules::LargeTablePolicy::kInclude) {
          include = true;
        } else if (rules.large_tables == SelectionRules::LargeTablePolicy::kExclude) {
          include = false;
        } else if (request.ask_large) {
          include = request.ask_large(t.name, t.estimated_bytes);
        } else if (!request.dry_run) {
          return FailedPreconditionError(
              "table " + t.name + " holds about " + size + ", above large_table_bytes (" + limit +
              "), and the profile says to ask, but there is no terminal to ask on: " +
              "pass --include-large or --exclude-large, or set large_tables in the profile");
        } else {
          include = true;
        }
        plan.warnings.push_back("table " + t.name + " holds about " + size +
                                ", above large_table_bytes (" + limit +
                                "): " + (include ? "included" : "excluded"));
        if (!include) {
          t.included = false;
          t.reason = "large table (" + size + " > " + limit + ")";
        }
      }
      if (t.included) {
        plan.estimated_bytes += t.estimated_bytes;
        included.push_back(*info);
      }
    }
    plan.tables.push_back(std::move(t));
  }
  for (const SkippedTable& skipped : schema.skipped) {
    PlannedTable t;
    t.name = skipped.name;
    t.reason = skipped.reason;
    plan.tables.push_back(std::move(t));
  }
  if (request.version_query) {
    LB_ASSIGN_OR_RETURN(plan.app_version, snapshot->QueryVersion(*request.version_query));
  }
  plan.schema_fingerprint = SchemaFingerprint(included);
  return plan;
}

}  // namespace

std::vector<TableInfo> SelectedTables(const InstanceSchema& schema, const SelectionRules& rules) {
  std::vector<TableInfo> out;
  for (const TableDecision& d : SelectTables(TableNames(schema), rules)) {
    if (d.included) out.push_back(*FindInfo(schema, d.name));
  }
  return out;
}

Result<BackupOutcome> RunBackup(Repository* repo, Source* source, const std::string& location,
                                const BackupRequest& request, ProgressSink* progress,
                                CancellationToken* cancel) {
  // A restore killed before its files were in place would otherwise be backed up half done.
  if (!request.dry_run && request.files_root) {
    LB_ASSIGN_OR_RETURN(std::string settled, SettleInterruptedRestore(source, *request.files_root));
    if (!settled.empty() && progress != nullptr) progress->OnMessage(MessageLevel::kInfo, settled);
  }
  LB_ASSIGN_OR_RETURN(std::unique_ptr<ReadSnapshot> snapshot, source->BeginRead());
  return BackupFromSnapshot(repo, snapshot.get(), source->kind(), location, request, progress,
                            cancel);
}

Result<BackupOutcome> BackupFromSnapshot(Repository* repo, ReadSnapshot* snapshot,
                                         const std::string& source_kind,
                                         const std::string& location, const BackupRequest& request,
                                         ProgressSink* progress, CancellationToken* cancel) {
  Clock* clock = repo->clock();
  BackupOutcome outcome;
  Manifest& m = outcome.manifest;
  m.started_nanos = clock->NowUnixNanos();
  const SessionStats before = repo->session_stats();

  LB_ASSIGN_OR_RETURN(InstanceSchema schema, snapshot->Describe());
  LB_ASSIGN_OR_RETURN(outcome.plan, MakePlan(snapshot, schema, request));
  if (request.dry_run) return outcome;

  const BackupPlan& plan = outcome.plan;
  size_t included_count = 0;
  for (const PlannedTable& t : plan.tables) included_count += t.included ? 1 : 0;
  ProgressMeter meter(progress, clock, "backup", plan.estimated_bytes,
                      included_count + (request.files_root ? 1 : 0));
  for (const std::string& w : plan.warnings) meter.Message(MessageLevel::kWarning, w);

  std::vector<std::string> included_names;
  std::vector<const PlannedTable*> included;
  for (const PlannedTable& t : plan.tables) {
    if (!t.included) {
      m.excluded.push_back({t.name, t.reason});
      continue;
    }
    included.push_back(&t);
    included_names.push_back(t.name);
  }
  // The instance's earlier backups: the newest stream of each table is the reference its
  // changed chunks are stored against, and the newest files list the files backup's parent.
  SnapshotFilter same_instance;
  same_instance.instance = request.instance;
  std::vector<std::string> damaged;
  LB_ASSIGN_OR_RETURN(std::vector<Manifest> previous, ListManifests(repo, same_instance, &damaged));
  for (const std::string& error : damaged) {
    if (progress != nullptr) {
      progress->OnMessage(MessageLevel::kWarning,
                          error +
                              "; this backup does not use it as a reference (run `lifeboat "
                              "check`)");
    }
  }
  std::map<std::string, const TableEntry*> references;
  for (auto it = previous.rbegin(); it != previous.rend(); ++it) {
    if (it->source_kind != source_kind) continue;
    for (const TableEntry& t : it->tables) references.emplace(t.name, &t);
  }
  const int readers = request.readers > 0
                          ? request.readers
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // pg_dump's schema script is read beside the tables: it is another process on the same
  // snapshot, and would otherwise add its start-up and catalog queries to the wall time.
  Result<std::optional<SchemaScripts>> scripts = std::optional<SchemaScripts>();
  std::jthread schema_dumper([&] { scripts = snapshot->DumpSchema(cancel); });
  LB_ASSIGN_OR_RETURN(m.tables, BackupTables(repo, snapshot, schema, included, references, readers,
                                             &meter, cancel));
  schema_dumper.join();
  for (const SchemaObject& o : schema.objects) {
    if (o.type == "view" ||
        std::find(included_names.begin(), included_names.end(), o.table) != included_names.end()) {
      m.schema_objects.push_back(o);
    }
  }
  LB_ASSIGN_OR_RETURN(m.sequences, snapshot->ReadSequences(included_names));
  LB_RETURN_IF_ERROR(scripts.status());
  if (*scripts) {
    ManifestSchemaScripts& saved = m.schema_scripts.emplace();
    saved.kind = (*scripts)->kind;
    LB_ASSIGN_OR_RETURN(saved.pre_data, SaveStream(repo, (*scripts)->pre_data));
    LB_ASSIGN_OR_RETURN(saved.post_data, SaveStream(repo, (*scripts)->post_data));
  }

  // Files are read after the tables (DESIGN.md §5): rows never point at files newer than them.
  if (request.files_root) {
    std::optional<StreamRef> parent_files;
    FilesBackupOptions files_options;
    files_options.start_time_nanos = m.started_nanos;
    for (auto it = previous.rbegin(); it != previous.rend(); ++it) {
      if (it->files && it->files->root == *request.files_root) {
        parent_files = it->files->content;
        files_options.parent_start_time_nanos = it->started_nanos;
        m.parent = it->id;
        break;
      }
    }
    meter.StartItem(*request.files_root);
    LB_ASSIGN_OR_RETURN(FilesSummary files, BackupFiles(*request.files_root, repo, parent_files,
                                                        files_options, meter.sink(), cancel));
    meter.Add(files.bytes, 0);
    meter.FinishItem();
    m.files = ManifestFiles{*request.files_root, files.count, files.bytes, files.content};
    outcome.files_reread = files.files_reread;
    outcome.files_unchanged = files.files_unchanged;
  }

  LB_RETURN_IF_ERROR(cancel->Check());
  LB_RETURN_IF_ERROR(repo->Flush());
  SessionStats stats = repo->session_stats();

  m.name = request.name;
  m.notes = request.notes;
  m.tags = request.tags;
  m.account = request.account;
  m.instance = request.instance;
  m.source_kind = source_kind;
  m.source_location = location;
  m.app_version = plan.app_version;
  m.schema_fingerprint = plan.schema_fingerprint;
  m.user = request.user;
  m.host = request.host;
  m.new_blobs = stats.new_blobs - before.new_blobs;
  m.new_bytes = stats.new_bytes - before.new_bytes;
  m.stored_bytes = stats.stored_bytes - before.stored_bytes;
  m.finished_nanos = clock->NowUnixNanos();
  LB_ASSIGN_OR_RETURN(m.id, repo->SaveSnapshot(ManifestToJson(m)));
  return outcome;
}

}  // namespace lifeboat
