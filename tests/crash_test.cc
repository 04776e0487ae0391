// Crash safety (DESIGN.md §5 "Nothing lost on crash", "Atomic restore"): the `lifeboat`
// process is killed with SIGKILL at many points of a backup and of a restore of a sample
// application of about 40 MiB. After every kill the repository checks out (reading every
// blob), lists only complete backups, and the instance holds either its old state or the
// backup's, never a mix inside the database or inside the files directory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>

#include "base/encoding.h"
#include "codec/hash.h"
#include "repo/lease.h"
#include "sandbox.h"

namespace lifeboat::testing {
namespace {

constexpr int kKillPoints = 8;

// A 40 MiB application with `media_blobs` media values of 4 MiB each.
SampleSpec CrashSpec(int media_blobs) {
  SampleSpec spec;
  spec.target_bytes = 40ull << 20;
  spec.media_blob_bytes = 4ull << 20;
  spec.media_blobs = media_blobs;
  return spec;
}

// The SHA-256 of the `.dump` of the included tables (dumps are tens of MB).
std::string DumpDigest(const Sandbox& box, const std::string& db = "") {
  return ToHex(Sha256(box.Dump(db)));
}

std::set<std::string> ListedIds(const Sandbox& box) {
  std::set<std::string> ids;
  for (const auto& s : box.Snapshots()) ids.insert(s["id"].get<std::string>());
  return ids;
}

// Deletes every lease object (the leases of killed processes) through the store API.
void RemoveLeases(const Sandbox& box) {
  OpenedRepository opened = OpenRepository(box.repo);
  std::vector<std::string> keys;
  ASSERT_TRUE(opened.store
                  ->List(kLocksPrefix,
                         [&](const ObjectInfo& info) {
                           keys.push_back(info.key);
                           return OkStatus();
                         })
                  .ok());
  for (const std::string& key : keys) ASSERT_TRUE(opened.store->Delete(key).ok()) << key;
}

// The kill delays: spread from 5 ms to `longest`, closer together towards the end, where an
// operation commits (manifest, transaction, files swap).
std::vector<double> KillDelays(double longest) {
  std::vector<double> delays;
  for (int i = 0; i < kKillPoints; ++i) {
    delays.push_back(0.005 + (longest - 0.005) * std::sqrt(double(i) / (kKillPoints - 1)));
  }
  return delays;
}

// Starts `lifeboat ARGS` and kills it after `delay` seconds (unless it ended before).
RunResult RunAndKill(const Sandbox& box, const std::vector<std::string>& args, double delay) {
  std::vector<std::string> argv = {kLifeboatCli, "--config", box.config};
  argv.insert(argv.end(), args.begin(), args.end());
  Child child(argv, RunOptions{});
  std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(delay * 1e6)));
  child.Kill(SIGKILL);
  return child.Wait();
}

// Entries beside the files directory that a killed restore may leave.
std::vector<std::string> Leftovers(const std::string& root) {
  std::vector<std::string> out;
  const fs::path path(root);
  for (const auto& entry : fs::directory_iterator(path.parent_path())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(path.filename().string() + ".lifeboat-", 0) == 0) out.push_back(name);
  }
  return out;
}

class CrashTest : public ::testing::Test {
 protected:
  explicit CrashTest(int media_blobs) : box_(CrashSpec(media_blobs)) {
    clone_dir_ = box_.dir + "/clone";
    ConfigOptions options;
    options.extra =
        "[instance.clone]\nprofile = \"tracker\"\naccount = \"acme\"\n"
        "database = \"sqlite://" +
        clone_dir_ + "/tracker.db\"\nfiles = \"" + clone_dir_ + "/attachments\"\n";
    box_.WriteConfig(options);
    box_.Init();
  }

