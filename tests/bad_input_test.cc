// Bad input gets a clear error and changes nothing (DESIGN.md §5): a wrong password, damaged
// repository objects, unknown backups, instances and tables, and a config typo.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "base/encoding.h"
#include "repo/pack.h"
#include "sandbox.h"

namespace lifeboat::testing {
namespace {

std::string WholeDump(const std::string& db) {
  return Sqlite(db, {".dump"});
}

// Every file in the repository with its content, to prove that a command wrote nothing.
std::map<std::string, std::string> RepositoryFiles(const std::string& repo) {
  std::map<std::string, std::string> files;
  for (const std::string& path : ListFiles(repo)) files[path] = ReadFile(path);
  return files;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override { box_.Init(); }
  Sandbox box_;
};

TEST_F(BadInputTest, WrongPasswordIsRefusedWithExitCode3AndWritesNothing) {
  box_.Backup();
  const std::string wrong = box_.dir + "/wrong-password";
  WriteFile(wrong, "not the password\n");
  const auto before = RepositoryFiles(box_.repo);

  for (const std::vector<std::string>& command :
       std::vector<std::vector<std::string>>{{"snapshots"},
                                             {"backup", "prod", "--include-large"},
                                             {"restore", "latest", "--to", "prod", "--yes"},
                                             {"check"}}) {
    std::vector<std::string> args = {"--password-file", wrong};
    args.insert(args.end(), command.begin(), command.end());
    RunResult r = box_.Cli(args);
    EXPECT_EQ(r.exit_code, 3) << Sandbox::Join(command) << ": " << r.Describe();
    EXPECT_TRUE(Contains(r.err, "wrong password")) << r.err;
  }
  RunOptions env;
  env.env["LIFEBOAT_PASSWORD"] = "also wrong";
  RunResult by_env = box_.Cli({"snapshots"}, env);
  EXPECT_EQ(by_env.exit_code, 3) << by_env.Describe();
  EXPECT_TRUE(RepositoryFiles(box_.repo) == before) << "a refused command wrote to the repository";
}

TEST_F(BadInputTest, FlippedByteInAPackIsFoundByReadDataWhileTheStructureChecksOut) {
  box_.Backup();
  ASSERT_EQ(box_.Cli({"check", "--read-data"}).exit_code, 0);

  // Flip one byte in the middle of the largest data blob (a chunk of a trk_media value).
  std::string pack_key;
  uint64_t flip_at = 0;
  {
    OpenedRepository opened = OpenRepository(box_.repo);
    uint32_t largest = 0;
    for (const std::string& path : ListFiles(box_.repo + "/data")) {
      const std::string key = fs::relative(path, box_.repo).string();
      Result<std::vector<PackedBlob>> blobs =
          ReadPackHeader(opened.store.get(), key, opened.repo->aead());
      ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
      for (const PackedBlob& b : *blobs) {
        if (b.type == BlobType::kData && b.sealed_length > largest) {
          largest = b.sealed_length;
          pack_key = key;
          flip_at = b.offset + b.sealed_length / 2;
        }
      }
    }
    ASSERT_GT(largest, 64u << 10);
  }
  {
    std::fstream pack(box_.repo + "/" + pack_key, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(pack.is_open());
    pack.seekg(static_cast<std::streamoff>(flip_at));
    char byte = 0;
    pack.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x01);
    pack.seekp(static_cast<std::streamoff>(flip_at));
    pack.write(&byte, 1);
  }

  // The structure (index, manifests, lists of blobs) is intact: plain check passes.
  RunResult plain = box_.Cli({"check"});
  EXPECT_EQ(plain.exit_code, 0) << plain.Describe();

  // Reading the data finds the damage and names the pack.
  RunResult deep = box_.Cli({"check", "--read-data"});
  EXPECT_EQ(deep.exit_code, 5) << deep.Describe();
  EXPECT_TRUE(Contains(deep.err, pack_key)) << deep.err;
  RunResult json = box_.Cli({"--json", "check", "--read-data"});
  EXPECT_EQ(json.exit_code, 5);
  EXPECT_EQ(json.Json()["error"]["exit_code"], 5);

  // A restore that meets the damaged blob fails and leaves the instance as it was.
  Sqlite(box_.db, {"DELETE FROM trk_media WHERE id = (SELECT min(id) FROM trk_media);"
                   "DELETE FROM trk_comments WHERE id % 2 = 0;"});
  const std::string before = WholeDump(box_.db);
  const Tree files_before = ReadTree(box_.attachments);
  RunResult restore = box_.Cli({"restore", "latest", "--to", "prod", "--yes"});
  EXPECT_EQ(restore.exit_code, 5) << restore.Describe();
  EXPECT_TRUE(Contains(restore.err, pack_key)) << restore.err;
  EXPECT_EQ(WholeDump(box_.db), before);
  EXPECT_TRUE(ReadTree(box_.attachments) == files_before);
}

TEST_F(BadInputTest, DeltaWhoseReferenceIsGoneIsFoundByTheStructuralCheck) {
  // One table and no files, so that the second backup shares no blob with the first: every
  // chunk of trk_comments changes, and each is stored as a delta against the first backup's.
  ConfigOptions options;
  options.profile_override =
      "[profile.tracker]\n"
      "version_query = \"SELECT value FROM trk_app_settings WHERE key = 'schema_version'\"\n"
      "include = [\"trk_comments\"]\n\n";
  options.extra =
      "[instance.solo]\nprofile = \"tracker\"\naccount = \"acme\"\n"
      "database = \"sqlite://" +
      box_.db + "\"\n";
  box_.WriteConfig(options);
  box_.CliJson({"backup", "solo"});
  std::vector<std::string> first;  // the first backup's manifest, index run and packs
  for (const char* folder : {"/snapshots", "/index", "/data"}) {
    for (const std::string& path : ListFiles(box_.repo + folder)) first.push_back(path);
  }
  Sqlite(box_.db, {"UPDATE trk_comments SET body = body || ' (edited)' WHERE id % 20 = 0;"});
  box_.CliJson({"backup", "solo"});
  {
    OpenedRepository opened = OpenRepository(box_.repo);
    size_t deltas = 0;
    for (const std::string& path : ListFiles(box_.repo + "/data")) {
      if (std::find(first.begin(), first.end(), path) != first.end()) continue;
      Result<std::vector<PackedBlob>> blobs = ReadPackHeader(
          opened.store.get(), fs::relative(path, box_.repo).string(), opened.repo->aead());
      ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
      for (const PackedBlob& b : *blobs) deltas += b.compression == Compression::kZstdDelta;
    }
    ASSERT_GT(deltas, 0u) << "the second backup stored no delta";
  }
  ASSERT_EQ(box_.Cli({"check"}).exit_code, 0);

  // Without the first backup, the second one's blobs are all there, but not what its deltas
  // were written against: the structural check says so, before any restore meets it.
  for (const std::string& path : first) fs::remove(path);
  RunResult check = box_.Cli({"check"});
  EXPECT_EQ(check.exit_code, 5) << check.Describe();
  EXPECT_TRUE(Contains(check.err, "table trk_comments (delta blob ")) << check.err;
  EXPECT_TRUE(Contains(check.err, "which no index holds")) << check.err;
}

TEST_F(BadInputTest, TruncatedIndexFailsEveryCommandNamingTheIndexAndWritesNothing) {
  box_.Backup();
  std::vector<std::string> index = ListFiles(box_.repo + "/index");
  ASSERT_FALSE(index.empty());
  const std::string key = fs::relative(index[0], box_.repo).string();
  fs::resize_file(index[0], fs::file_size(index[0]) / 2);
  Sqlite(box_.db, {"DELETE FROM trk_comments WHERE id % 2 = 0;"});
  const std::string db_before = WholeDump(box_.db);
  const auto before = RepositoryFiles(box_.repo);

  for (const std::vector<std::string>& command :
       std::vector<std::vector<std::string>>{{"snapshots"},
                                             {"show", "latest"},
                                             {"backup", "prod", "--include-large"},
                                             {"restore", "latest", "--to", "prod", "--yes"},
                                             {"check"},
                                             {"log"}}) {
    RunResult r = box_.Cli(command);
    EXPECT_EQ(r.exit_code, 5) << Sandbox::Join(command) << ": " << r.Describe();
    EXPECT_TRUE(Contains(r.err, key)) << Sandbox::Join(command) << ": " << r.err;
  }
  EXPECT_TRUE(RepositoryFiles(box_.repo) == before) << "a failed command wrote to the repository";
  EXPECT_EQ(WholeDump(box_.db), db_before);
}

TEST_F(BadInputTest, UnknownBackupIsRefusedWithExitCode1) {
  box_.Backup();
  Sqlite(box_.db, {"DELETE FROM trk_comments WHERE id % 2 = 0;"});
  const std::string before = WholeDump(box_.db);

  RunResult r = box_.Cli({"restore", "deadbeef", "--to", "prod", "--yes"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "deadbeef")) << r.err;
  EXPECT_TRUE(Contains(r.err, "does not exist")) << r.err;
  EXPECT_EQ(WholeDump(box_.db), before);
  EXPECT_EQ(box_.Snapshots().size(), 1u);
}

TEST_F(BadInputTest, AmbiguousBackupPrefixIsRefusedListingTheCandidates) {
  // Backups of a tiny one-off database until two ids share their first hex digit.
  const std::string tiny = box_.dir + "/tiny.db";
  Sqlite(tiny, {"CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"});
  std::map<char, std::string> by_first;
  std::string clash;
  for (int i = 0; i < 17 && clash.empty(); ++i) {
    Sqlite(tiny, {"INSERT INTO t (v) VALUES ('" + std::to_string(i) + "');"});
    nlohmann::json made = box_.CliJson({"backup", "sqlite://" + tiny});
    const std::string id = made["snapshot"]["id"].get<std::string>();
    if (by_first.count(id[0])) clash = std::string(1, id[0]);
    by_first[id[0]] = id;
  }
  ASSERT_FALSE(clash.empty());
  RunResult r = box_.Cli({"show", clash});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "ambiguous")) << r.err;
  EXPECT_TRUE(Contains(r.err, by_first[clash[0]].substr(0, 12))) << r.err;
}

