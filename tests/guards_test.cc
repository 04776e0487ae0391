// The guards of a restore (DESIGN.md §5): same application version, same account, inside the
// restore window, confirmed, same schema; and the exclusion of operations on one instance
// through leases. Every refusal leaves the database exactly as it was.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "repo/lease.h"
#include "sandbox.h"

namespace lifeboat::testing {
namespace {

constexpr char kNewVersion[] = "23.1.0";

std::string WholeDump(const std::string& db) {
  return Sqlite(db, {".dump"});
}

void SetVersion(const std::string& db, const std::string& version) {
  Sqlite(db,
         {"UPDATE trk_app_settings SET value = '" + version + "' WHERE key = 'schema_version';"});
}

// The damage a failed upgrade leaves behind.
void DamageRows(const std::string& db) {
  Sqlite(db, {"DELETE FROM trk_comments WHERE id % 2 = 0;"
              "UPDATE trk_layouts SET definition = '{}';"});
}

bool HasTimestamp(const std::string& text) {
  return std::regex_search(text, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)"));
}

class GuardsTest : public ::testing::Test {
 protected:
  void SetUp() override { box_.Init(); }

  size_t SnapshotCount() const { return box_.Snapshots().size(); }

  Sandbox box_;
};

TEST_F(GuardsTest, RestoreIntoAnotherVersionIsRefusedWithExitCode3) {
  const std::string id = box_.Backup();
  SetVersion(box_.db, kNewVersion);
  DamageRows(box_.db);
  const std::string before = WholeDump(box_.db);
  const Tree files_before = ReadTree(box_.attachments);

  RunResult r = box_.Cli({"restore", id, "--to", "prod", "--yes"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_TRUE(Contains(r.err, kVersion)) << r.err;
  EXPECT_TRUE(Contains(r.err, kNewVersion)) << r.err;
  EXPECT_TRUE(Contains(r.err, std::string("install ") + kVersion + " first")) << r.err;
  EXPECT_TRUE(Contains(r.err, "empty instance")) << r.err;

  EXPECT_EQ(WholeDump(box_.db), before);
  EXPECT_TRUE(ReadTree(box_.attachments) == files_before);
  EXPECT_EQ(SnapshotCount(), 1u) << "a refused restore took a safety backup";

  // The dry run applies the same guard.
  RunResult dry = box_.Cli({"restore", id, "--to", "prod", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 3) << dry.Describe();
}

TEST_F(GuardsTest, RestoreAfterReinstallingTheVersionWorksAndTakesASafetyBackupFirst) {
  const std::string id = box_.Backup({"--name", "before upgrade"});
  const std::string backed_up = box_.Dump();
  SetVersion(box_.db, kNewVersion);
  DamageRows(box_.db);
  ASSERT_EQ(box_.Cli({"restore", id, "--to", "prod", "--yes"}).exit_code, 3);

  SetVersion(box_.db, kVersion);  // the old version is installed again
  const int64_t damaged_comments = CountRows(box_.db, "trk_comments");
  RunResult r = box_.Cli({"--json", "restore", id, "--to", "prod", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(box_.Dump(), backed_up);

  const std::string safety_id = r.Json()["safety_snapshot"].get<std::string>();
  nlohmann::json list = box_.Snapshots();
  ASSERT_EQ(list.size(), 2u);
  const nlohmann::json* safety = nullptr;
  for (const auto& s : list) {
    if (s["id"] == safety_id) safety = &s;
  }
  ASSERT_NE(safety, nullptr) << list.dump();
  EXPECT_EQ((*safety)["tags"], nlohmann::json::array({"safety"}));
  EXPECT_TRUE(Contains((*safety)["name"], id.substr(0, 8))) << (*safety)["name"];
  EXPECT_EQ((*safety)["instance"], "prod");

  // The safety backup holds the state just before the restore: the damaged rows.
  nlohmann::json m = box_.CliJson({"show", safety_id});
  for (const auto& t : m["tables"]) {
    if (t["name"] == "trk_comments") {
      EXPECT_EQ(t["rows"].get<int64_t>(), damaged_comments);
    }
  }
}

TEST_F(GuardsTest, RestoreIntoAnotherAccountIsRefusedWithExitCode3) {
  const std::string other_dir = box_.dir + "/other";
  fs::create_directories(other_dir);
  fs::copy_file(box_.db, other_dir + "/tracker.db");
  ConfigOptions two_accounts;
  two_accounts.extra =
      "[instance.globex-prod]\nprofile = \"tracker\"\naccount = \"globex\"\n"
      "database = \"sqlite://" +
      other_dir + "/tracker.db\"\n";
  box_.WriteConfig(two_accounts);
  const std::string id = box_.Backup();
  DamageRows(other_dir + "/tracker.db");
  const std::string before = WholeDump(other_dir + "/tracker.db");

  RunResult r = box_.Cli({"restore", id, "--to", "globex-prod", "--yes"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "'acme'")) << r.err;
  EXPECT_TRUE(Contains(r.err, "'globex'")) << r.err;
  EXPECT_TRUE(Contains(r.err, "another account")) << r.err;
  EXPECT_EQ(WholeDump(other_dir + "/tracker.db"), before);
  // Not even into an empty instance of the other account.
  RunResult dry = box_.Cli({"restore", id, "--to", "globex-prod", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 3) << dry.Describe();
}

TEST_F(GuardsTest, AConfiguredInstancesDatabaseIsNotReachedByItsLocation) {
  const std::string other_dir = box_.dir + "/other";
  fs::create_directories(other_dir);
  fs::copy_file(box_.db, other_dir + "/tracker.db");
  ConfigOptions two_accounts;
  two_accounts.extra =
      "[instance.globex-prod]\nprofile = \"tracker\"\naccount = \"globex\"\n"
      "database = \"sqlite://" +
      other_dir + "/tracker.db\"\n";
  box_.WriteConfig(two_accounts);
  const std::string id = box_.Backup();
  DamageRows(other_dir + "/tracker.db");
  const std::string before = WholeDump(other_dir + "/tracker.db");
  // By its path (spelled differently), the other account's database would escape the account
  // guard and the instance's lock.
  RunResult r =
      box_.Cli({"restore", id, "--to", "sqlite://" + other_dir + "/../other/tracker.db", "--yes"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "the database of instance 'globex-prod'")) << r.err;
  EXPECT_EQ(WholeDump(other_dir + "/tracker.db"), before);
  RunResult backup = box_.Cli({"backup", "sqlite://" + box_.db});
  EXPECT_EQ(backup.exit_code, 3) << backup.Describe();
}

TEST_F(GuardsTest, RestoreOutsideTheWindowIsRefusedUnlessIgnoreWindowIsGiven) {
  ConfigOptions short_window;
  short_window.restore_window = "2s";
  box_.WriteConfig(short_window);
  const std::string id = box_.Backup();
  const std::string backed_up = box_.Dump();
  DamageRows(box_.db);
  const std::string before = WholeDump(box_.db);
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));

  RunResult r = box_.Cli({"restore", id, "--to", "prod", "--yes"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "restore window")) << r.err;
  EXPECT_TRUE(Contains(r.err, "--ignore-window")) << r.err;
  EXPECT_EQ(WholeDump(box_.db), before);

  RunResult forced = box_.Cli({"restore", id, "--to", "prod", "--yes", "--ignore-window"});
  ASSERT_EQ(forced.exit_code, 0) << forced.Describe();
  EXPECT_EQ(box_.Dump(), backed_up);
}

TEST_F(GuardsTest, RestoreWithoutConfirmationAndNoTerminalIsRefusedWithExitCode3) {
  const std::string id = box_.Backup();
  DamageRows(box_.db);
  const std::string before = WholeDump(box_.db);
  const Tree files_before = ReadTree(box_.attachments);

  RunResult r = box_.Cli({"restore", id, "--to", "prod"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "--yes")) << r.err;
  EXPECT_EQ(WholeDump(box_.db), before);
  EXPECT_TRUE(ReadTree(box_.attachments) == files_before);
  EXPECT_EQ(SnapshotCount(), 1u) << "an unconfirmed restore took a safety backup";

  // The activity log records the refusal.
  bool refused = false;
  for (const auto& e : box_.CliJson({"log"})) {
    if (e["operation"] == "restore" && e["event"] == "failed") {
      refused = true;
      EXPECT_EQ(e["outcome"], "refused") << e.dump();
    }
  }
  EXPECT_TRUE(refused);
}

TEST_F(GuardsTest, RestoreIntoAChangedSchemaIsRefusedNamingTheTable) {
  const std::string id = box_.Backup();
  Sqlite(box_.db, {"ALTER TABLE trk_users ADD COLUMN nickname TEXT;"});
  DamageRows(box_.db);
  const std::string before = WholeDump(box_.db);

  RunResult r = box_.Cli({"restore", id, "--to", "prod", "--yes"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "trk_users")) << r.err;
  EXPECT_TRUE(Contains(r.err, "nickname")) << r.err;
  EXPECT_FALSE(Contains(r.err, "trk_comments:")) << r.err;
  EXPECT_EQ(WholeDump(box_.db), before);
}

TEST_F(GuardsTest, BackupWhileARestoreHoldsTheInstanceFailsAtOnceWithExitCode4) {
  OpenedRepository opened = OpenRepository(box_.repo);
  LeaseManager leases(opened.store.get(), &opened.repo->sealer(), Clock::Real());
  LeaseRequest request{"restore", InstanceScope("prod"), true, "alice", "ops-host", 4242};
  Result<std::unique_ptr<Lease>> lease = leases.Acquire(request);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();

  RunResult r = box_.Cli({"backup", "prod", "--include-large"});
  EXPECT_EQ(r.exit_code, 4) << r.Describe();
  EXPECT_LT(r.seconds, 5.0) << "the refusal waited";
  EXPECT_TRUE(Contains(r.err, "restore")) << r.err;
  EXPECT_TRUE(Contains(r.err, "alice")) << r.err;
  EXPECT_TRUE(HasTimestamp(r.err)) << r.err;
  EXPECT_EQ(CountObjects(box_.repo, "snapshots"), 0u);
  EXPECT_EQ(CountObjects(box_.repo, "locks"), 1u) << "the refused backup left its lease";

  // A restore of the same instance is refused the same way.
  ASSERT_TRUE((*lease)->Release().ok());
  const std::string id = box_.Backup();
  Result<std::unique_ptr<Lease>> again = leases.Acquire(request);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  RunResult restore = box_.Cli({"restore", id, "--to", "prod", "--yes"});
  EXPECT_EQ(restore.exit_code, 4) << restore.Describe();
  EXPECT_TRUE(Contains(restore.err, "alice")) << restore.err;

  // Once the holder is gone, both work.
  ASSERT_TRUE((*again)->Release().ok());
  EXPECT_EQ(CountObjects(box_.repo, "locks"), 0u);
  box_.Backup();
  RunResult restored = box_.Cli({"restore", id, "--to", "prod", "--yes"});
  EXPECT_EQ(restored.exit_code, 0) << restored.Describe();
  EXPECT_EQ(CountObjects(box_.repo, "locks"), 0u);
}

TEST_F(GuardsTest, LeaseOfAnotherInstanceDoesNotBlockTheBackup) {
  OpenedRepository opened = OpenRepository(box_.repo);
  LeaseManager leases(opened.store.get(), &opened.repo->sealer(), Clock::Real());
  LeaseRequest request{"restore", InstanceScope("staging"), true, "alice", "ops-host", 4242};
  Result<std::unique_ptr<Lease>> lease = leases.Acquire(request);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();

  RunResult r = box_.Cli({"backup", "prod", "--include-large"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE((*lease)->Release().ok());
}

TEST_F(GuardsTest, StaleLeaseIsRemovedAndTheBackupSucceedsWithAWarning) {
  {
    OpenedRepository opened = OpenRepository(box_.repo);
    ManualClock an_hour_ago(Clock::Real()->NowUnixNanos() - 3600 * kNanosPerSecond);
    LeaseManager leases(opened.store.get(), &opened.repo->sealer(), &an_hour_ago,
                        60 * kNanosPerSecond, /*refresh_nanos=*/0);
    LeaseRequest request{"restore", InstanceScope("prod"), true, "alice", "ops-host", 4242};
    Result<std::unique_ptr<Lease>> lease = leases.Acquire(request);
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    (*lease)->Abandon();  // as a process that died would
  }
  ASSERT_EQ(CountObjects(box_.repo, "locks"), 1u);

  RunResult r = box_.Cli({"backup", "prod", "--include-large"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "stale lock")) << r.err;
  EXPECT_TRUE(Contains(r.err, "alice")) << r.err;
  EXPECT_EQ(CountObjects(box_.repo, "locks"), 0u);
  EXPECT_EQ(box_.Snapshots().size(), 1u);
}

}  // namespace
}  // namespace lifeboat::testing
