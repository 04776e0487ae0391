// End-to-end: the `lifeboat` command line against a real SQLite application and a real local
// repository. Each test starts from a fresh copy of the sample tracker (tests/sandbox.h).
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <set>

#include "sandbox.h"

namespace lifeboat::testing {
namespace {

std::string CurrentUser() {
  const passwd* pw = getpwuid(geteuid());
  return pw != nullptr ? pw->pw_name : "";
}

std::set<std::string> Names(const nlohmann::json& list) {
  std::set<std::string> names;
  for (const auto& item : list) names.insert(item["name"].get<std::string>());
  return names;
}

const nlohmann::json* FindByName(const nlohmann::json& list, const std::string& name) {
  for (const auto& item : list) {
    if (item["name"] == name) return &item;
  }
  return nullptr;
}

class CliEndToEndTest : public ::testing::Test {
 protected:
  Sandbox box_;
};

TEST_F(CliEndToEndTest, InitWithPasswordFileCreatesARepositoryThatOpensWithTheSamePassword) {
  TempDir cwd("lifeboat-cwd");  // no lifeboat.toml here: one-off use
  const std::string repo = cwd / "repo";
  RunOptions in_cwd;
  in_cwd.cwd = cwd.path();

  RunResult init = RunProcess(
      {kLifeboatCli, "--repo", repo, "--password-file", box_.password_file, "--json", "init"},
      in_cwd);
  ASSERT_EQ(init.exit_code, 0) << init.Describe();
  EXPECT_TRUE(init.Json()["created"].get<bool>());
  EXPECT_TRUE(fs::is_regular_file(repo + "/config"));
  EXPECT_EQ(ListFiles(repo + "/keys").size(), 1u);

  RunResult list = RunProcess(
      {kLifeboatCli, "--repo", repo, "--password-file", box_.password_file, "--json", "snapshots"},
      in_cwd);
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  EXPECT_EQ(list.Json(), nlohmann::json::array());

  // A second init over the same repository is refused and leaves the key slot alone.
  RunResult again = RunProcess(
      {kLifeboatCli, "--repo", repo, "--password-file", box_.password_file, "init"}, in_cwd);
  EXPECT_NE(again.exit_code, 0) << again.Describe();
  EXPECT_EQ(ListFiles(repo + "/keys").size(), 1u);
}

TEST_F(CliEndToEndTest, InitTakesThePasswordFromTheEnvironment) {
  TempDir cwd("lifeboat-cwd");
  const std::string repo = cwd / "repo";
  RunOptions with_env;
  with_env.cwd = cwd.path();
  with_env.env["LIFEBOAT_PASSWORD"] = "from the environment";

  RunResult init = RunProcess({kLifeboatCli, "--repo", repo, "init"}, with_env);
  ASSERT_EQ(init.exit_code, 0) << init.Describe();
  RunResult list = RunProcess({kLifeboatCli, "--repo", repo, "--json", "snapshots"}, with_env);
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  EXPECT_EQ(list.Json(), nlohmann::json::array());

  // The password file holds another password: the repository does not open with it.
  RunOptions no_env;
  no_env.cwd = cwd.path();
  RunResult wrong = RunProcess(
      {kLifeboatCli, "--repo", repo, "--password-file", box_.password_file, "snapshots"}, no_env);
  EXPECT_EQ(wrong.exit_code, 3) << wrong.Describe();
}

TEST_F(CliEndToEndTest, CompressionLevelIsChosenAtInitAndMayBeChangedPerBackup) {
  // Out of range: refused as a usage error that gives the range, and nothing is created.
  RunResult bad_init = box_.Cli({"init", "--compression-level", "25"});
  EXPECT_EQ(bad_init.exit_code, 2) << bad_init.Describe();
  EXPECT_NE(bad_init.err.find("compression level 25 is out of range: give 1 (fastest) to 19"),
            std::string::npos)
      << bad_init.Describe();
  EXPECT_FALSE(fs::exists(box_.repo + "/config"));

  nlohmann::json init = box_.CliJson({"init", "--compression-level", "1"});
  EXPECT_EQ(init["compression"], "zstd") << "a level asks for zstd";
  EXPECT_EQ(init["compression_level"], 1);
  RunResult bad_backup = box_.Cli({"backup", "prod", "--compression-level", "0"});
  EXPECT_EQ(bad_backup.exit_code, 2) << bad_backup.Describe();
  EXPECT_NE(bad_backup.err.find("compression level 0 is out of range"), std::string::npos)
      << bad_backup.Describe();
  EXPECT_EQ(box_.Snapshots().size(), 0u);

  // The same data stored at the repository's level 1 and, in a second repository of level 1,
  // at level 19 for one backup: the chosen level is the one used, and every blob reads back.
  Sandbox other;
  other.CliJson({"init", "--compression-level", "1"});
  nlohmann::json fast = box_.CliJson({"backup", "prod", "--include-large"});
  nlohmann::json small =
      other.CliJson({"backup", "prod", "--include-large", "--compression-level", "19"});
  const uint64_t fast_bytes = fast["figures"]["stored_bytes"].get<uint64_t>();
  const uint64_t small_bytes = small["figures"]["stored_bytes"].get<uint64_t>();
  EXPECT_LT(small_bytes, fast_bytes);
  RunResult check = other.Cli({"check", "--read-data"});
  EXPECT_EQ(check.exit_code, 0) << check.Describe();
}

TEST_F(CliEndToEndTest, Lz4IsTheDefaultOrChosenPerBackupAndRestoresExactly) {
  RunResult bad_init = box_.Cli({"init", "--compression", "gzip"});
  EXPECT_EQ(bad_init.exit_code, 2) << bad_init.Describe();
  EXPECT_NE(bad_init.err.find("compression \"gzip\" is not known: give lz4 (fastest) or zstd"),
            std::string::npos)
      << bad_init.Describe();
  EXPECT_FALSE(fs::exists(box_.repo + "/config"));

  nlohmann::json init = box_.CliJson({"init"});
  EXPECT_EQ(init["compression"], "lz4") << "the default";
  EXPECT_EQ(init["compression_level"], 3) << "the level of delta blobs";
  RunResult bad_backup = box_.Cli({"backup", "prod", "--compression", "brotli"});
  EXPECT_EQ(bad_backup.exit_code, 2) << bad_backup.Describe();
  EXPECT_EQ(box_.Snapshots().size(), 0u);

  // The same data in an lz4 repository, and in a zstd one whose backup asks for lz4: about the
  // same bytes stored (each repository cuts its own chunks); a zstd backup of it is smaller.
  const std::string tables_before = box_.Dump();
  Sandbox zstd_repo;
  EXPECT_EQ(zstd_repo.CliJson({"init", "--compression", "zstd"})["compression"], "zstd");
  nlohmann::json lz4 = box_.CliJson({"backup", "prod", "--include-large"});
  nlohmann::json chosen =
      zstd_repo.CliJson({"backup", "prod", "--include-large", "--compression", "lz4"});
  nlohmann::json zstd = zstd_repo.CliJson(
      {"backup", "prod", "--include-large", "--compression", "zstd", "--tag", "again"});
  const uint64_t lz4_bytes = lz4["figures"]["stored_bytes"].get<uint64_t>();
  const uint64_t chosen_bytes = chosen["figures"]["stored_bytes"].get<uint64_t>();
  EXPECT_LT(std::max(chosen_bytes, lz4_bytes) - std::min(chosen_bytes, lz4_bytes), lz4_bytes / 100);
  EXPECT_EQ(zstd["figures"]["stored_bytes"].get<uint64_t>(), 0u) << "nothing new to store";
  Sandbox zstd_only;
  zstd_only.CliJson({"init", "--compression-level", "3"});
  const uint64_t zstd_bytes =
      zstd_only.CliJson({"backup", "prod", "--include-large"})["figures"]["stored_bytes"];
  EXPECT_LT(zstd_bytes, lz4_bytes);

  RunResult check = box_.Cli({"check", "--read-data"});
  EXPECT_EQ(check.exit_code, 0) << check.Describe();
  Sqlite(box_.db, {"DELETE FROM trk_comments WHERE id % 2 = 0;"
                   "UPDATE trk_issues SET title = 'lost';"});
  ASSERT_NE(box_.Dump(), tables_before);
  RunResult restore = box_.Cli({"restore", "latest", "--to", "prod", "--yes"});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  EXPECT_EQ(box_.Dump(), tables_before);
}

TEST_F(CliEndToEndTest, MaintenanceOffWorksWhenTheRepositoryCannotBeOpened) {
  // The command is for emergencies: a wrong repository password costs only the log event.
  box_.Init();
  WriteFile(box_.dir + "/wrong-password", "not the password\n");
  RunResult off =
      box_.Cli({"--password-file", box_.dir + "/wrong-password", "maintenance", "off", "prod"});
  EXPECT_EQ(off.exit_code, 0) << off.Describe();
  EXPECT_TRUE(Contains(off.err, "the activity log was not written")) << off.err;
  EXPECT_TRUE(Contains(off.out, "nothing to do")) << off.out;
}

TEST_F(CliEndToEndTest, ADamagedManifestIsLeftOutAndStopsNeitherTheListNorTheNextBackup) {
  box_.Init();
  const std::string first = box_.CliJson({"backup", "prod", "--include-large"})["snapshot"]["id"];
  const std::string second = box_.CliJson({"backup", "prod", "--include-large"})["snapshot"]["id"];
  WriteFile(box_.repo + "/snapshots/" + first, "not a manifest any more");

  RunResult listed = box_.Cli({"--json", "snapshots"});
  ASSERT_EQ(listed.exit_code, 0) << listed.Describe();
  ASSERT_EQ(listed.Json().size(), 1u);
  EXPECT_EQ(listed.Json()[0]["id"], second);
  EXPECT_TRUE(Contains(listed.err, "lifeboat check")) << listed.err;
  RunResult backup = box_.Cli({"--json", "backup", "prod", "--include-large"});
  EXPECT_EQ(backup.exit_code, 0) << backup.Describe();
  // By its id, the damaged one is still an error.
  EXPECT_EQ(box_.Cli({"show", first.substr(0, 12)}).exit_code, 5);
}

TEST_F(CliEndToEndTest, AnInterruptAtTheConfirmationPromptCancelsTheRestore) {
  if (RunProcess({"/bin/sh", "-c", "command -v script"}).exit_code != 0) {
    GTEST_SKIP() << "no script(1) to give the restore a terminal";
  }
  box_.Init();
  const std::string id = box_.CliJson({"backup", "prod", "--include-large"})["snapshot"]["id"];
  // On a terminal (script), with input that stays open, a signal arrives while the prompt
  // waits: SIGTERM, as the shell starts a background command with SIGINT ignored.
  const std::string restore = std::string(kLifeboatCli) + " --config " + box_.config + " restore " +
                              id.substr(0, 12) + " --to prod";
  const std::string inner =
      "exec 3<&0; " + restore + " 0<&3 & pid=$!; sleep 3; kill -TERM $pid; wait $pid; echo EXIT=$?";
  RunResult r = RunProcess({"/bin/sh", "-c", "sleep 10 | script -qec '" + inner + "' /dev/null"});
  EXPECT_TRUE(Contains(r.out, "Type 'I understand'")) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "EXIT=130")) << r.Describe();
  nlohmann::json log = box_.CliJson({"log"});
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back()["operation"], "restore");
  EXPECT_EQ(log.back()["outcome"], "cancelled") << log.back().dump();
}