TEST_F(BadInputTest, UnknownInstanceGetsAnErrorListingTheKnownOnes) {
  RunResult r = box_.Cli({"backup", "prdo", "--include-large"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "'prdo'")) << r.err;
  EXPECT_TRUE(Contains(r.err, "instances: prod")) << r.err;
  EXPECT_TRUE(Contains(r.err, "sqlite:///")) << r.err;
  EXPECT_EQ(CountObjects(box_.repo, "snapshots"), 0u);

  box_.Backup();
  RunResult restore = box_.Cli({"restore", "latest", "--to", "prdo", "--yes"});
  EXPECT_EQ(restore.exit_code, 1) << restore.Describe();
  EXPECT_TRUE(Contains(restore.err, "'prdo'")) << restore.err;
}

TEST_F(BadInputTest, UnknownTableInARestoreIsRefusedListingTheBackupsTables) {
  box_.Backup();
  Sqlite(box_.db, {"DELETE FROM trk_comments WHERE id % 2 = 0;"});
  const std::string before = WholeDump(box_.db);
  RunResult r = box_.Cli({"restore", "latest", "--to", "prod", "--yes", "--tables", "trk_nope"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "trk_nope")) << r.err;
  EXPECT_TRUE(Contains(r.err, "trk_comments")) << r.err;
  EXPECT_EQ(WholeDump(box_.db), before);
}

