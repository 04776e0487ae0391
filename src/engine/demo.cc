// The demo application's public entry points (include/lifeboat/engine.h): lay out the
// sample tracker, break it like a bad upgrade would, and digest its state to prove a
// restore exact.
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/encoding.h"
#include "codec/hash.h"
#include "codec/random.h"
#include "engine/sample_app.h"
#include "lifeboat/engine.h"
#include "source/sqlite/sqlite_source.h"

namespace lifeboat {
namespace {

namespace fs = std::filesystem;

DemoLayout LayoutFor(const std::string& dir) {
  DemoLayout layout;
  layout.dir = fs::absolute(dir).lexically_normal().string();
  layout.database = layout.dir + "/tracker.db";
  layout.attachments = layout.dir + "/attachments";
  layout.repository = layout.dir + "/repository";
  layout.config = layout.dir + "/lifeboat.toml";
  layout.password_file = layout.dir + "/password";
  return layout;
}

Status WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return UnavailableError("cannot write " + path);
  chmod(path.c_str(), mode);
  return OkStatus();
}

// Hashes everything written to it.
class HashingSink : public ByteSink {
 public:
  Status Write(std::string_view data) override {
    hasher_.Update(data);
    return OkStatus();
  }
  std::string Finish() { return ToHex(hasher_.Finish()); }

 private:
  Sha256Hasher hasher_;
};

}  // namespace

Result<DemoLayout> CreateDemoApplication(const std::string& dir, uint64_t target_bytes) {
  DemoLayout layout = LayoutFor(dir);
  std::error_code ec;
  if (fs::exists(layout.dir, ec)) {
    bool is_demo = fs::exists(layout.config, ec) && fs::exists(layout.database, ec);
    if (!is_demo && !fs::is_empty(layout.dir, ec)) {
      return AlreadyExistsError("demo directory " + layout.dir +
                                " exists and is not a Lifeboat demo: choose another with --dir");
    }
    fs::remove_all(layout.dir, ec);
    if (ec) return UnavailableError("cannot clear " + layout.dir + ": " + ec.message());
  }
  fs::create_directories(layout.dir, ec);
  if (ec) return UnavailableError("cannot create " + layout.dir + ": " + ec.message());

  SampleAppOptions options;
  options.target_bytes = target_bytes;
  LB_ASSIGN_OR_RETURN(SampleAppStats stats,
                      CreateSampleApp(layout.database, layout.attachments, options));
  (void)stats;
  LB_RETURN_IF_ERROR(WriteFile(layout.password_file, ToHex(RandomBytes(16)) + "\n", 0600));
  std::string config = "password_file = \"" + layout.password_file + "\"\n" +
                       SampleAppProfileToml(layout.database, layout.attachments, layout.repository);
  LB_RETURN_IF_ERROR(WriteFile(layout.config, config, 0644));
  return layout;
}

Result<nlohmann::json> SimulateDemoUpgrade(const DemoLayout& layout, const std::string& version) {
  LB_ASSIGN_OR_RETURN(BadUpgradeReport report,
                      SimulateBadUpgrade(layout.database, layout.attachments, version));
  return nlohmann::json{{"issues_deleted", report.issues_deleted},
                        {"comments_deleted", report.comments_deleted},
                        {"layouts_corrupted", report.layouts_corrupted},
                        {"file_deleted", report.file_deleted},
                        {"file_modified", report.file_modified},
                        {"new_version", report.new_version}};
}

Status SetDemoVersion(const DemoLayout& layout, const std::string& version) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(layout.database.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string error = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return UnavailableError("cannot open " + layout.database + ": " + error);
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt* stmt = nullptr;
  int rc =
      sqlite3_prepare_v2(db, "UPDATE trk_app_settings SET value = ?1 WHERE key = 'schema_version'",
                         -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(stmt, 1, version.data(), static_cast<int>(version.size()), SQLITE_TRANSIENT);
    rc = sqlite3_step(stmt);
  }
  std::string error = sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (rc != SQLITE_DONE) {
    return UnavailableError("setting the schema version in " + layout.database + ": " + error);
  }
  return OkStatus();
}

Result<nlohmann::json> DigestDemoState(const DemoLayout& layout) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<SqliteSource> source,
                      SqliteSource::Open(layout.database, false));
  LB_ASSIGN_OR_RETURN(std::unique_ptr<ReadSnapshot> snapshot, source->BeginRead());
  LB_ASSIGN_OR_RETURN(InstanceSchema schema, snapshot->Describe());
  nlohmann::json tables = nlohmann::json::object();
  CancellationToken never;
  for (const TableInfo& table : schema.tables) {
    HashingSink sink;
    LB_RETURN_IF_ERROR(snapshot->StreamTable(table, &sink, &never, {}).status());
    tables[table.name] = sink.Finish();
  }

  std::vector<fs::path> paths;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(layout.attachments, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    paths.push_back(it->path());
  }
  if (ec) return UnavailableError("cannot list " + layout.attachments + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  Sha256Hasher files;
  for (const fs::path& path : paths) {
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) continue;
    files.Update(fs::relative(path, layout.attachments).string() + "\n" +
                 std::to_string(st.st_mode) + "\n");
    if (S_ISREG(st.st_mode)) {
      std::ifstream in(path, std::ios::binary);
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      files.Update(content);
    }
  }
  return nlohmann::json{{"tables", tables}, {"files", ToHex(files.Finish())}};
}

}  // namespace lifeboat
