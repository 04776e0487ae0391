// The sample application: a small issue tracker ("tracker") kept in one SQLite file plus an
// attachments folder, generated at any size from a seed. `lifeboat demo` narrates a backup,
// a failed upgrade and a restore on it; the benchmarks generate it at gigabyte scale and apply
// realistic day-to-day changes to it.
//
// What the application holds (all names start with `trk_`):
//   configuration (metadata): trk_app_settings (with the row 'schema_version'),
//     trk_business_areas, trk_projects, trk_fields, trk_layouts, trk_rules, trk_reports;
//   data: trk_users, trk_issues, trk_comments, trk_history, trk_attachments (rows name files
//     under the attachments folder by a relative path, with their size and SHA-256);
//   excluded by default: trk_log, trk_log_api, trk_debug_trace, trk_search_cache (kept up to
//     date by triggers on trk_issues);
//   media: trk_media, a few multi-megabyte blobs (at least 5% of the database at large sizes).
// Foreign keys cascade from trk_issues to its comments, history and attachments.
//
// Every byte follows from SampleAppOptions: the same options give a byte-identical `.dump`
// and an identical attachments folder. Text is drawn from a word list, so it compresses about
// like real prose; attachments and media are mostly incompressible, like real images.
//
// Thread-safety: the functions share nothing; each opens its own connection. Two calls on the
// same database take turns: the second waits up to 5 s for the first, then fails with
// Aborted.
// Ownership: the caller owns the files; nothing is kept open after a call returns.
// Errors: AlreadyExists (creating over an existing database or a non-empty attachments
// folder), NotFound (changing a database that does not exist), InvalidArgument (bad options),
// FailedPrecondition (upgrading to the version already installed), Unavailable (I/O),
// Internal (an unexpected SQLite failure). Messages name the database or file and the action.
#pragma once

#include <cstdint>
#include <string>

#include "lifeboat/status.h"

namespace lifeboat {

struct SampleAppOptions {
  // Approximate size of the database file. The data tables take most of what the media blobs
  // leave; the excluded tables (logs, traces, the search cache) take about a fifth.
  uint64_t target_bytes = 24ull << 20;
  uint64_t seed = 42;
  // The application version stored as 'schema_version' in trk_app_settings.
  std::string version = "22.10.0017";
  // trk_media holds max(media_blobs, ceil(5% of target_bytes / media_blob_bytes)) blobs of
  // this size each; 0 blobs or 0 bytes leaves the table empty.
  uint64_t media_blob_bytes = 4ull << 20;
  int media_blobs = 3;
  // Leave the database in WAL journal mode, as the application runs it.
  bool wal = true;
};

struct SampleAppStats {
  uint64_t issues = 0;
  uint64_t comments = 0;
  uint64_t history = 0;
  uint64_t users = 0;
  uint64_t log_rows = 0;  // trk_log + trk_log_api + trk_debug_trace
  uint64_t attachment_files = 0;
  uint64_t attachment_bytes = 0;
  uint64_t database_bytes = 0;  // size of the database file once closed
};

// Creates the application at `db_path` (which must not exist) with its attachments under
// `attachments_dir` (created if missing; must be empty if present). Loads in one transaction;
// on failure removes the partial database. Generates well over 100 MB of database per
// second on one core.
Result<SampleAppStats> CreateSampleApp(const std::string& db_path,
                                       const std::string& attachments_dir,
                                       const SampleAppOptions& options);

struct BadUpgradeReport {
  uint64_t issues_deleted = 0;
  uint64_t comments_deleted = 0;  // removed by the cascade from the deleted issues
  std::string file_deleted;       // path relative to the attachments folder
  std::string new_version;
  uint64_t layouts_corrupted = 0;  // trk_layouts rows whose definition was truncated
  std::string file_modified;       // path relative to the attachments folder (truncated)
};

// Plays an upgrade whose migration went wrong: deletes the closed issues of the project that
// has the most (their comments, history and attachment rows go by cascade), truncates the
// definition of every "edit" layout, deletes the largest attachment file, truncates another,
// logs the failure, and sets 'schema_version' to `new_version`. Deterministic for a given
// database.
Result<BadUpgradeReport> SimulateBadUpgrade(const std::string& db_path,
                                            const std::string& attachments_dir,
                                            const std::string& new_version);

struct ChangeReport {
  uint64_t updated = 0;
  uint64_t inserted = 0;
  uint64_t deleted = 0;  // includes rows removed by cascade
};

// A day of use touching about `fraction` of the rows of the data tables (users, issues,
// comments, history, attachments), in one transaction:
//   ~70% updates on the most recent 10% of issues and comments (status changes, each with a
//        history row appended; comment edits),
//   ~28% new rows (those history rows, new issues with a first comment, new comments),
//   ~2%  deletes scattered over the whole range (comments, history rows, a few issues).
// Also appends log rows, writes two new attachment files (with their rows) and rewrites one
// existing file (updating its row). `fraction` must be in (0, 1].
Result<ChangeReport> ApplyRealisticChange(const std::string& db_path,
                                          const std::string& attachments_dir, double fraction,
                                          uint64_t seed);

// A complete lifeboat.toml for the demo: the repository at `repo_dir`, a "tracker" profile
// describing the application (version query, include/exclude globs, metadata tables, an 8 MiB
// large-table threshold that trk_media trips at the default size, policy "ask") and an
// instance "prod" of account "acme" on `db_path` and `attachments_dir`. Paths are made
// absolute.
std::string SampleAppProfileToml(const std::string& db_path, const std::string& attachments_dir,
                                 const std::string& repo_dir);

}  // namespace lifeboat