  // The repository reads back whole: every manifest, list and blob.
  void ExpectRepositoryChecksOut(const std::string& when) {
    RunResult check = box_.Cli({"--json", "check", "--read-data"});
    ASSERT_EQ(check.exit_code, 0) << when << ": " << check.Describe();
    nlohmann::json report = check.Json();
    EXPECT_TRUE(report["errors"].empty()) << when << ": " << report.dump();
    for (const auto& w : report["warnings"]) {
      EXPECT_TRUE(Contains(w, "is in no index")) << when << ": unexpected warning " << w;
    }
    RunResult log = box_.Cli({"--json", "log"});
    EXPECT_EQ(log.exit_code, 0) << when << ": " << log.Describe();
  }

  // Restores `id` into the empty instance "clone"; returns the digest of its tables.
  std::string CloneDigest(const std::string& id, Tree* files) {
    fs::remove_all(clone_dir_);
    fs::create_directories(clone_dir_);
    RunResult r = box_.Cli({"restore", id, "--to", "clone", "--yes"});
    if (r.exit_code != 0) {
      ADD_FAILURE() << "restore " << id << " into a clone: " << r.Describe();
      return "";
    }
    *files = ReadTree(clone_dir_ + "/attachments");
    return DumpDigest(box_, clone_dir_ + "/tracker.db");
  }

  // Clears the lease a killed process left. The first time one is met, proves that it keeps
  // the instance busy: the next operation is refused with exit code 4 naming it.
  void ClearDeadLease(const std::vector<std::string>& refused_command,
                      const std::string& operation) {
    if (CountObjects(box_.repo, "locks") == 0) return;
    ++dead_leases_;
    if (!busy_refusal_seen_) {
      RunResult busy = box_.Cli(refused_command);
      EXPECT_EQ(busy.exit_code, 4) << busy.Describe();
      EXPECT_TRUE(Contains(busy.err, operation + " started by")) << busy.err;
      EXPECT_TRUE(Contains(busy.err, "is busy")) << busy.err;
      busy_refusal_seen_ = true;
    }
    RemoveLeases(box_);
    ASSERT_EQ(CountObjects(box_.repo, "locks"), 0u);
  }

  Sandbox box_;
  std::string clone_dir_;
  int dead_leases_ = 0;
  bool busy_refusal_seen_ = false;
};

// Backups write more than one pack: 24 MiB of new media each time.
class BackupCrashTest : public CrashTest {
 protected:
  BackupCrashTest() : CrashTest(6) {}
};

// Restores replace 12 MiB of media.
class RestoreCrashTest : public CrashTest {
 protected:
  RestoreCrashTest() : CrashTest(3) {}
};

