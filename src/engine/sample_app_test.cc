#include "engine/sample_app.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace lifeboat {
namespace {

namespace fs = std::filesystem;

constexpr std::array<const char*, 5> kDataTables = {"trk_users", "trk_issues", "trk_comments",
                                                    "trk_history", "trk_attachments"};

// A read-only connection for checking what the functions under test wrote.
class AppDb {
 public:
  explicit AppDb(const fs::path& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  }
  ~AppDb() { sqlite3_close_v2(db_); }

  // Every row of the query, columns joined by '|' (NULL as "<null>").
  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> rows;
    ForEach(sql, [&](sqlite3_stmt* stmt) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        if (c > 0) row += '|';
        const unsigned char* text = sqlite3_column_text(stmt, c);
        row += text == nullptr ? "<null>" : reinterpret_cast<const char*>(text);
      }
      rows.push_back(row);
    });
    return rows;
  }
  std::string Text(const std::string& sql) {
    const auto rows = Rows(sql);
    return rows.empty() ? "" : rows[0];
  }
  int64_t Int(const std::string& sql) { return std::stoll(Text(sql)); }

  // id -> hash of every column of the row.
  std::map<int64_t, size_t> Checksums(const std::string& table) {
    std::map<int64_t, size_t> sums;
    ForEach("SELECT * FROM " + table, [&](sqlite3_stmt* stmt) {
      std::string bytes;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        bytes += std::to_string(sqlite3_column_type(stmt, c));
        const void* blob = sqlite3_column_blob(stmt, c);
        bytes.append(static_cast<const char*>(blob),
                     blob == nullptr ? 0 : static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
        bytes += '\x1f';
      }
      sums[sqlite3_column_int64(stmt, 0)] = std::hash<std::string>()(bytes);
    });
    return sums;
  }

  void Exec(const std::string& sql) {
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
  }

 private:
  void ForEach(const std::string& sql, const std::function<void(sqlite3_stmt*)>& fn) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
    while (sqlite3_step(stmt) == SQLITE_ROW) fn(stmt);
    sqlite3_finalize(stmt);
  }
  sqlite3* db_ = nullptr;
};

