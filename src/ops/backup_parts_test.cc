// Backups of PostgreSQL tables read in parts (ReadSnapshot::SplitTable), on a real server: the
// table's stream is its whole COPY, the manifest says where each part began (FORMAT.md §10),
// and the next backup's parts find their deltas there.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "base/clock.h"
#include "ops/backup.h"
#include "repo/repo_test_util.h"
#include "repo/stream.h"
#include "source/postgres/pg_source.h"
#include "source/postgres/pg_test_server.h"
#include "storage/memory_object_store.h"

namespace lifeboat {
namespace {

using testing::PgTestServer;

// 20,000 rows of about 220 bytes: 600-odd heap pages, 19 or 20 parts of 32 pages.
constexpr uint64_t kPartPages = 32;

class BackupPartsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = server().CreateDatabase("parts");
    db_ = PgTestServer::DatabaseOf(url_);
    server().Exec(db_,
                  "CREATE TABLE notes (id int PRIMARY KEY, body text);"
                  "INSERT INTO notes SELECT g, md5(g::text) || repeat(' row ' || g, 20) "
                  "FROM generate_series(1, 20000) g;"
                  "CREATE TABLE tiny (k text PRIMARY KEY);"
                  "INSERT INTO tiny VALUES ('a'), ('b');");
  }

  static PgTestServer& server() { return PgTestServer::Shared(); }

  std::unique_ptr<PgSource> Open(uint64_t part_pages) {
    PgSource::Options options;
    options.described = url_;
    options.label = "lifeboat backup by tester@test-host";
    options.part_pages = part_pages;
    Result<std::unique_ptr<PgSource>> source = PgSource::Open(url_, std::move(options));
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    return std::move(source).value();
  }

  std::unique_ptr<Repository> OpenRepo(ObjectStore* store) {
    Result<std::unique_ptr<Repository>> repo = Repository::Open(store, "secret", Clock::Real());
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    return std::move(repo).value();
  }

  Manifest Backup(ObjectStore* store, uint64_t part_pages) {
    std::unique_ptr<PgSource> source = Open(part_pages);
    std::unique_ptr<Repository> repo = OpenRepo(store);
    BackupRequest request;
    request.instance = "app";
    request.readers = 2;
    Result<BackupOutcome> outcome =
        RunBackup(repo.get(), source.get(), url_, request, nullptr, &cancel_);
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    return outcome.ok() ? outcome->manifest : Manifest{};
  }

  static const TableEntry* Entry(const Manifest& m, const std::string& name) {
    for (const TableEntry& t : m.tables) {
      if (t.name == name) return &t;
    }
    ADD_FAILURE() << "no table " << name << " in the backup";
    return nullptr;
  }

  // The table's rows as one COPY reads them.
  std::string WholeCopy(const std::string& table) {
    std::unique_ptr<PgSource> source = Open(0);
    Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    Result<InstanceSchema> schema = (*snapshot)->Describe();
    EXPECT_TRUE(schema.ok()) << schema.status().ToString();
    std::string rows;
    StringSink sink(&rows);
    for (const TableInfo& t : schema->tables) {
      if (t.name == table) {
        EXPECT_TRUE((*snapshot)->StreamTable(t, &sink, &cancel_, nullptr).ok());
      }
    }
    return rows;
  }

  int64_t Number(const std::string& sql) {
    std::unique_ptr<PgConnection> conn = server().Connect(db_);
    Result<PgResult> r = conn->Query(sql, "asking");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->GetInt64(0, 0) : -1;
  }

  // Scattered updates (each moves its row to the end of the heap) and deletes, as a day of an
  // application's work does: nearly every chunk of the table changes a little.
  void Change() {
    server().Exec(db_,
                  "UPDATE notes SET body = body || ' edited' WHERE id % 97 = 0;"
                  "DELETE FROM notes WHERE id % 251 = 0;");
  }

  CancellationToken cancel_;
  std::string url_;
  std::string db_;
};

