// Sandbox: one sample tracker application (a SQLite database and an attachments folder), a
// password file, a lifeboat.toml and a repository directory, all in a fresh temporary
// directory, plus helpers that run the real `lifeboat` binary against them.
//
// The sample application is generated once per test binary for each size asked for and
// copied into every sandbox, so a test starts from a byte-identical application in a few
// milliseconds.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "engine/sample_app.h"
#include "repo/repository.h"
#include "storage/local_object_store.h"
#include "test_support.h"

namespace lifeboat::testing {

// The tables of the sample tracker that the "tracker" profile below backs up, and those it
// leaves out: four by the default exclusions (logs, debug traces, the search cache), one by
// the profile's own exclude pattern.
inline const std::vector<std::string> kIncludedTables = {
    "trk_app_settings", "trk_attachments", "trk_business_areas", "trk_comments", "trk_fields",
    "trk_history",      "trk_issues",      "trk_layouts",        "trk_media",    "trk_projects",
    "trk_reports",      "trk_rules",       "trk_users"};
inline const std::vector<std::string> kDefaultExcludedTables = {"trk_debug_trace", "trk_log",
                                                                "trk_log_api", "trk_search_cache"};
inline constexpr char kProfileExcludedTable[] = "trk_tmp_import";
inline const std::vector<std::string> kMetadataTables = {
    "trk_business_areas", "trk_fields", "trk_layouts", "trk_projects", "trk_reports", "trk_rules"};
inline constexpr char kVersion[] = "22.10.0017";
inline constexpr char kPassword[] = "correct horse battery staple";

struct SampleSpec {
  uint64_t target_bytes = 3ull << 20;
  uint64_t media_blob_bytes = 768ull << 10;  // 3 blobs: trk_media is about 2.3 MiB
  int media_blobs = 3;
};

// Where the template application for `spec` lives (generated on first use).
inline const std::string& SampleTemplate(const SampleSpec& spec) {
  static std::map<std::vector<uint64_t>, std::unique_ptr<TempDir>> templates;
  std::unique_ptr<TempDir>& dir = templates[{spec.target_bytes, spec.media_blob_bytes,
                                             static_cast<uint64_t>(spec.media_blobs)}];
  if (!dir) {
    auto made_dir = std::make_unique<TempDir>("lifeboat-sample");
    const TempDir& d = *made_dir;
    SampleAppOptions options;
    options.target_bytes = spec.target_bytes;
    options.media_blob_bytes = spec.media_blob_bytes;
    options.media_blobs = spec.media_blobs;
    options.version = kVersion;
    Result<SampleAppStats> made = CreateSampleApp(d / "tracker.db", d / "attachments", options);
    if (!made.ok()) throw std::runtime_error("sample app: " + made.status().ToString());
    // A scratch table of the application that the profile excludes by pattern.
    Sqlite(d / "tracker.db",
           {"CREATE TABLE trk_tmp_import (id INTEGER PRIMARY KEY, line TEXT NOT NULL);"
            "INSERT INTO trk_tmp_import (line) VALUES ('a'), ('b'), ('c');"});
    // A file with unusual permissions and a symlink, so a restore has modes to get right.
    WriteFile(d / "attachments/README.txt", "attachments of the sample tracker\n");
    chmod((d / "attachments/README.txt").c_str(), 0640);
    fs::create_symlink("README.txt", d / "attachments/readme-link");
    dir = std::move(made_dir);
  }
  return dir->path();
}

struct ConfigOptions {
  std::string restore_window = "7d";
  std::string large_table_bytes = "1MiB";
  std::string large_tables = "ask";
  // Appended as is (more instances, say).
  std::string extra;
  // Written instead of the generated [profile.tracker] table, when not empty.
  std::string profile_override;
};

class Sandbox {
 public:
  explicit Sandbox(const SampleSpec& spec = {}) : tmp_("lifeboat-e2e") {
    dir = tmp_.path();
    app = dir + "/app";
    db = app + "/tracker.db";
    attachments = app + "/attachments";
    repo = dir + "/repository";
    password_file = dir + "/password";
    config = dir + "/lifeboat.toml";
    fs::copy(SampleTemplate(spec), app,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    WriteFile(password_file, std::string(kPassword) + "\n");
    WriteConfig();
  }

  std::string dir, app, db, attachments, repo, password_file, config;

  std::string ProfileToml(const ConfigOptions& o) const {
    if (!o.profile_override.empty()) return o.profile_override;
    return "[profile.tracker]\n"
           "version_query = \"SELECT value FROM trk_app_settings WHERE key = "
           "'schema_version'\"\n"
           "include = [\"trk_*\"]\n"
           "exclude = [\"trk_tmp_*\"]\n"
           "metadata = [\"trk_business_areas\", \"trk_projects\", \"trk_fields\", "
           "\"trk_layouts\", \"trk_rules\", \"trk_reports\"]\n"
           "large_table_bytes = \"" +
           o.large_table_bytes + "\"\nlarge_tables = \"" + o.large_tables + "\"\n\n";
  }

  // lifeboat.toml: the repository, the password file, the "tracker" profile and the
  // instance "prod" (account "acme") on the sandbox's application.
  void WriteConfig(const ConfigOptions& o = {}) {
    WriteFile(config, "repository = \"" + repo + "\"\npassword_file = \"" + password_file +
                          "\"\nrestore_window = \"" + o.restore_window + "\"\n\n" + ProfileToml(o) +
                          "[instance.prod]\n"
                          "profile = \"tracker\"\n"
                          "account = \"acme\"\n"
                          "database = \"sqlite://" +
                          db + "\"\nfiles = \"" + attachments + "\"\n\n" + o.extra);
  }

  // `lifeboat --config lifeboat.toml ARGS...`, stdin from /dev/null.
  RunResult Cli(const std::vector<std::string>& args, const RunOptions& options = {}) const {
    std::vector<std::string> argv = {kLifeboatCli, "--config", config};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, options);
  }
  // The same with --json, expecting success: the parsed document.
  nlohmann::json CliJson(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = Cli(argv);
    if (r.exit_code != 0) {
      throw std::runtime_error("lifeboat " + Join(args) + " failed: " + r.Describe());
    }
    return r.Json();
  }