std::string Dump(const fs::path& db) {
  std::string out;
  FILE* pipe = popen(("/usr/bin/sqlite3 '" + db.string() + "' .dump").c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[1 << 16];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  EXPECT_EQ(pclose(pipe), 0);
  return out;
}

// Relative path -> contents of every file under `dir`.
std::map<std::string, std::string> Tree(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    files[fs::relative(entry.path(), dir).string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return files;
}

class SampleAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lifeboat-sample-app-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static SampleAppOptions Small(uint64_t target_bytes) {
    SampleAppOptions options;
    options.target_bytes = target_bytes;
    options.media_blob_bytes = 256 << 10;
    options.media_blobs = 2;
    return options;
  }

  // Creates the application under dir_/name, returning its stats.
  SampleAppStats Create(const std::string& name, const SampleAppOptions& options) {
    auto stats = CreateSampleApp(DbPath(name), FilesPath(name), options);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    return stats.ok() ? *stats : SampleAppStats{};
  }
  std::string DbPath(const std::string& name) const { return (dir_ / (name + ".db")).string(); }
  std::string FilesPath(const std::string& name) const {
    return (dir_ / (name + "-files")).string();
  }

  fs::path dir_;
};

TEST_F(SampleAppTest, SameSeedGivesIdenticalDumpAndFiles) {
  Create("a", Small(2 << 20));
  Create("b", Small(2 << 20));
  const std::string dump = Dump(DbPath("a"));
  EXPECT_GT(dump.size(), 1u << 20);
  EXPECT_EQ(dump, Dump(DbPath("b")));
  const auto tree = Tree(FilesPath("a"));
  EXPECT_GE(tree.size(), 24u);
  EXPECT_TRUE(tree == Tree(FilesPath("b")));

  SampleAppOptions other = Small(2 << 20);
  other.seed = 7;
  Create("c", other);
  EXPECT_NE(dump, Dump(DbPath("c")));
}

TEST_F(SampleAppTest, SizeLandsNearTargetWithEveryKindOfTable) {
  SampleAppOptions options = Small(8 << 20);
  options.media_blob_bytes = 512 << 10;
  options.media_blobs = 3;
  const SampleAppStats stats = Create("app", options);
  const double target = static_cast<double>(options.target_bytes);
  EXPECT_GT(static_cast<double>(stats.database_bytes), 0.75 * target);
  EXPECT_LT(static_cast<double>(stats.database_bytes), 1.25 * target);
  EXPECT_EQ(stats.database_bytes, fs::file_size(DbPath("app")));

  AppDb db(DbPath("app"));
  EXPECT_EQ(db.Text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(db.Int("SELECT count(*) FROM trk_issues"), static_cast<int64_t>(stats.issues));
  EXPECT_EQ(db.Int("SELECT count(*) FROM trk_comments"), static_cast<int64_t>(stats.comments));
  EXPECT_EQ(db.Int("SELECT count(*) FROM trk_history"), static_cast<int64_t>(stats.history));
  EXPECT_EQ(db.Int("SELECT count(*) FROM trk_users"), static_cast<int64_t>(stats.users));
  EXPECT_EQ(db.Int("SELECT (SELECT count(*) FROM trk_log) + (SELECT count(*) FROM trk_log_api) "
                   "+ (SELECT count(*) FROM trk_debug_trace)"),
            static_cast<int64_t>(stats.log_rows));
  EXPECT_GT(stats.log_rows, 1000u);
  EXPECT_EQ(db.Int("SELECT count(*) FROM trk_search_cache"), static_cast<int64_t>(stats.issues));
  EXPECT_EQ(db.Int("SELECT count(*) FROM trk_media"), 3);
  EXPECT_EQ(db.Int("SELECT sum(length(content)) FROM trk_media"), 3 * (512 << 10));
  // Data tables hold most of what the media leave.
  const int64_t data_bytes =
      db.Int("SELECT sum(length(title) + length(description)) FROM trk_issues") +
      db.Int("SELECT sum(length(body)) FROM trk_comments");
  EXPECT_GT(data_bytes, static_cast<int64_t>(target * 0.4));
  const int64_t description = db.Int("SELECT avg(length(description)) FROM trk_issues");
  EXPECT_GT(description, 300);
  EXPECT_LT(description, 4000);
  for (const char* table : {"trk_business_areas", "trk_projects", "trk_fields", "trk_layouts",
                            "trk_rules", "trk_reports"}) {
    EXPECT_GT(db.Int(std::string("SELECT count(*) FROM ") + table), 0) << table;
  }
  EXPECT_TRUE(db.Rows("PRAGMA foreign_key_check").empty());
  EXPECT_EQ(db.Text("PRAGMA integrity_check"), "ok");
  EXPECT_GE(db.Int("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), 1);
  EXPECT_GE(db.Int("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"),
            2);

  // Attachments: rows match files, nested folders, one of about a mebibyte.
  const auto tree = Tree(FilesPath("app"));
  EXPECT_EQ(tree.size(), stats.attachment_files);
  uint64_t bytes = 0, largest = 0;
  for (const auto& [path, content] : tree) {
    bytes += content.size();
    largest = std::max<uint64_t>(largest, content.size());
    EXPECT_EQ(std::count(path.begin(), path.end(), '/'), 3) << path;
    EXPECT_EQ(db.Int("SELECT size FROM trk_attachments WHERE path = '" + path + "'"),
              static_cast<int64_t>(content.size()));
  }
  EXPECT_EQ(bytes, stats.attachment_bytes);
  EXPECT_GE(largest, 1u << 20);
  EXPECT_LT(largest, 2u << 20);
}

TEST_F(SampleAppTest, ProfileVersionQueryReadsSchemaVersion) {
  SampleAppOptions options = Small(1 << 20);
  options.version = "22.10.0017";
  Create("app", options);
  const std::string text =
      SampleAppProfileToml(DbPath("app"), FilesPath("app"), (dir_ / "repo").string());
  toml::table config = toml::parse(text);
  EXPECT_EQ(config["repository"].value_or(std::string()), (dir_ / "repo").string());
  EXPECT_EQ(config["restore_window"].value_or(std::string()), "7d");
  EXPECT_EQ(config["instance"]["prod"]["database"].value_or(std::string()),
            "sqlite://" + DbPath("app"));
  EXPECT_EQ(config["instance"]["prod"]["files"].value_or(std::string()), FilesPath("app"));
  EXPECT_EQ(config["instance"]["prod"]["profile"].value_or(std::string()), "tracker");
  EXPECT_EQ(config["instance"]["prod"]["account"].value_or(std::string()), "acme");
  EXPECT_EQ(config["profile"]["tracker"]["large_table_bytes"].value_or(std::string()), "8MiB");
  EXPECT_EQ(config["profile"]["tracker"]["large_tables"].value_or(std::string()), "ask");
  EXPECT_EQ(config["profile"]["tracker"]["include"][0].value_or(std::string()), "trk_*");

  AppDb db(DbPath("app"));
  const std::string query = config["profile"]["tracker"]["version_query"].value_or(std::string());
  EXPECT_EQ(db.Text(query), "22.10.0017");
  const toml::array* metadata = config["profile"]["tracker"]["metadata"].as_array();
  ASSERT_NE(metadata, nullptr);
  EXPECT_EQ(metadata->size(), 6u);
  for (const auto& table : *metadata) {
    EXPECT_EQ(db.Int("SELECT count(*) FROM sqlite_master WHERE name = '" +
                     table.value_or(std::string()) + "'"),
              1);
  }
}

TEST_F(SampleAppTest, BadUpgradeChangesWhatItReports) {
  Create("app", Small(3 << 20));
  int64_t issues, comments;
  std::vector<std::string> layouts;
  {
    AppDb db(DbPath("app"));
    issues = db.Int("SELECT count(*) FROM trk_issues");
    comments = db.Int("SELECT count(*) FROM trk_comments");
    layouts = db.Rows("SELECT definition FROM trk_layouts ORDER BY id");
  }
  auto report = SimulateBadUpgrade(DbPath("app"), FilesPath("app"), "23.1.0002");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GT(report->issues_deleted, 0u);
  EXPECT_GT(report->comments_deleted, 0u);
  EXPECT_EQ(report->new_version, "23.1.0002");
  EXPECT_GT(report->layouts_corrupted, 0u);
  ASSERT_FALSE(report->file_deleted.empty());
  EXPECT_FALSE(fs::exists(fs::path(FilesPath("app")) / report->file_deleted));
  ASSERT_FALSE(report->file_modified.empty());

  AppDb db(DbPath("app"));
  EXPECT_EQ(db.Int("SELECT count(*) FROM trk_issues"),
            issues - static_cast<int64_t>(report->issues_deleted));
  EXPECT_EQ(db.Int("SELECT count(*) FROM trk_comments"),
            comments - static_cast<int64_t>(report->comments_deleted));
  EXPECT_EQ(db.Text("SELECT value FROM trk_app_settings WHERE key = 'schema_version'"),
            "23.1.0002");
  const auto after = db.Rows("SELECT definition FROM trk_layouts ORDER BY id");
  ASSERT_EQ(after.size(), layouts.size());
  size_t changed = 0;
  for (size_t i = 0; i < after.size(); ++i) changed += after[i] != layouts[i];
  EXPECT_EQ(changed, report->layouts_corrupted);
  EXPECT_EQ(
      db.Int("SELECT size FROM trk_attachments WHERE path = '" + report->file_modified + "'") / 2,
      static_cast<int64_t>(fs::file_size(fs::path(FilesPath("app")) / report->file_modified)));
  EXPECT_TRUE(db.Rows("PRAGMA foreign_key_check").empty());

  auto again = SimulateBadUpgrade(DbPath("app"), FilesPath("app"), "23.1.0002");
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SampleAppTest, RealisticChangeTouchesAboutOnePercentOfDataRows) {
  Create("app", Small(6 << 20));
  std::map<std::string, std::map<int64_t, size_t>> before;
  size_t rows = 0;
  {
    AppDb db(DbPath("app"));
    for (const char* table : kDataTables) {
      before[table] = db.Checksums(table);
      rows += before[table].size();
    }
  }
  const auto files_before = Tree(FilesPath("app"));

  auto report = ApplyRealisticChange(DbPath("app"), FilesPath("app"), 0.01, 1);
  ASSERT_TRUE(report.ok()) << report.status().ToString();

  AppDb db(DbPath("app"));
  size_t changed = 0, added = 0, removed = 0, updated = 0;
  for (const char* table : kDataTables) {
    const auto after = db.Checksums(table);
    for (const auto& [id, sum] : before[table]) {
      auto it = after.find(id);
      if (it == after.end()) {
        ++removed;
      } else if (it->second != sum) {
        ++updated;
      }
    }
    for (const auto& [id, sum] : after) added += before[table].count(id) == 0;
  }
  changed = added + removed + updated;
  EXPECT_GT(changed, rows * 6 / 1000) << "of " << rows;
  EXPECT_LT(changed, rows * 16 / 1000) << "of " << rows;
  EXPECT_GT(updated, changed / 2);
  EXPECT_GT(added, changed / 6);
  EXPECT_GT(removed, 0u);
  EXPECT_LT(removed, changed / 10);
  EXPECT_EQ(report->updated, updated);
  EXPECT_EQ(report->inserted, added);
  EXPECT_EQ(report->deleted, removed);
  EXPECT_TRUE(db.Rows("PRAGMA foreign_key_check").empty());
  EXPECT_EQ(db.Text("PRAGMA integrity_check"), "ok");

  // Two new files, one rewritten; rows agree with the files.
  const auto files_after = Tree(FilesPath("app"));
  EXPECT_EQ(files_after.size(), files_before.size() + 2);
  size_t rewritten = 0;
  for (const auto& [path, content] : files_before) {
    rewritten += files_after.at(path) != content;
  }
  EXPECT_EQ(rewritten, 1u);
  for (const auto& [path, content] : files_after) {
    EXPECT_EQ(db.Int("SELECT size FROM trk_attachments WHERE path = '" + path + "'"),
              static_cast<int64_t>(content.size()));
  }
  // The search cache followed the status changes through the triggers.
  EXPECT_EQ(db.Int("SELECT count(*) FROM trk_issues i JOIN trk_search_cache c ON c.issue_id = "
                   "i.id WHERE c.status <> i.status"),
            0);
  EXPECT_EQ(db.Int("SELECT count(*) FROM trk_search_cache"),
            db.Int("SELECT count(*) FROM trk_issues"));
}

TEST_F(SampleAppTest, SearchCacheFollowsIssueUpdates) {
  Create("app", Small(1 << 20));
  AppDb db(DbPath("app"));
  db.Exec("UPDATE trk_issues SET status = 'Reopened', title = 'Zebra crossing' WHERE id = 3");
  EXPECT_EQ(db.Text("SELECT status FROM trk_search_cache WHERE issue_id = 3"), "Reopened");
  EXPECT_EQ(db.Text("SELECT substr(terms, 1, 14) FROM trk_search_cache WHERE issue_id = 3"),
            "zebra crossing");
  db.Exec("PRAGMA foreign_keys = ON; DELETE FROM trk_issues WHERE id = 3");
  EXPECT_EQ(db.Int("SELECT count(*) FROM trk_search_cache WHERE issue_id = 3"), 0);
  EXPECT_EQ(db.Int("SELECT count(*) FROM trk_comments WHERE issue_id = 3"), 0);
}

TEST_F(SampleAppTest, CreatingOverAnExistingDatabaseIsAlreadyExists) {
  Create("app", Small(1 << 20));
  auto again = CreateSampleApp(DbPath("app"), FilesPath("other"), Small(1 << 20));
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find(DbPath("app")), std::string::npos);
  auto files = CreateSampleApp(DbPath("other"), FilesPath("app"), Small(1 << 20));
  EXPECT_EQ(files.status().code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(fs::exists(DbPath("other")));
}

TEST_F(SampleAppTest, ChangingAMissingDatabaseIsNotFound) {
  EXPECT_EQ(ApplyRealisticChange(DbPath("none"), FilesPath("none"), 0.01, 1).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(SimulateBadUpgrade(DbPath("none"), FilesPath("none"), "23.1").status().code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(DbPath("none")));
}

}  // namespace
}  // namespace lifeboat