TEST_F(BackupPartsTest, ALargeTableIsReadInPartsAndItsStreamIsTheWholeCopy) {
  MemoryObjectStore store;
  ASSERT_TRUE(
      Repository::Init(&store, "secret", testing::FastRepositoryOptions(), testing::TestSlotInfo())
          .ok());
  const Manifest m = Backup(&store, kPartPages);
  const TableEntry* notes = Entry(m, "notes");
  const TableEntry* tiny = Entry(m, "tiny");
  ASSERT_TRUE(notes && tiny);
  EXPECT_TRUE(tiny->parts.empty()) << "a table of one page is read whole";

  const int64_t pages = Number("SELECT pg_relation_size('notes') / 8192");
  ASSERT_EQ(notes->parts.size(), static_cast<size_t>((pages + kPartPages - 1) / kPartPages));
  std::unique_ptr<Repository> repo = OpenRepo(&store);
  Result<std::string> stored = LoadStream(repo.get(), notes->content);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  const std::string whole = WholeCopy("notes");
  EXPECT_TRUE(*stored == whole) << "stored " << stored->size() << " bytes, COPY gives "
                                << whole.size();
  EXPECT_EQ(notes->bytes, whole.size());
  EXPECT_EQ(notes->rows, 20000u);
  // Each part begins at its page's first row.
  for (size_t i = 0; i < notes->parts.size(); ++i) {
    const TablePartStart& part = notes->parts[i];
    EXPECT_EQ(part.page, kPartPages * i);
    ASSERT_LT(part.offset, stored->size());
    if (i > 0) {
      EXPECT_EQ((*stored)[part.offset - 1], '\n');
    }
    const int64_t first_id = Number("SELECT id FROM ONLY notes WHERE ctid >= '(" +
                                    std::to_string(part.page) + ",0)' ORDER BY ctid LIMIT 1");
    EXPECT_EQ(stored->substr(part.offset, stored->find('\t', part.offset) - part.offset),
              std::to_string(first_id))
        << "part " << i;
  }
}

TEST_F(BackupPartsTest, TheNextBackupsPartsAreStoredAsDeltasOfTheSamePartsBefore) {
  // Two repositories with the same first state: one backed up in parts, the other whole, so
  // that the other's next backup has no offsets for its parts to start from.
  MemoryObjectStore in_parts;
  MemoryObjectStore whole_first;
  for (MemoryObjectStore* store : {&in_parts, &whole_first}) {
    ASSERT_TRUE(
        Repository::Init(store, "secret", testing::FastRepositoryOptions(), testing::TestSlotInfo())
            .ok());
  }
  const Manifest first = Backup(&in_parts, kPartPages);
  const Manifest control_first = Backup(&whole_first, 0);
  ASSERT_FALSE(Entry(first, "notes")->parts.empty());
  ASSERT_TRUE(Entry(control_first, "notes")->parts.empty());
  Change();
  const Manifest second = Backup(&in_parts, kPartPages);
  const Manifest control = Backup(&whole_first, kPartPages);
  ASSERT_EQ(Entry(second, "notes")->parts.size(), Entry(control, "notes")->parts.size());
  EXPECT_LT(second.stored_bytes * 4, control.stored_bytes)
      << "from the parts' offsets: " << second.stored_bytes
      << " bytes, without them: " << control.stored_bytes;
  EXPECT_LT(second.stored_bytes * 20, first.stored_bytes)
      << "the changed backup adds " << second.stored_bytes << " bytes to " << first.stored_bytes;
  std::cout << "[ INFO     ] the changed backup stored " << second.stored_bytes
            << " bytes from the parts' offsets, " << control.stored_bytes
            << " without them; the first " << first.stored_bytes << "\n";
  std::unique_ptr<Repository> repo = OpenRepo(&in_parts);
  Result<std::string> stored = LoadStream(repo.get(), Entry(second, "notes")->content);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_TRUE(*stored == WholeCopy("notes"));
}

}  // namespace
}  // namespace lifeboat
