// The `lifeboat` binary against a real PostgreSQL server: backup, show, a damaged instance,
// the guards, and a restore whose pg_dump is identical to the one taken at backup time.
#include <gtest/gtest.h>

#include <filesystem>

#include "source/postgres/pg_test_schema.h"
#include "source/postgres/pg_test_server.h"
#include "test_support.h"

namespace lifeboat::testing {
namespace {

constexpr char kPassword[] = "pg end to end";

class PostgresEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = server().CreateDatabase("e2e");
    copy_url_ = server().CreateDatabase("copy");
    db_ = PgTestServer::DatabaseOf(url_);
    server().Exec(db_, RichSchemaSql());
    server().Exec(db_, RichRowsSql());
    WriteFile(tmp_ / "password", std::string(kPassword) + "\n");
    WriteConfig("");
    CliJson({"init"});
  }

  static PgTestServer& server() { return PgTestServer::Shared(); }

  // Instance "prod": the schemas app and audit; `exclude` lists more exclusion globs.
  void WriteConfig(const std::string& exclude) {
    WriteFile(tmp_ / "lifeboat.toml",
              "repository = \"" + tmp_ / "repository" + "\"\npassword_file = \"" +
                  tmp_ / "password" +
                  "\"\n\n[profile.app]\n"
                  "version_query = \"SELECT value FROM settings WHERE key = 'schema_version'\"\n"
                  "include = [\"*\"]\nexclude = [" +
                  exclude +
                  "]\nmetadata = [\"settings\", \"projects\"]\n\n"
                  "[instance.prod]\nprofile = \"app\"\naccount = \"acme\"\ndatabase = \"" +
                  url_ + "&schema=app,audit\"\n\n[instance.copy]\nprofile = \"app\"\n" +
                  "account = \"acme\"\ndatabase = \"" + copy_url_ + "&schema=app,audit\"\n");
  }