TEST_F(CliEndToEndTest, BackupOfAConfiguredInstanceIsListedWithEveryField) {
  box_.Init();
  nlohmann::json backup =
      box_.CliJson({"backup", "prod", "--include-large", "--name", "before 23.1", "--notes",
                    "upgrade tonight", "--tag", "pre-upgrade"});
  ASSERT_FALSE(backup["dry_run"].get<bool>());
  const std::string id = backup["snapshot"]["id"].get<std::string>();
  EXPECT_EQ(id.size(), 64u);

  nlohmann::json list = box_.Snapshots();
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.size(), 1u);
  const nlohmann::json& s = list[0];
  ASSERT_TRUE(s.is_object());
  for (const char* key :
       {"id", "time", "name", "notes", "tags", "account", "instance", "version", "size"}) {
    EXPECT_TRUE(s.contains(key)) << "snapshots --json lacks '" << key << "': " << s.dump();
  }
  EXPECT_EQ(s["id"], id);
  EXPECT_EQ(s["name"], "before 23.1");
  EXPECT_EQ(s["notes"], "upgrade tonight");
  EXPECT_EQ(s["tags"], nlohmann::json::array({"pre-upgrade"}));
  EXPECT_EQ(s["account"], "acme");
  EXPECT_EQ(s["instance"], "prod");
  EXPECT_EQ(s["version"], kVersion);
  EXPECT_GT(s["size"].get<uint64_t>(), 2u << 20);                    // trk_media alone is 2.25 MiB
  EXPECT_EQ(s["time"].get<std::string>().size(), 20u) << s["time"];  // 2026-11-22T10:04:05Z

  // Without --tag a backup is tagged "manual".
  box_.Backup();
  nlohmann::json two = box_.Snapshots();
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1]["tags"], nlohmann::json::array({"manual"}));
}