TEST_F(BackupCrashTest, KilledBackupLeavesOnlyCompleteBackupsAndAReadableRepository) {
  const std::vector<std::string> backup = {"--json", "backup", "prod", "--include-large"};
  // What each attempt's backup would hold.
  struct State {
    std::string digest;
    Tree files;
  };
  std::map<std::string, State> expected;  // by backup id
  auto change = [&](uint64_t seed) {
    // New media and a day of changes: every backup writes new packs (over 24 MiB).
    Sqlite(box_.db, {"UPDATE trk_media SET content = randomblob(length(content));"});
    Result<ChangeReport> changed = ApplyRealisticChange(box_.db, box_.attachments, 0.05, seed);
    ASSERT_TRUE(changed.ok()) << changed.status().ToString();
    ASSERT_GT(changed->updated + changed->inserted, 0u);
  };

  // B0, then one uninterrupted backup of a changed instance to learn how long one takes.
  const std::string b0 = box_.Backup();
  expected[b0] = {DumpDigest(box_), ReadTree(box_.attachments)};
  change(1);
  State measured_state{DumpDigest(box_), ReadTree(box_.attachments)};
  RunResult measured = box_.Cli(backup);
  ASSERT_EQ(measured.exit_code, 0) << measured.Describe();
  expected[measured.Json()["snapshot"]["id"].get<std::string>()] = measured_state;
  const double duration = measured.seconds;
  ASSERT_GT(duration, 0.1);

  std::set<std::string> listed = ListedIds(box_);
  ASSERT_EQ(listed.size(), 2u);
  int finished_before_kill = 0, completed_but_killed = 0, interrupted = 0;
  std::string newest;
  const std::vector<double> delays = KillDelays(duration);
  for (int k = 0; k < kKillPoints; ++k) {
    SCOPED_TRACE("backup killed after " + std::to_string(delays[k]) + " s");
    change(100 + static_cast<uint64_t>(k));

    RunResult killed = RunAndKill(box_, backup, delays[k]);
    ExpectRepositoryChecksOut("after kill " + std::to_string(k));

    // Only complete backups are listed: the earlier ones, plus this one if it got as far as
    // writing its manifest.
    std::set<std::string> now = ListedIds(box_);
    for (const std::string& id : listed) EXPECT_EQ(now.count(id), 1u) << id << " vanished";
    std::vector<std::string> added;
    std::set_difference(now.begin(), now.end(), listed.begin(), listed.end(),
                        std::back_inserter(added));
    ASSERT_LE(added.size(), 1u);
    if (killed.signal == 0) {
      ASSERT_EQ(killed.exit_code, 0) << killed.Describe();
      ++finished_before_kill;
      ASSERT_EQ(added.size(), 1u);
      EXPECT_EQ(added[0], killed.Json()["snapshot"]["id"]);
    } else if (!added.empty()) {
      ++completed_but_killed;
    } else {
      ++interrupted;
    }
    for (const std::string& id : added) {
      // A backup only reads: the instance is still as the backup saw it.
      State state{DumpDigest(box_), ReadTree(box_.attachments)};
      expected[id] = state;
      newest = id;
      RunResult dry = box_.Cli({"restore", id, "--to", "prod", "--dry-run"});
      EXPECT_EQ(dry.exit_code, 0) << dry.Describe();
      Tree files;
      EXPECT_EQ(CloneDigest(id, &files), state.digest) << "backup " << id << " is not exact";
      EXPECT_EQ(TreeDifference(state.files, files), "");
    }
    listed = now;
    ClearDeadLease(backup, "backup");
  }

  // Every listed backup passes the guards, and the newest restores exactly.
  for (const std::string& id : listed) {
    ASSERT_EQ(expected.count(id), 1u) << "backup " << id << " was not expected";
    RunResult dry = box_.Cli({"restore", id, "--to", "prod", "--dry-run"});
    EXPECT_EQ(dry.exit_code, 0) << dry.Describe();
  }
  const std::string latest = box_.CliJson({"show", "latest"})["id"].get<std::string>();
  Tree files;
  EXPECT_EQ(CloneDigest(latest, &files), expected[latest].digest);
  EXPECT_EQ(TreeDifference(expected[latest].files, files), "");

  // A later backup succeeds, and the repository still checks out.
  change(999);
  const std::string last = box_.Backup();
  EXPECT_EQ(box_.CliJson({"show", "latest"})["id"], last);
  ExpectRepositoryChecksOut("after the last backup");
  EXPECT_GT(interrupted, 0) << "no kill landed inside a backup";
  size_t temporaries = 0;
  for (const auto& entry : fs::recursive_directory_iterator(box_.repo)) {
    temporaries += Contains(entry.path().filename().string(), ".tmp-") ? 1 : 0;
  }
  std::cout << "[ INFO     ] backups: " << interrupted << " interrupted, " << completed_but_killed
            << " killed after their manifest, " << finished_before_kill
            << " finished before the kill; " << dead_leases_
            << " dead leases left behind (next backup refused with exit code 4 until removed); "
            << temporaries << " temporaries of interrupted writes left in the repository; "
            << "uninterrupted backup: " << duration << " s\n";
}