TEST_F(BadInputTest, ConfigTypoIsRefusedWithExitCode2NamingTheLineAndTheKey) {
  ConfigOptions typo;
  typo.profile_override =
      "[profile.tracker]\n"
      "version_query = \"SELECT value FROM trk_app_settings WHERE key = 'schema_version'\"\n"
      "includes = [\"trk_*\"]\n\n";
  box_.WriteConfig(typo);
  int line = 0, typo_line = 0;
  std::istringstream text(ReadFile(box_.config));
  for (std::string l; std::getline(text, l);) {
    ++line;
    if (l.rfind("includes", 0) == 0) typo_line = line;
  }
  ASSERT_GT(typo_line, 0);

  RunResult r = box_.Cli({"snapshots"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "lifeboat.toml:" + std::to_string(typo_line))) << r.err;
  EXPECT_TRUE(Contains(r.err, "did you mean 'include'")) << r.err;
  RunResult backup = box_.Cli({"backup", "prod", "--include-large"});
  EXPECT_EQ(backup.exit_code, 2) << backup.Describe();
  EXPECT_EQ(CountObjects(box_.repo, "snapshots"), 0u);
}

TEST_F(BadInputTest, MissingRepositorySaysToRunInit) {
  RunResult r = box_.Cli({"--repo", box_.dir + "/nowhere", "backup", "prod", "--include-large"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(Contains(r.err, box_.dir + "/nowhere")) << r.err;
  EXPECT_TRUE(Contains(r.err, "lifeboat init")) << r.err;
  EXPECT_FALSE(fs::exists(box_.dir + "/nowhere"));
}

}  // namespace
}  // namespace lifeboat::testing
