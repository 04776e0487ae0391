// Reads the version-1 repository kept in tests/golden/v1 (FORMAT.md): every later Lifeboat
// must open it with its password, verify every blob, list its backup and restore it exactly.
// The repository was written once by `lifeboat backup` of expected/app.db (built by
// expected/make.sql) and expected/files; it is never regenerated. tests/golden/v1-delta holds
// two backups of the database of its expected/make.sql, the second after expected/change.sql,
// so that it stores delta blobs (FORMAT §6, compression 2); written once too. tests/golden/v1-lz4
// holds one backup of the database of v1-delta's expected/make.sql by a repository made with
// `init --compression lz4` (compression 3); written once too.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "lifeboat/engine.h"
#include "ops/manifest.h"
#include "repo/pack.h"
#include "repo/repository.h"
#include "storage/local_object_store.h"

namespace lifeboat {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Dump(const fs::path& db, const std::string& table) {
  std::string command = "sqlite3 '" + db.string() + "' \".dump '" + table + "'\"";
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(pipe), 0) << command;
  return out;
}

// A copy of one golden repository in a temporary directory, with a config whose instance
// "clone" is an empty database there.
class GoldenRepositoryTest : public ::testing::Test {
 protected:
  explicit GoldenRepositoryTest(std::string name = "v1", bool files = true)
      : name_(std::move(name)), files_(files) {}