// Starts `lifeboat ARGS`, sends SIGINT as soon as the operation holds the instance's lease,
// and waits for it to end.
RunResult RunAndInterrupt(const Sandbox& box, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kLifeboatCli, "--config", box.config};
  argv.insert(argv.end(), args.begin(), args.end());
  Child child(argv, RunOptions{});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (CountObjects(box.repo, "locks") == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  child.Kill(SIGINT);
  return child.Wait();
}

TEST_F(BackupCrashTest, InterruptedBackupIsLoggedAsCancelledAndFreesTheInstanceAtOnce) {
  box_.Backup();
  Sqlite(box_.db, {"UPDATE trk_media SET content = randomblob(length(content));"});

  RunResult interrupted = RunAndInterrupt(box_, {"backup", "prod", "--include-large"});
  ASSERT_EQ(interrupted.exit_code, 130) << interrupted.Describe();
  EXPECT_TRUE(Contains(interrupted.err, "cancelled")) << interrupted.err;
  EXPECT_EQ(CountObjects(box_.repo, "locks"), 0u) << "the interrupted backup kept its lock";
  EXPECT_EQ(ListedIds(box_).size(), 1u) << "an interrupted backup was listed";
  ExpectRepositoryChecksOut("after the interrupted backup");

  nlohmann::json log = box_.Cli({"--json", "log"}).Json();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back()["outcome"], "cancelled") << log.back().dump();
  EXPECT_EQ(log.back()["operation"], "backup") << log.back().dump();

  // The next backup starts at once: no stale lock to wait out or remove.
  RunResult next = box_.Cli({"backup", "prod", "--include-large"});
  ASSERT_EQ(next.exit_code, 0) << next.Describe();
  EXPECT_FALSE(Contains(next.err, "stale lock")) << next.err;
  EXPECT_EQ(ListedIds(box_).size(), 2u);
}

TEST_F(RestoreCrashTest, InterruptedRestoreLeavesTheInstanceAsItWasAndUnlocked) {
  const std::string b0 = box_.Backup();
  Sqlite(box_.db, {"DELETE FROM trk_comments WHERE id % 2 = 0;"});
  WriteFile(box_.attachments + "/junk.txt", "not in the backup");
  const std::string before = DumpDigest(box_);
  const Tree files_before = ReadTree(box_.attachments);

  RunResult interrupted = RunAndInterrupt(box_, {"restore", b0, "--to", "prod", "--yes"});
  ASSERT_EQ(interrupted.exit_code, 130) << interrupted.Describe();
  EXPECT_EQ(DumpDigest(box_), before) << "an interrupted restore changed the database";
  EXPECT_EQ(ReadTree(box_.attachments), files_before);
  EXPECT_TRUE(Leftovers(box_.attachments).empty());
  EXPECT_EQ(CountObjects(box_.repo, "locks"), 0u);
  nlohmann::json log = box_.Cli({"--json", "log"}).Json();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back()["outcome"], "cancelled") << log.back().dump();

  RunResult restored = box_.Cli({"restore", b0, "--to", "prod", "--yes"});
  ASSERT_EQ(restored.exit_code, 0) << restored.Describe();
}