TEST_F(CliEndToEndTest, OneOffUrlBackupWorksWithoutAConfigFile) {
  TempDir cwd("lifeboat-cwd");
  const std::string repo = cwd / "repo";
  RunOptions in_cwd;
  in_cwd.cwd = cwd.path();
  auto lifeboat = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {kLifeboatCli, "--repo", repo, "--password-file",
                                     box_.password_file};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, in_cwd);
  };
  ASSERT_EQ(lifeboat({"init"}).exit_code, 0);
  RunResult backup = lifeboat({"--json", "backup", "sqlite://" + box_.db});
  ASSERT_EQ(backup.exit_code, 0) << backup.Describe();

  RunResult list = lifeboat({"--json", "snapshots"});
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  nlohmann::json snapshots = list.Json();
  ASSERT_EQ(snapshots.size(), 1u);
  EXPECT_EQ(snapshots[0]["instance"], box_.db);
  EXPECT_EQ(snapshots[0]["account"], "default");

  // The built-in profile backs up every table but logs, debug traces and search caches.
  RunResult show = lifeboat({"--json", "show", "latest"});
  ASSERT_EQ(show.exit_code, 0) << show.Describe();
  nlohmann::json manifest = show.Json();
  std::set<std::string> expected(kIncludedTables.begin(), kIncludedTables.end());
  expected.insert(kProfileExcludedTable);
  EXPECT_EQ(Names(manifest["tables"]), expected);
  EXPECT_EQ(Names(manifest["excluded"]),
            std::set<std::string>(kDefaultExcludedTables.begin(), kDefaultExcludedTables.end()));
  EXPECT_TRUE(manifest["files"].is_null());
}