  void SetUp() override {
    golden_ = fs::path(LIFEBOAT_SOURCE_DIR) / "tests/golden" / name_;
    dir_ =
        fs::temp_directory_path() / ("lifeboat-golden-" + name_ + "-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy(golden_ / "repository", dir_ / "repository", fs::copy_options::recursive);
    std::ofstream config(dir_ / "lifeboat.toml");
    config << "repository = \"repository\"\n"
           << "[profile.golden]\n"
           << "version_query = \"SELECT value FROM app_settings WHERE key = 'schema_version'\"\n"
           << "[instance.clone]\nprofile = \"golden\"\naccount = \"golden\"\n"
           << "database = \"sqlite:clone.db\"\n"
           << (files_ ? "files = \"files\"\n" : "");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Engine> OpenEngine() {
    EngineOptions options;
    options.config_path = (dir_ / "lifeboat.toml").string();
    options.password = "golden-v1";
    options.user = "tester";
    options.host = "localhost";
    auto engine = Engine::Create(options);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return std::move(engine).value();
  }

  // Restores `snapshot` into the instance "clone".
  Result<nlohmann::json> RestoreToClone(const std::string& snapshot) {
    RestoreParams params;
    params.snapshot = snapshot;
    params.target = "clone";
    params.confirmed = true;
    params.ignore_window = true;  // the golden backups are older than any restore window
    return OpenEngine()->Restore(params);
  }

  // How many blobs of each compression the golden packs hold, read from their headers; sets
  // *method to the config's compression method.
  std::map<Compression, size_t> CountBlobs(CompressionMethod* method) {
    std::map<Compression, size_t> counts;
    auto store = LocalObjectStore::Open((dir_ / "repository").string(), false);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return counts;
    auto repo = Repository::Open(store->get(), "golden-v1", Clock::Real());
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    if (!repo.ok()) return counts;
    *method = (*repo)->config_compression().method;
    for (const auto& entry : fs::recursive_directory_iterator(dir_ / "repository/data")) {
      if (!entry.is_regular_file()) continue;
      auto blobs = ReadPackHeader(
          store->get(), fs::relative(entry.path(), dir_ / "repository").string(), (*repo)->aead());
      EXPECT_TRUE(blobs.ok()) << blobs.status().ToString();
      if (!blobs.ok()) continue;
      for (const PackedBlob& b : *blobs) ++counts[b.compression];
    }
    return counts;
  }

  std::string name_;
  bool files_;
  fs::path golden_;
  fs::path dir_;
};

TEST_F(GoldenRepositoryTest, VersionOneRepositoryPassesCheckReadData) {
  auto check = OpenEngine()->Check(/*read_data=*/true);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE((*check)["ok"].get<bool>());
  EXPECT_EQ((*check)["snapshots"], 1);
  EXPECT_GT((*check)["blobs_read"].get<int>(), 0);
}

TEST_F(GoldenRepositoryTest, VersionOneBackupIsListedWithItsMetadata) {
  auto list = OpenEngine()->Snapshots({});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  const auto& s = (*list)[0];
  EXPECT_EQ(s["name"], "golden v1");
  EXPECT_EQ(s["notes"], "format version 1 reference");
  EXPECT_EQ(s["account"], "golden");
  EXPECT_EQ(s["version"], "1.0.0");
  auto shown = OpenEngine()->Show("latest");
  ASSERT_TRUE(shown.ok());
  ASSERT_EQ((*shown)["excluded"].size(), 1u);
  EXPECT_EQ((*shown)["excluded"][0]["name"], "app_log");
}

TEST_F(GoldenRepositoryTest, VersionOneBackupRestoresExactlyIntoAnEmptyInstance) {
  auto restored = RestoreToClone("latest");
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE((*restored)["clone"].get<bool>());

  for (const char* table : {"app_settings", "projects", "issue items", "audit"}) {
    EXPECT_EQ(Dump(dir_ / "clone.db", table), Dump(golden_ / "expected/app.db", table)) << table;
  }
  EXPECT_EQ(Dump(dir_ / "clone.db", "sqlite_sequence"),
            Dump(golden_ / "expected/app.db", "sqlite_sequence"));
  EXPECT_EQ(ReadFile(dir_ / "files/readme.txt"), ReadFile(golden_ / "expected/files/readme.txt"));
  EXPECT_EQ(ReadFile(dir_ / "files/sub/blob.bin"),
            ReadFile(golden_ / "expected/files/sub/blob.bin"));
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "files/readme.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);      // recorded in the golden backup
  EXPECT_EQ(st.st_mtim.tv_sec, 1704164645);  // 2024-01-02T03:04:05Z
}

TEST_F(GoldenRepositoryTest, WrongPasswordIsRefused) {
  EngineOptions options;
  options.config_path = (dir_ / "lifeboat.toml").string();
  options.password = "not-golden";
  auto engine = Engine::Create(options);
  ASSERT_TRUE(engine.ok());
  auto list = (*engine)->Snapshots({});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(ExitCodeFor(list.status()), 3);
}

// A database built by `sqlite3` from the given scripts of a golden expected/ directory.
fs::path BuildDatabase(const fs::path& dir, const fs::path& expected,
                       const std::vector<std::string>& scripts, const std::string& name) {
  const fs::path db = dir / name;
  for (const std::string& script : scripts) {
    const std::string command =
        "sqlite3 '" + db.string() + "' < '" + (expected / script).string() + "'";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
  }
  return db;
}

class GoldenDeltaRepositoryTest : public GoldenRepositoryTest {
 protected:
  GoldenDeltaRepositoryTest() : GoldenRepositoryTest("v1-delta", /*files=*/false) {}
};

TEST_F(GoldenDeltaRepositoryTest, HoldsDeltaBlobsAndPassesCheckReadData) {
  CompressionMethod method = CompressionMethod::kLz4;
  std::map<Compression, size_t> blobs = CountBlobs(&method);
  EXPECT_EQ(method, CompressionMethod::kZstd) << "written before LZ4 blobs existed";
  EXPECT_GT(blobs[Compression::kZstdDelta], 0u) << "the golden repository must hold delta blobs";

  auto check = OpenEngine()->Check(/*read_data=*/true);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE((*check)["ok"].get<bool>());
  EXPECT_EQ((*check)["snapshots"], 2);
}

TEST_F(GoldenDeltaRepositoryTest, BothBackupsRestoreExactly) {
  const fs::path expected = golden_ / "expected";
  const fs::path first = BuildDatabase(dir_, expected, {"make.sql"}, "first.db");
  const fs::path second = BuildDatabase(dir_, expected, {"make.sql", "change.sql"}, "second.db");
  auto list = OpenEngine()->Snapshots({});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  for (const auto& [name, want] :
       {std::pair{"golden v1 first", first}, std::pair{"golden v1 second", second}}) {
    SCOPED_TRACE(name);
    std::string id;
    for (const auto& s : *list) {
      if (s["name"] == name) id = s["id"].get<std::string>();
    }
    ASSERT_FALSE(id.empty());
    fs::remove(dir_ / "clone.db");
    auto restored = RestoreToClone(id);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    for (const char* table : {"app_settings", "notes"}) {
      EXPECT_EQ(Dump(dir_ / "clone.db", table), Dump(want, table)) << table;
    }
  }
  EXPECT_NE(Dump(first, "notes"), Dump(second, "notes"));
}

class GoldenLz4RepositoryTest : public GoldenRepositoryTest {
 protected:
  GoldenLz4RepositoryTest() : GoldenRepositoryTest("v1-lz4", /*files=*/false) {}
};

TEST_F(GoldenLz4RepositoryTest, HoldsLz4BlobsAndRestoresExactly) {
  CompressionMethod method = CompressionMethod::kZstd;
  std::map<Compression, size_t> blobs = CountBlobs(&method);
  EXPECT_EQ(method, CompressionMethod::kLz4);
  EXPECT_GT(blobs[Compression::kLz4], 0u) << "the golden repository must hold lz4 blobs";
  EXPECT_EQ(blobs[Compression::kZstd], 0u);

  auto check = OpenEngine()->Check(/*read_data=*/true);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE((*check)["ok"].get<bool>());

  // The database of v1-delta's first backup, which this repository's backup was made from.
  const fs::path want =
      BuildDatabase(dir_, golden_.parent_path() / "v1-delta/expected", {"make.sql"}, "want.db");
  auto restored = RestoreToClone("latest");
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  for (const char* table : {"app_settings", "notes"}) {
    EXPECT_EQ(Dump(dir_ / "clone.db", table), Dump(want, table)) << table;
  }
}

// tests/golden/manifest-v1-parts.json: a PostgreSQL manifest as FORMAT §10 describes it, with a
// table read in parts. Every later Lifeboat reads it, and writes it back the same.
TEST(GoldenManifestTest, AManifestWithTablePartsReadsAndWritesBackTheSame) {
  std::ifstream in(fs::path(LIFEBOAT_SOURCE_DIR) / "tests/golden/manifest-v1-parts.json");
  ASSERT_TRUE(in.good());
  const nlohmann::json golden = nlohmann::json::parse(in);
  Result<Manifest> m = ManifestFromJson(golden, std::string(64, 'a'));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->tables.size(), 2u);
  const TableEntry& comments = m->tables[0];
  ASSERT_EQ(comments.parts.size(), 6u);
  EXPECT_EQ(comments.parts[0].page, 0u);
  EXPECT_EQ(comments.parts[0].offset, 0u);
  EXPECT_EQ(comments.parts[1].page, 8192u);
  EXPECT_EQ(comments.parts[1].offset, 67108112u);
  EXPECT_EQ(comments.parts[5].page, 40960u);
  EXPECT_EQ(comments.content.bytes, 359659011u);
  EXPECT_TRUE(m->tables[1].parts.empty());
  EXPECT_EQ(ManifestToJson(*m), golden);

  // Parts out of order, or past the end of the stream, make the manifest malformed.
  for (const char* broken :
       {R"([{"page": 8192, "offset": 0}])",
        R"([{"page": 0, "offset": 0}, {"page": 0, "offset": 10}])",
        R"([{"page": 0, "offset": 0}, {"page": 8, "offset": 999999999999}])"}) {
    nlohmann::json bad = golden;
    bad["tables"][0]["parts"] = nlohmann::json::parse(broken);
    Result<Manifest> refused = ManifestFromJson(bad, std::string(64, 'a'));
    ASSERT_FALSE(refused.ok()) << broken;
    EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(refused.status().message().find("parts of table 'comments'"), std::string::npos)
        << refused.status().ToString();
  }
}

}  // namespace
}  // namespace lifeboat