TEST_F(RestoreCrashTest, KilledRestoreLeavesTheOldStateOrTheBackupsState) {
  const std::string b0 = box_.Backup();
  const std::string b0_digest = DumpDigest(box_);
  const Tree b0_files = ReadTree(box_.attachments);
  auto damage = [&](int k) {
    Sqlite(box_.db, {"DELETE FROM trk_comments WHERE id % 4 = " + std::to_string(k % 4) +
                     ";"
                     "UPDATE trk_issues SET title = 'broken " +
                     std::to_string(k) +
                     "' WHERE id % 3 = 0;"
                     "UPDATE trk_media SET content = randomblob(1000) WHERE id = 1;"});
    std::vector<std::string> files = ListFiles(box_.attachments);
    ASSERT_FALSE(files.empty());
    fs::remove(files[static_cast<size_t>(k) % files.size()]);
    WriteFile(box_.attachments + "/junk-" + std::to_string(k) + ".txt", "not in the backup");
  };
  const std::vector<std::string> restore = {"restore", b0, "--to", "prod", "--yes"};

  // One uninterrupted restore to learn how long one takes.
  damage(0);
  RunResult measured = box_.Cli(restore);
  ASSERT_EQ(measured.exit_code, 0) << measured.Describe();
  ASSERT_EQ(DumpDigest(box_), b0_digest);
  const double duration = measured.seconds;

  int old_state = 0, new_state = 0, mixed = 0, finished_before_kill = 0;
  size_t leftovers_seen = 0;
  const std::vector<double> delays = KillDelays(duration);
  for (int k = 0; k < kKillPoints; ++k) {
    SCOPED_TRACE("restore killed after " + std::to_string(delays[k]) + " s");
    damage(k + 1);
    const std::string old_digest = DumpDigest(box_);
    const Tree old_files = ReadTree(box_.attachments);
    ASSERT_NE(old_digest, b0_digest);
    const std::set<std::string> listed_before = ListedIds(box_);

    RunResult killed = RunAndKill(box_, restore, delays[k]);

    // The database holds one of the two states, whole.
    EXPECT_EQ(Sqlite(box_.db, {"PRAGMA integrity_check;"}), "ok\n");
    const std::string digest = DumpDigest(box_);
    const bool db_new = digest == b0_digest;
    EXPECT_TRUE(db_new || digest == old_digest) << "the database holds a third state";
    // So does the files directory (leftovers beside it are allowed).
    ASSERT_TRUE(fs::is_directory(box_.attachments)) << "the files directory is missing";
    const Tree files = ReadTree(box_.attachments);
    const bool files_new = files == b0_files;
    EXPECT_TRUE(files_new || files == old_files) << "the files directory holds a third state:\n"
                                                 << TreeDifference(b0_files, files);
    leftovers_seen += Leftovers(box_.attachments).size();
    if (killed.signal == 0) {
      EXPECT_EQ(killed.exit_code, 0) << killed.Describe();
      EXPECT_TRUE(db_new && files_new);
      ++finished_before_kill;
    }
    if (db_new && files_new) {
      ++new_state;
    } else if (!db_new && !files_new) {
      ++old_state;
    } else {
      ++mixed;
    }

    // Safety backups are listed only once complete; the repository checks out.
    ExpectRepositoryChecksOut("after kill " + std::to_string(k));
    for (const auto& s : box_.Snapshots()) {
      const std::string id = s["id"].get<std::string>();
      if (listed_before.count(id)) continue;
      EXPECT_EQ(s["tags"], nlohmann::json::array({"safety"})) << s.dump();
      RunResult dry = box_.Cli({"restore", id, "--to", "prod", "--dry-run"});
      EXPECT_EQ(dry.exit_code, 0) << dry.Describe();
    }
    ClearDeadLease(restore, "restore");
  }

  // A later restore puts everything right, leftovers included.
  RunResult last = box_.Cli(restore);
  ASSERT_EQ(last.exit_code, 0) << last.Describe();
  EXPECT_EQ(DumpDigest(box_), b0_digest);
  EXPECT_EQ(TreeDifference(b0_files, ReadTree(box_.attachments)), "");
  EXPECT_EQ(Leftovers(box_.attachments), std::vector<std::string>());
  EXPECT_GT(old_state, 0) << "no kill landed before a restore committed";
  std::cout << "[ INFO     ] restores: " << old_state << " left the old state, " << new_state
            << " the backup's (" << finished_before_kill << " finished before the kill), " << mixed
            << " new tables with old files; " << leftovers_seen
            << " leftover directories beside the files root; " << dead_leases_
            << " dead leases; uninterrupted restore: " << duration << " s\n";
}