TEST_F(CliEndToEndTest, LatestAndAnIdPrefixResolveToTheirBackups) {
  box_.Init();
  const std::string first = box_.Backup({"--name", "first"});
  const std::string second = box_.Backup({"--name", "second"});
  ASSERT_NE(first, second);

  EXPECT_EQ(box_.CliJson({"show", "latest"})["id"], second);
  EXPECT_EQ(box_.CliJson({"show", first.substr(0, 6)})["id"], first);
  EXPECT_EQ(box_.CliJson({"show", first.substr(0, 6)})["name"], "first");
  EXPECT_EQ(box_.CliJson({"show", second})["name"], "second");

  RunResult text = box_.Cli({"show", first.substr(0, 8)});
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_TRUE(Contains(text.out, first)) << text.out;
}

TEST_F(CliEndToEndTest, ShowListsTablesWithKindRowsAndBytesAndExclusionsWithReasons) {
  box_.Init();
  box_.Backup();
  nlohmann::json m = box_.CliJson({"show", "latest"});

  ASSERT_TRUE(m["tables"].is_array());
  EXPECT_EQ(Names(m["tables"]),
            std::set<std::string>(kIncludedTables.begin(), kIncludedTables.end()));
  std::set<std::string> metadata(kMetadataTables.begin(), kMetadataTables.end());
  for (const auto& t : m["tables"]) {
    const std::string name = t["name"].get<std::string>();
    EXPECT_EQ(t["kind"], metadata.count(name) ? "metadata" : "data") << name;
    EXPECT_EQ(t["rows"].get<int64_t>(), CountRows(box_.db, name)) << name;
    if (t["rows"].get<int64_t>() > 0) {
      EXPECT_GT(t["bytes"].get<uint64_t>(), 0u) << name;
    }
  }
  EXPECT_GE(FindByName(m["tables"], "trk_media")->at("bytes").get<uint64_t>(), 3u * 768 << 10);

  ASSERT_TRUE(m["excluded"].is_array());
  std::set<std::string> excluded(kDefaultExcludedTables.begin(), kDefaultExcludedTables.end());
  excluded.insert(kProfileExcludedTable);
  EXPECT_EQ(Names(m["excluded"]), excluded);
  for (const char* log : {"trk_log", "trk_log_api", "trk_debug_trace"}) {
    const nlohmann::json* e = FindByName(m["excluded"], log);
    ASSERT_NE(e, nullptr) << log;
    EXPECT_TRUE(Contains((*e)["reason"], "excluded by default")) << (*e)["reason"];
    EXPECT_TRUE(Contains((*e)["reason"], "log or debug")) << (*e)["reason"];
  }
  EXPECT_TRUE(Contains((*FindByName(m["excluded"], "trk_search_cache"))["reason"], "search cache"));
  EXPECT_TRUE(Contains((*FindByName(m["excluded"], kProfileExcludedTable))["reason"],
                       "excluded by profile (pattern 'trk_tmp_*')"));

  ASSERT_TRUE(m["files"].is_object());
  EXPECT_EQ(m["files"]["root"], box_.attachments);
  EXPECT_EQ(m["files"]["count"].get<size_t>(), ListFiles(box_.attachments).size());

  // The text form names the same tables and reasons.
  RunResult text = box_.Cli({"show", "latest"});
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_TRUE(Contains(text.out, "trk_layouts")) << text.out;
  EXPECT_TRUE(Contains(text.out, "trk_search_cache (excluded by default")) << text.out;
}

