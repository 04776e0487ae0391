// Restore: bring an instance back to a backup's state, with every guard of DESIGN.md §5.
//
// Before anything changes: the backup belongs to the instance's account, it is inside the
// restore window (unless the operator insists), the caller confirmed, the instance is held
// exclusively (maintenance: the application's connections wait or fail), and the target
// runs the backup's application version with the same schema fingerprint — or holds none of
// the backup's tables, which makes the restore a clone. Then a safety backup of the target
// (tag `safety`) is taken inside the same exclusive hold, the tables are replaced in one
// transaction (all or nothing, foreign keys checked before commit), and the files directory
// is swapped in.
//
// Refusals are FailedPrecondition (exit code 3) with what to do next. Locking of the
// instance against other Lifeboat operations and the activity log are the caller's.
// Thread-safety: one restore per call.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/cancellation.h"
#include "lifeboat/progress.h"
#include "ops/backup.h"
#include "ops/manifest.h"
#include "repo/repository.h"
#include "source/source.h"

namespace lifeboat {

struct RestoreRequest {
  std::string instance;
  std::string account;
  std::optional<std::vector<std::string>> tables;  // a subset of the backup's tables
  std::optional<std::string> files_root;
  SelectionRules rules;  // the target's profile, for the safety backup
  std::optional<std::string> version_query;
  int64_t window_nanos = 7LL * 24 * 3600 * 1'000'000'000LL;
  bool ignore_window = false;
  bool confirmed = false;
  bool dry_run = false;
  bool safety_backup = true;
  std::string user;
  std::string host;
  int wait_millis = 10'000;
};

struct RestoredTable {
  std::string name;
  uint64_t rows = 0;
  uint64_t bytes = 0;
};

struct RestoreOutcome {
  bool clone = false;  // the target held none of the backup's tables
  std::optional<std::string> target_version;
  std::string safety_snapshot;  // id of the safety backup, "" when none was needed
  std::vector<RestoredTable> tables;
  uint64_t files = 0;
  uint64_t file_bytes = 0;
};

// `table_errors` (may be null) receives (table, error) for a table whose load failed, for the
// activity log.
Result<RestoreOutcome> RunRestore(
    Repository* repo, Source* source, const std::string& location, const Manifest& backup,
    const RestoreRequest& request, ProgressSink* progress, CancellationToken* cancel,
    std::vector<std::pair<std::string, std::string>>* table_errors = nullptr);

}  // namespace lifeboat
