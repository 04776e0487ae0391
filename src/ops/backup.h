// Backup: read an instance at one point in time and store it as a new backup.
//
// The plan comes first and writes nothing: which tables, their kind and estimated size,
// which are excluded and why, and which are above the large-table threshold (the policy or
// the per-run override decides; `ask` calls the front end's question, and refuses when there
// is nobody to ask). Then every included table streams through the repository (FORMAT.md §8,
// §9), the files directory after the tables (§9.1), the repository is flushed, and the
// manifest is written last (§10): a backup killed at any point leaves no visible snapshot.
//
// Locking and the activity log are the caller's (ops/operation.h); this file is the data path.
// Thread-safety: one backup per call; the repository may be shared.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/cancellation.h"
#include "lifeboat/progress.h"
#include "ops/manifest.h"
#include "ops/table_selection.h"
#include "repo/repository.h"
#include "source/source.h"

namespace lifeboat {

enum class LargeTableOverride { kPolicy, kInclude, kExclude };

struct BackupRequest {
  std::string instance;
  std::string account;
  std::string name;
  std::string notes;
  std::vector<std::string> tags;
  std::string user;
  std::string host;
  std::optional<std::string> files_root;
  SelectionRules rules;
  std::optional<std::string> version_query;
  LargeTableOverride large = LargeTableOverride::kPolicy;
  // Asked for each large table under the `ask` policy; empty when nobody can answer.
  std::function<bool(const std::string& table, uint64_t bytes)> ask_large;
  bool dry_run = false;
  // Tables read at once, each on its own snapshot of the same point in time, when the source
  // can share one (ReadSnapshot::Fork); 0: one per core.
  int readers = 0;
};

struct PlannedTable {
  std::string name;
  bool included = false;
  std::string kind;  // "metadata" or "data"
  uint64_t estimated_bytes = 0;
  bool large = false;
  std::string reason;  // why excluded
};

struct BackupPlan {
  std::vector<PlannedTable> tables;
  std::vector<std::string> warnings;
  uint64_t estimated_bytes = 0;  // included tables
  std::optional<std::string> app_version;
  std::string schema_fingerprint;
};

struct BackupOutcome {
  BackupPlan plan;
  Manifest manifest;  // empty id for a dry run
  uint64_t files_reread = 0;
  uint64_t files_unchanged = 0;
};

// Opens a read snapshot of `source` and backs it up.
Result<BackupOutcome> RunBackup(Repository* repo, Source* source, const std::string& location,
                                const BackupRequest& request, ProgressSink* progress,
                                CancellationToken* cancel);

// Backs up from a snapshot the caller holds (the safety backup inside a restore).
Result<BackupOutcome> BackupFromSnapshot(Repository* repo, ReadSnapshot* snapshot,
                                         const std::string& source_kind,
                                         const std::string& location, const BackupRequest& request,
                                         ProgressSink* progress, CancellationToken* cancel);

// The tables a profile selects in a described instance, with their TableInfo (used by the
// backup plan and by restore's guards on the target).
std::vector<TableInfo> SelectedTables(const InstanceSchema& schema, const SelectionRules& rules);

}  // namespace lifeboat