TEST_F(CliEndToEndTest, DryRunPrintsThePlanAndWritesNothing) {
  box_.Init();
  const size_t objects = CountObjects(box_.repo);

  RunResult text = box_.Cli({"backup", "prod", "--dry-run"});
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_TRUE(Contains(text.out, "plan (size check)")) << text.out;
  EXPECT_TRUE(Contains(text.out, "+ trk_issues")) << text.out;
  EXPECT_TRUE(Contains(text.out, "- trk_log")) << text.out;
  EXPECT_TRUE(Contains(text.out, "LARGE")) << text.out;
  EXPECT_TRUE(Contains(text.out, "application version 22.10.0017")) << text.out;
  EXPECT_TRUE(Contains(text.out, "dry run: nothing was written")) << text.out;

  nlohmann::json plan = box_.CliJson({"backup", "prod", "--dry-run"});
  EXPECT_TRUE(plan["dry_run"].get<bool>());
  const nlohmann::json* media = FindByName(plan["plan"]["tables"], "trk_media");
  ASSERT_NE(media, nullptr);
  EXPECT_TRUE((*media)["large"].get<bool>());
  EXPECT_FALSE((*FindByName(plan["plan"]["tables"], "trk_log"))["included"].get<bool>());

  EXPECT_EQ(CountObjects(box_.repo), objects);
  EXPECT_EQ(box_.Snapshots(), nlohmann::json::array());
}

TEST_F(CliEndToEndTest, LargeTableWithPolicyAskAndNoTerminalIsRefusedWithExitCode3) {
  box_.Init();
  RunResult r = box_.Cli({"backup", "prod"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "trk_media")) << r.err;
  EXPECT_TRUE(Contains(r.err, "--include-large")) << r.err;
  EXPECT_TRUE(Contains(r.err, "--exclude-large")) << r.err;
  EXPECT_EQ(box_.Snapshots(), nlohmann::json::array());
  EXPECT_EQ(CountObjects(box_.repo, "snapshots"), 0u);
}

TEST_F(CliEndToEndTest, ExcludeLargeLeavesTheMediaTableOut) {
  box_.Init();
  nlohmann::json backup = box_.CliJson({"backup", "prod", "--exclude-large"});
  nlohmann::json m = box_.CliJson({"show", backup["snapshot"]["id"].get<std::string>()});
  EXPECT_EQ(FindByName(m["tables"], "trk_media"), nullptr);
  const nlohmann::json* media = FindByName(m["excluded"], "trk_media");
  ASSERT_NE(media, nullptr) << m["excluded"].dump();
  EXPECT_TRUE(Contains((*media)["reason"], "large table")) << (*media)["reason"];
  EXPECT_NE(FindByName(m["tables"], "trk_issues"), nullptr);

  // The policy "exclude" in the profile does the same without a flag.
  ConfigOptions exclude;
  exclude.large_tables = "exclude";
  box_.WriteConfig(exclude);
  nlohmann::json by_policy = box_.CliJson({"backup", "prod"});
  nlohmann::json m2 = box_.CliJson({"show", by_policy["snapshot"]["id"].get<std::string>()});
  EXPECT_EQ(FindByName(m2["tables"], "trk_media"), nullptr);
  EXPECT_NE(FindByName(m2["excluded"], "trk_media"), nullptr);
}

