// The JSON documents the engine returns (docs/CLI.md, "JSON output"): one function per view
// of a manifest or plan, so the CLI, the server and the tests see the same fields.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "ops/backup.h"
#include "ops/manifest.h"

namespace lifeboat {

// One line of `snapshots`: id, short_id, time, name, notes, tags, account, instance, version,
// size, restorable_until.
nlohmann::json SnapshotSummary(const Manifest& m, int64_t restore_window_nanos);
// `show`: the summary plus tables (kind, rows, bytes), excluded tables, files, sequences.
nlohmann::json ManifestDetails(const Manifest& m, int64_t restore_window_nanos);
// `backup --dry-run` and the plan part of `backup`.
nlohmann::json PlanToJson(const BackupPlan& plan, const SelectionRules& rules);
// Figures the activity log and `backup` report.
nlohmann::json BackupFigures(const Manifest& m);

}  // namespace lifeboat