  void Init() const { CliJson({"init"}); }

  // Backs up "prod" (trk_media included) and returns the new backup's id.
  std::string Backup(const std::vector<std::string>& more = {}) const {
    std::vector<std::string> args = {"backup", "prod", "--include-large"};
    args.insert(args.end(), more.begin(), more.end());
    return CliJson(args)["snapshot"]["id"].get<std::string>();
  }

  nlohmann::json Snapshots() const { return CliJson({"snapshots"}); }

  // `.dump` of the included tables of a database (the sandbox's by default).
  std::string Dump(const std::string& database = "") const {
    return DumpTables(database.empty() ? db : database, kIncludedTables);
  }

  static std::string Join(const std::vector<std::string>& args) {
    std::string out;
    for (const std::string& a : args) out += (out.empty() ? "" : " ") + a;
    return out;
  }

 private:
  TempDir tmp_;
};

// The sandbox's repository opened through the repository API, as another Lifeboat process
// would open it.
struct OpenedRepository {
  std::unique_ptr<LocalObjectStore> store;
  std::unique_ptr<Repository> repo;
};

inline OpenedRepository OpenRepository(const std::string& path,
                                       const std::string& password = kPassword) {
  OpenedRepository out;
  Result<std::unique_ptr<LocalObjectStore>> store = LocalObjectStore::Open(path, false);
  if (!store.ok()) throw std::runtime_error(store.status().ToString());
  out.store = std::move(*store);
  Result<std::unique_ptr<Repository>> repo =
      Repository::Open(out.store.get(), password, Clock::Real());
  if (!repo.ok()) throw std::runtime_error(repo.status().ToString());
  out.repo = std::move(*repo);
  return out;
}

}  // namespace lifeboat::testing