  RunResult Cli(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {kLifeboatCli, "--config", tmp_ / "lifeboat.toml"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
  nlohmann::json CliJson(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = Cli(argv);
    if (r.exit_code != 0) throw std::runtime_error("lifeboat failed: " + r.Describe());
    return r.Json();
  }

  // `maintenance off INSTANCE`, retried while the killed process's server session still holds
  // its lock (exit code 4).
  RunResult MaintenanceOff(const std::string& instance) const {
    RunResult off;
    for (int attempt = 0; attempt < 50; ++attempt) {
      off = Cli({"--json", "maintenance", "off", instance});
      if (off.exit_code != 4) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return off;
  }

  std::string Dump() const { return server().PgDump(db_); }
  void Sql(const std::string& sql) const { server().Exec(db_, sql); }

  TempDir tmp_{"lifeboat-pg-e2e"};
  std::string url_;
  std::string copy_url_;
  std::string db_;
};

TEST_F(PostgresEndToEndTest, BackupThenRestoreAfterADamagingUpgradeGivesBackTheSameDump) {
  const std::string before = Dump();
  nlohmann::json backup = CliJson({"backup", "prod", "--name", "before upgrade"});
  const std::string id = backup["snapshot"]["id"];
  EXPECT_EQ(backup["snapshot"]["version"], "4.2");

  nlohmann::json shown = CliJson({"show", id.substr(0, 8)});
  EXPECT_EQ(shown["source"]["kind"], "postgresql");
  std::vector<std::string> tables;
  for (const auto& t : shown["tables"]) tables.push_back(t["name"]);
  EXPECT_NE(std::find(tables.begin(), tables.end(), "audit.changes"), tables.end());
  EXPECT_NE(std::find(tables.begin(), tables.end(), "Weird Table"), tables.end());

  Sql("SET search_path = app; DELETE FROM comments WHERE id > 100; "
      "UPDATE projects SET name = 'broken'; TRUNCATE no_key; "
      "INSERT INTO values_zoo (t) VALUES ('written by the upgrade');");
  ASSERT_NE(Dump(), before);

  RunResult restored = Cli({"--json", "restore", id, "--to", "prod", "--yes"});
  ASSERT_EQ(restored.exit_code, 0) << restored.Describe();
  EXPECT_EQ(Dump(), before) << "pg_dump after the restore differs from pg_dump at backup time";
  EXPECT_FALSE(restored.Json()["safety_snapshot"].get<std::string>().empty());

  // The safety backup holds the damaged state and is listed with its tag.
  nlohmann::json list = CliJson({"snapshots"});
  ASSERT_EQ(list.size(), 2u);
  int safety = 0;
  for (const auto& s : list) {
    for (const auto& tag : s["tags"]) safety += tag == "safety";
  }
  EXPECT_EQ(safety, 1);
  RunResult check = Cli({"check", "--read-data"});
  EXPECT_EQ(check.exit_code, 0) << check.Describe();
}

TEST_F(PostgresEndToEndTest, CloneIntoAnEmptyDatabaseRecreatesTheSchemaAndGivesTheSameDump) {
  const std::string before = Dump();
  const std::string id = CliJson({"backup", "prod"})["snapshot"]["id"];
  Sql("DELETE FROM app.comments");  // the source moves on; the clone is of the backup

  RunResult cloned = Cli({"--json", "restore", id, "--to", "copy", "--yes"});
  ASSERT_EQ(cloned.exit_code, 0) << cloned.Describe();
  EXPECT_TRUE(cloned.Json()["clone"].get<bool>());
  // The progress goes on after the last table: the indexes are an item of their own.
  EXPECT_NE(cloned.err.find("(indexes, constraints and triggers)"), std::string::npos)
      << cloned.err;
  const std::string copy_db = PgTestServer::DatabaseOf(copy_url_);
  EXPECT_EQ(server().PgDump(copy_db), before)
      << "pg_dump of the clone differs from pg_dump of the source at backup time";

  // The clone is a working instance: its sequences continue past the restored rows.
  server().Exec(copy_db, "INSERT INTO app.comments (project_id, body) VALUES (1, 'new')");
  std::unique_ptr<PgConnection> conn = server().Connect(copy_db);
  Result<PgResult> max = conn->Query("SELECT max(id) FROM app.comments", "reading");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->GetInt64(0, 0), 501);
}

TEST_F(PostgresEndToEndTest, ACloneKilledBeforeItsIndexesIsUndoneAndTheNextCloneGoesThrough) {
  const std::string before = Dump();
  const std::string id = CliJson({"backup", "prod"})["snapshot"]["id"];
  const std::string copy_db = PgTestServer::DatabaseOf(copy_url_);
  const std::string empty = server().PgDump(copy_db);

  // Killed once every table is loaded (each in a transaction of its own), before post-data.
  for (const char* point : {"clone-schema-committed", "restore-tables-loaded"}) {
    SCOPED_TRACE(point);
    RunOptions crash;
    crash.env["LIFEBOAT_CRASH_POINT"] = point;
    std::vector<std::string> argv = {
        kLifeboatCli, "--config", tmp_ / "lifeboat.toml", "restore", id, "--to", "copy", "--yes"};
    RunResult killed = RunProcess(argv, crash);
    ASSERT_EQ(killed.signal, SIGKILL) << killed.Describe();
    EXPECT_THROW(server().Connect(copy_db), std::exception) << "users could see a half clone";

    RunResult off = MaintenanceOff("copy");
    ASSERT_EQ(off.exit_code, 0) << off.Describe();
    EXPECT_NE(off.out.find("half cloned"), std::string::npos) << off.out;
    EXPECT_EQ(server().PgDump(copy_db), empty) << "the killed clone left something behind";
    // The killed process's repository lease would hold the next clone off until it expires.
    for (const auto& lease : std::filesystem::directory_iterator(tmp_ / "repository/locks")) {
      std::filesystem::remove(lease.path());
    }
  }

  RunResult cloned = Cli({"--json", "restore", id, "--to", "copy", "--yes"});
  ASSERT_EQ(cloned.exit_code, 0) << cloned.Describe();
  EXPECT_EQ(server().PgDump(copy_db), before);
}

TEST_F(PostgresEndToEndTest, RestoreIntoAnotherVersionIsRefusedAndChangesNothing) {
  const std::string id = CliJson({"backup", "prod"})["snapshot"]["id"];
  Sql("UPDATE app.settings SET value = '5.0' WHERE key = 'schema_version'; "
      "DELETE FROM app.comments;");
  const std::string before = Dump();
  RunResult refused = Cli({"restore", id, "--to", "prod", "--yes"});
  EXPECT_EQ(refused.exit_code, 3) << refused.Describe();
  EXPECT_NE(refused.err.find("4.2"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("5.0"), std::string::npos) << refused.err;
  EXPECT_EQ(Dump(), before);
}

TEST_F(PostgresEndToEndTest, ADryRunLogsNobodyOut) {
  const std::string id = CliJson({"backup", "prod"})["snapshot"]["id"];
  Sql("DELETE FROM app.comments WHERE id % 2 = 0");
  const std::string before = Dump();
  std::unique_ptr<PgConnection> app = server().Connect(db_);
  RunResult planned = Cli({"--json", "restore", id, "--to", "prod", "--dry-run"});
  ASSERT_EQ(planned.exit_code, 0) << planned.Describe();
  EXPECT_TRUE(planned.Json()["dry_run"].get<bool>());
  // The application's session is still connected: the guards were checked without
  // maintenance, which would have logged it out.
  Result<PgResult> still = app->Query("SELECT count(*) FROM app.comments", "counting");
  ASSERT_TRUE(still.ok()) << still.status().ToString();
  EXPECT_EQ(still->GetInt64(0, 0), 250);
  EXPECT_EQ(Dump(), before);
}

TEST_F(PostgresEndToEndTest, ExcludedTablesAreLeftAloneAndTriggersDoNotFire) {
  WriteConfig("\"audit.*\"");
  const std::string id = CliJson({"backup", "prod"})["snapshot"]["id"];
  Sql("DELETE FROM app.comments WHERE id % 2 = 0");  // the trigger logs 250 rows
  const std::string audit_before = server().PgDump(db_, "--data-only -t audit.changes");
  RunResult restored = Cli({"restore", id, "--to", "prod", "--yes"});
  ASSERT_EQ(restored.exit_code, 0) << restored.Describe();
  EXPECT_EQ(server().PgDump(db_, "--data-only -t audit.changes"), audit_before)
      << "the excluded table changed: a trigger fired during the restore, or it was restored";
}

TEST_F(PostgresEndToEndTest, ThePasswordInTheUrlStaysOutOfTheLogAndTheManifest) {
  const std::string with_password = "postgresql://lifeboat:s3cret-word@/" + db_ +
                                    "?host=" + server().socket_dir() + "&schema=app";
  nlohmann::json backup = CliJson({"backup", with_password});
  const std::string id = backup["snapshot"]["id"];
  RunResult log = Cli({"--json", "log"});
  ASSERT_EQ(log.exit_code, 0);
  EXPECT_EQ(log.out.find("s3cret"), std::string::npos) << log.out;
  RunResult shown = Cli({"--json", "show", id});
  EXPECT_EQ(shown.out.find("s3cret"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("***"), std::string::npos) << shown.out;
}

TEST_F(PostgresEndToEndTest,
       ARestoreKilledInMaintenanceLeavesTheDataAndMaintenanceOffLetsUsersBackIn) {
  // Enough rows that the restore is still running when the kill comes.
  Sql("INSERT INTO app.comments (project_id, body) SELECT 1, repeat('row ', 20) || g "
      "FROM generate_series(1, 200000) g");
  const std::string id = CliJson({"backup", "prod"})["snapshot"]["id"];
  Sql("DELETE FROM app.comments WHERE id % 2 = 0");
  const std::string before = Dump();

  std::unique_ptr<PgConnection> admin = server().Connect("postgres");
  auto allows_connections = [&] {
    Result<PgResult> r =
        admin->Query("SELECT datallowconn FROM pg_database WHERE datname = $1", "reading", {db_});
    return r.ok() && r->GetBool(0, 0);
  };
  std::vector<std::string> argv = {
      kLifeboatCli, "--config", tmp_ / "lifeboat.toml", "restore", id, "--to", "prod", "--yes"};
  Child restore(argv, RunOptions{});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (allows_connections() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_FALSE(allows_connections()) << "the restore never entered maintenance";
  restore.Kill(SIGKILL);
  RunResult killed = restore.Wait();
  ASSERT_EQ(killed.signal, SIGKILL) << killed.Describe();

  // Users are still kept out; the killed restore's server session ends and releases its lock.
  EXPECT_FALSE(allows_connections());
  RunResult off = MaintenanceOff("prod");
  ASSERT_EQ(off.exit_code, 0) << off.Describe();
  EXPECT_TRUE(off.Json()["changed"].get<bool>());
  EXPECT_TRUE(allows_connections());
  EXPECT_EQ(Dump(), before) << "the killed restore changed the database";

  // Nothing left to do the second time; both are in the activity log.
  nlohmann::json again = CliJson({"maintenance", "off", "prod"});
  EXPECT_FALSE(again["changed"].get<bool>());
  nlohmann::json log = CliJson({"log"});
  EXPECT_EQ(log.back()["operation"], "maintenance off");
}

}  // namespace
}  // namespace lifeboat::testing