TEST_F(CliEndToEndTest, RestoreBringsBackTablesAndFilesAndLeavesExcludedTablesAlone) {
  box_.Init();
  box_.Backup();
  const std::string tables_before = box_.Dump();
  const Tree files_before = ReadTree(box_.attachments);
  ASSERT_GT(files_before.size(), 3u);

  // Damage: rows deleted and changed in included tables, rows added to excluded ones, an
  // attachment deleted, one rewritten, one re-moded, one added.
  Sqlite(box_.db, {"DELETE FROM trk_comments WHERE id % 3 = 0;"
                   "DELETE FROM trk_issues WHERE id % 7 = 0;"
                   "UPDATE trk_layouts SET definition = substr(definition, 1, 5);"
                   "UPDATE trk_app_settings SET value = 'broken' WHERE key <> 'schema_version';"
                   "INSERT INTO trk_log (logged_at, level, logger, message)"
                   "  VALUES ('2026-01-01', 'ERROR', 'upgrade', 'migration failed');"
                   "INSERT INTO trk_tmp_import (line) VALUES ('d');"});
  std::vector<std::string> files = ListFiles(box_.attachments);
  ASSERT_GE(files.size(), 3u);
  fs::remove(files[0]);
  WriteFile(files[1], "truncated");
  chmod(files[2].c_str(), 0600);
  WriteFile(box_.attachments + "/new-after-backup.txt", "not in the backup");
  ASSERT_NE(box_.Dump(), tables_before);

  std::map<std::string, std::string> excluded_before;
  for (const std::string& t : kDefaultExcludedTables) excluded_before[t] = TableRows(box_.db, t);
  excluded_before[kProfileExcludedTable] = TableRows(box_.db, kProfileExcludedTable);

  RunResult restore = box_.Cli({"--json", "restore", "latest", "--to", "prod", "--yes"});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  nlohmann::json result = restore.Json();
  EXPECT_FALSE(result["clone"].get<bool>());
  EXPECT_EQ(result["figures"]["tables"].get<size_t>(), kIncludedTables.size());

  EXPECT_EQ(box_.Dump(), tables_before);
  const Tree files_after = ReadTree(box_.attachments);
  EXPECT_EQ(TreeDifference(files_before, files_after), "");
  EXPECT_TRUE(files_after == files_before);
  for (const auto& [table, rows] : excluded_before) {
    EXPECT_EQ(TableRows(box_.db, table), rows) << table << " was changed by the restore";
  }
  EXPECT_EQ(Sqlite(box_.db, {"PRAGMA integrity_check;"}), "ok\n");
  EXPECT_EQ(Sqlite(box_.db, {"PRAGMA foreign_key_check;"}), "");
  // Nothing is left beside the files directory.
  for (const auto& entry : fs::directory_iterator(box_.app)) {
    EXPECT_FALSE(Contains(entry.path().filename().string(), ".lifeboat-")) << entry.path();
  }
}