// The two moments a timed kill rarely hits: just before and just after the database commit,
// with the files staged and the restore journal written. Whatever the next operation on the
// instance is (`maintenance off`, a backup, a restore), it first puts the files directory in
// step with the database.
TEST_F(RestoreCrashTest, RestoreKilledAroundItsCommitIsSettledByTheNextOperation) {
  const std::string b0 = box_.Backup();
  const std::string b0_digest = DumpDigest(box_);
  const Tree b0_files = ReadTree(box_.attachments);
  const std::string journal = box_.attachments + ".lifeboat-restore";
  const std::string marker_query =
      "SELECT count(*) FROM sqlite_schema WHERE name = 'lifeboat_restore_commit';";

  struct Case {
    std::string point;
    bool committed;
    std::vector<std::string> settle;  // the next operation
  };
  const std::vector<Case> cases = {
      {"restore-after-commit", true, {"maintenance", "off", "prod"}},
      {"restore-before-commit", false, {"maintenance", "off", "prod"}},
      {"restore-after-commit", true, {"--json", "backup", "prod", "--include-large"}},
      {"restore-after-commit", true, {"restore", b0, "--to", "prod", "--yes"}},
  };
  int k = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.point + ", settled by " + c.settle[0] + " " + c.settle[1]);
    ++k;
    Sqlite(box_.db, {"DELETE FROM trk_comments WHERE id % 5 = " + std::to_string(k) + ";"});
    std::vector<std::string> files = ListFiles(box_.attachments);
    ASSERT_FALSE(files.empty());
    fs::remove(files[static_cast<size_t>(k) % files.size()]);
    WriteFile(box_.attachments + "/junk-" + std::to_string(k) + ".txt", "not in the backup");
    const std::string old_digest = DumpDigest(box_);
    const Tree old_files = ReadTree(box_.attachments);

    RunOptions crash;
    crash.env["LIFEBOAT_CRASH_POINT"] = c.point;
    RunResult killed = box_.Cli({"restore", b0, "--to", "prod", "--yes"}, crash);
    ASSERT_EQ(killed.signal, SIGKILL) << killed.Describe();

    // Killed in the window: the database is in one state or the other, the files still old,
    // and the journal says what to do.
    EXPECT_EQ(DumpDigest(box_), c.committed ? b0_digest : old_digest);
    EXPECT_EQ(ReadTree(box_.attachments), old_files);
    EXPECT_TRUE(fs::exists(journal));
    EXPECT_EQ(Sqlite(box_.db, {marker_query}), c.committed ? "1\n" : "0\n");
    RemoveLeases(box_);

    RunResult settled = box_.Cli(c.settle);
    ASSERT_EQ(settled.exit_code, 0) << settled.Describe();
    if (c.settle[0] == "maintenance") {
      EXPECT_TRUE(Contains(settled.out,
                           c.committed ? "finished an interrupted restore" : "had not committed"))
          << settled.out;
    }
    const bool restored = c.committed || c.settle[0] == "restore";
    EXPECT_EQ(DumpDigest(box_), restored ? b0_digest : old_digest);
    EXPECT_EQ(TreeDifference(restored ? b0_files : old_files, ReadTree(box_.attachments)), "");
    EXPECT_EQ(Leftovers(box_.attachments), std::vector<std::string>());
    EXPECT_EQ(Sqlite(box_.db, {marker_query}), "0\n") << "the commit record was left behind";
    if (c.settle[1] == "backup") {
      // The backup taken after settling holds the restored files, not the old ones.
      const std::string id = settled.Json()["snapshot"]["id"].get<std::string>();
      Tree cloned;
      EXPECT_EQ(CloneDigest(id, &cloned), b0_digest);
      EXPECT_EQ(TreeDifference(b0_files, cloned), "");
    }
  }
  ExpectRepositoryChecksOut("after the settled restores");
}

}  // namespace
}  // namespace lifeboat::testing