TEST_F(CliEndToEndTest, RestoreOfChosenTablesLeavesTheOtherTablesAndTheFilesAlone) {
  box_.Init();
  box_.Backup();
  const std::string comments_before = DumpTables(box_.db, {"trk_comments"});
  Sqlite(box_.db, {"DELETE FROM trk_comments WHERE id % 2 = 0;"
                   "UPDATE trk_users SET display_name = 'renamed';"});
  const std::string users_changed = DumpTables(box_.db, {"trk_users"});
  const std::vector<std::string> files = ListFiles(box_.attachments);
  fs::remove(files[0]);
  const Tree files_changed = ReadTree(box_.attachments);

  RunResult r = box_.Cli(
      {"--json", "restore", "latest", "--to", "prod", "--tables", "trk_comments", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.Json()["figures"]["tables"], 1);
  EXPECT_EQ(r.Json()["figures"]["files"], 0);
  EXPECT_EQ(DumpTables(box_.db, {"trk_comments"}), comments_before);
  EXPECT_EQ(DumpTables(box_.db, {"trk_users"}), users_changed);
  EXPECT_TRUE(ReadTree(box_.attachments) == files_changed);
  // Progress counts only what is restored: the chosen table, not the files.
  EXPECT_TRUE(Contains(r.err, "restore: 1/1 items")) << r.err;
  EXPECT_FALSE(Contains(r.err, "/2 items")) << r.err;
}

TEST_F(CliEndToEndTest, RestoreIntoAnEmptyDatabaseMakesAnIdenticalClone) {
  const std::string clone_dir = box_.dir + "/clone";
  fs::create_directories(clone_dir);
  ConfigOptions with_clone;
  with_clone.extra =
      "[instance.sandbox]\nprofile = \"tracker\"\naccount = \"acme\"\n"
      "database = \"sqlite://" +
      clone_dir + "/tracker.db\"\nfiles = \"" + clone_dir + "/attachments\"\n";
  box_.WriteConfig(with_clone);
  box_.Init();
  const std::string id = box_.Backup();

  RunResult restore = box_.Cli({"--json", "restore", id.substr(0, 8), "--to", "sandbox", "--yes"});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  nlohmann::json result = restore.Json();
  EXPECT_TRUE(result["clone"].get<bool>());
  EXPECT_TRUE(result["safety_snapshot"].is_null());

  EXPECT_EQ(box_.Dump(clone_dir + "/tracker.db"), box_.Dump());
  EXPECT_EQ(TreeDifference(ReadTree(box_.attachments), ReadTree(clone_dir + "/attachments")), "");
  EXPECT_EQ(Sqlite(clone_dir + "/tracker.db", {"PRAGMA integrity_check;"}), "ok\n");
  // The clone holds only the backed-up tables.
  EXPECT_EQ(Sqlite(clone_dir + "/tracker.db",
                   {"SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                    "name = 'trk_log';"}),
            "0\n");
}

TEST_F(CliEndToEndTest, LogShowsRequestedStartedCompletedForBackupAndRestore) {
  box_.Init();
  const std::string id = box_.Backup({"--name", "nightly", "--notes", "before the upgrade"});
  RunResult restore = box_.Cli({"restore", id, "--to", "prod", "--yes"});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();

  nlohmann::json log = box_.CliJson({"log"});
  ASSERT_TRUE(log.is_array());
  std::map<std::string, std::vector<std::string>> events;
  for (const auto& e : log) {
    events[e["operation"].get<std::string>()].push_back(e["event"].get<std::string>());
    EXPECT_EQ(e["user"], CurrentUser()) << e.dump();
    EXPECT_EQ(e["instance"], "prod") << e.dump();
    EXPECT_EQ(e["account"], "acme") << e.dump();
  }
  const std::vector<std::string> full = {"requested", "started", "completed"};
  EXPECT_EQ(events["backup"], full);
  EXPECT_EQ(events["restore"], full);
  for (const auto& e : log) {
    if (e["operation"] == "backup" && e["event"] == "requested") {
      EXPECT_EQ(e["name"], "nightly");
      EXPECT_EQ(e["notes"], "before the upgrade");
    }
    if (e["operation"] == "restore" && e["event"] == "completed") {
      EXPECT_EQ(e["snapshot"], id);
    }
  }

  RunResult text = box_.Cli({"log", "--instance", "prod"});
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_TRUE(Contains(text.out, "restore completed  prod  by " + CurrentUser())) << text.out;
  EXPECT_EQ(box_.CliJson({"log", "--instance", "staging"}), nlohmann::json::array());
}

TEST_F(CliEndToEndTest, JsonErrorsAreOneDocumentWithTheExitCode) {
  box_.Init();
  RunResult missing = box_.Cli({"--json", "show", "deadbeef"});
  EXPECT_EQ(missing.exit_code, 1) << missing.Describe();
  nlohmann::json error = missing.Json();
  ASSERT_TRUE(error.contains("error")) << error.dump();
  EXPECT_EQ(error["error"]["exit_code"], 1);
  EXPECT_TRUE(Contains(error["error"]["message"], "does not exist")) << error.dump();
  EXPECT_TRUE(error["error"]["code"].is_string());

  RunResult refused = box_.Cli({"--json", "backup", "prod"});
  EXPECT_EQ(refused.exit_code, 3) << refused.Describe();
  EXPECT_EQ(refused.Json()["error"]["exit_code"], 3);
  EXPECT_TRUE(Contains(refused.Json()["error"]["message"], "trk_media"));
}

}  // namespace
}  // namespace lifeboat::testing
