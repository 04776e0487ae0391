// The PostgreSQL driver against a real server: describe, consistent reads, exact round trips
// (pg_dump before and after), atomic restore, triggers held back, foreign keys checked, locks.
#include "source/postgres/pg_source.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <thread>

#include "base/encoding.h"
#include "codec/hash.h"
#include "source/postgres/pg_clone_mark.h"
#include "source/postgres/pg_dump_script.h"
#include "source/postgres/pg_read_snapshot.h"
#include "source/postgres/pg_restore_transaction.h"
#include "source/postgres/pg_test_schema.h"
#include "source/postgres/pg_test_server.h"

namespace lifeboat {
namespace {

using testing::PgTestServer;

struct Saved {
  InstanceSchema schema;
  std::map<std::string, std::string> rows;  // by table
  std::map<std::string, uint64_t> counts;
  std::vector<SequenceValue> sequences;
};

// The table of `schema` named `name`, or nullptr.
const TableInfo* FindTable(const InstanceSchema& schema, const std::string& name) {
  for (const TableInfo& t : schema.tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

class PgSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = server().CreateDatabase("src");
    db_ = PgTestServer::DatabaseOf(url_);
    server().Exec(db_, testing::RichSchemaSql());
    server().Exec(db_, testing::RichRowsSql());
    source_ = Open(url_ + "&schema=app,audit");
  }

  static PgTestServer& server() { return PgTestServer::Shared(); }

  std::unique_ptr<PgSource> Open(const std::string& url, const std::string& label = "test",
                                 const PgLargeValueLimits& limits = {},
                                 uint64_t part_pages = PgReadSnapshot::kPartPages) {
    PgSource::Options options;
    options.large_values = limits;
    options.part_pages = part_pages;
    options.described = url;
    options.label = "lifeboat " + label + " by tester@test-host";
    options.on_notice = [this](const std::string& text) { notices_.push_back(text); };
    Result<std::unique_ptr<PgSource>> source = PgSource::Open(url, std::move(options));
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    return std::move(source).value();
  }

  Saved Save(PgSource* source) {
    Saved saved;
    Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    Result<InstanceSchema> schema = (*snapshot)->Describe();
    EXPECT_TRUE(schema.ok()) << schema.status().ToString();
    saved.schema = *schema;
    std::vector<std::string> names;
    for (const TableInfo& t : schema->tables) {
      std::string& rows = saved.rows[t.name];
      StringSink sink(&rows);
      Result<TableStreamStats> stats = (*snapshot)->StreamTable(t, &sink, &cancel_, nullptr);
      EXPECT_TRUE(stats.ok()) << t.name << ": " << stats.status().ToString();
      saved.counts[t.name] = stats.ok() ? stats->rows : 0;
      names.push_back(t.name);
    }
    Result<std::vector<SequenceValue>> sequences = (*snapshot)->ReadSequences(names);
    EXPECT_TRUE(sequences.ok()) << sequences.status().ToString();
    saved.sequences = *sequences;
    return saved;
  }

  // Replaces `tables` (all of them when empty) with what `saved` holds.
  Status Restore(PgSource* source, const Saved& saved, std::vector<std::string> tables = {}) {
    LB_ASSIGN_OR_RETURN(std::unique_ptr<RestoreTransaction> tx, source->BeginRestore(2000));
    std::vector<TableInfo> infos;
    for (const TableInfo& t : saved.schema.tables) {
      if (tables.empty() || std::find(tables.begin(), tables.end(), t.name) != tables.end()) {
        infos.push_back(t);
      }
    }
    LB_RETURN_IF_ERROR(tx->PrepareReplace(infos));
    for (const TableInfo& t : infos) {
      StringReader rows(saved.rows.at(t.name));
      LB_ASSIGN_OR_RETURN(TableStreamStats stats, tx->ReplaceTable(t, &rows, &cancel_));
      EXPECT_EQ(stats.rows, saved.counts.at(t.name)) << t.name;
    }
    std::vector<SequenceValue> sequences;
    for (const SequenceValue& s : saved.sequences) {
      for (const TableInfo& t : infos) {
        if (t.name == s.table) sequences.push_back(s);
      }
    }
    LB_RETURN_IF_ERROR(tx->SetSequences(sequences));
    return tx->Commit();
  }

  std::string Dump() { return server().PgDump(db_); }

  void Damage() {
    server().Exec(db_,
                  "SET search_path = app; DELETE FROM comments WHERE id % 3 = 0; "
                  "UPDATE projects SET name = 'renamed'; DELETE FROM no_key WHERE a = 2; "
                  "INSERT INTO values_zoo (t) VALUES ('added after the backup'); "
                  "DELETE FROM events WHERE id = 1; SELECT nextval('comments_id_seq');"
                  "UPDATE \"Weird Table\" SET \"Mixed Case\" = 'changed';");
  }

  int64_t Count(const std::string& sql) {
    std::unique_ptr<PgConnection> conn = server().Connect(db_);
    Result<PgResult> r = conn->Query(sql, "counting");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->GetInt64(0, 0) : -1;
  }

  // pg_database.datallowconn and Lifeboat's marks of `database` (the test's by default).
  std::pair<bool, std::string> MaintenanceState(std::string database = "") {
    if (database.empty()) database = db_;
    std::unique_ptr<PgConnection> admin = server().Connect("postgres");
    Result<PgResult> r = admin->Query(
        "SELECT d.datallowconn, COALESCE((SELECT string_agg(c, ',') FROM pg_db_role_setting s, "
        "unnest(s.setconfig) c WHERE s.setdatabase = d.oid AND c LIKE 'lifeboat.%'), '') "
        "FROM pg_database d WHERE d.datname = $1",
        "reading", {database});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return {r->GetBool(0, 0), r->GetString(0, 1)};
  }

  std::vector<std::string> notices_;
  CancellationToken cancel_;
  std::string url_;
  std::string db_;
  std::unique_ptr<PgSource> source_;
};

TEST(PgSchemaParameterTest, SplitsTheSchemaListOffTheUrl) {
  auto split = SplitSchemaParameter("postgresql://u@h/db?sslmode=disable&schema=app,audit");
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->first, "postgresql://u@h/db?sslmode=disable");
  EXPECT_EQ(split->second, (std::vector<std::string>{"app", "audit"}));
  auto plain = SplitSchemaParameter("postgresql://u@h/db");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->second, std::vector<std::string>{"public"});
  auto encoded = SplitSchemaParameter("postgresql://u@h/db?schema=a%2Cb&host=/tmp");
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->first, "postgresql://u@h/db?host=/tmp");
  EXPECT_EQ(encoded->second, std::vector<std::string>{"a,b"});
  EXPECT_EQ(SplitSchemaParameter("postgresql://u@h/db?schema=a,,b").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PgDumpProgramTest, RunsTheNewestInstalledBinaryAndNotTheWrapper) {
  const std::string program = PgDumpProgram(120000);
  ASSERT_EQ(program.rfind("/usr/lib/postgresql/", 0), 0u) << program;
  EXPECT_EQ(access(program.c_str(), X_OK), 0) << program;
  const int major = std::stoi(program.substr(std::string("/usr/lib/postgresql/").size()));
  EXPECT_GE(major, 12);
  // Its own major version is the newest there is; none is new enough for a far future server.
  EXPECT_EQ(PgDumpProgram(major * 10000), program);
  EXPECT_EQ(PgDumpProgram((major + 1) * 10000 + 1), "pg_dump");
}

TEST_F(PgSourceTest, DescribeNamesTablesColumnsAndKeys) {
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source_->BeginRead();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  std::vector<std::string> names;
  for (const TableInfo& t : schema->tables) names.push_back(t.name);
  // The first schema's tables are bare, the second's qualified; partitions are not tables.
  EXPECT_EQ(names, (std::vector<std::string>{"Weird Table", "audit.changes", "comments", "events",
                                             "no_key", "projects", "settings", "values_zoo"}));
  ASSERT_EQ(schema->skipped.size(), 1u);
  EXPECT_EQ(schema->skipped[0].name, "project_names");

  const TableInfo& zoo = schema->tables[7];
  EXPECT_EQ(zoo.columns[0].name, "id");
  EXPECT_EQ(zoo.columns[0].pk_position, 1);
  EXPECT_EQ(zoo.columns[0].default_sql, "GENERATED ALWAYS AS IDENTITY");
  EXPECT_TRUE(zoo.columns.back().hidden) << "the generated column is not copied";
  const TableInfo& events = schema->tables[3];
  EXPECT_EQ(events.columns[0].pk_position, 1);
  EXPECT_EQ(events.columns[1].pk_position, 2);
  EXPECT_EQ(schema->tables[2].columns[0].default_sql, "nextval('comments_id_seq'::regclass)");
  EXPECT_EQ(zoo.columns[10].type, "character varying(20)");

  Result<uint64_t> size = (*snapshot)->EstimateSize(zoo);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_GT(*size, 64u << 10) << "the TOASTed values count";
  Result<uint64_t> partitioned = (*snapshot)->EstimateSize(events);
  ASSERT_TRUE(partitioned.ok());
  EXPECT_GT(*partitioned, 0u) << "a partitioned table's size is its partitions'";
}

TEST_F(PgSourceTest, VersionQueryOnAMissingTableIsNotFoundAndTheSnapshotGoesOn) {
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source_->BeginRead();
  ASSERT_TRUE(snapshot.ok());
  auto missing = (*snapshot)->QueryVersion("SELECT v FROM no_such_table");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  auto version = (*snapshot)->QueryVersion("SELECT name FROM projects WHERE key = 'OPS'");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, "Ops");
  auto none = (*snapshot)->QueryVersion("SELECT name FROM projects WHERE false");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(PgSourceTest, ReadsOnePointInTimeWhileTheApplicationWrites) {
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source_->BeginRead();
  ASSERT_TRUE(snapshot.ok());
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok());
  server().Exec(db_, "INSERT INTO app.comments (project_id, body) VALUES (1, 'later')");
  const TableInfo* comments = FindTable(*schema, "comments");
  ASSERT_NE(comments, nullptr);
  std::string rows;
  StringSink sink(&rows);
  Result<TableStreamStats> stats = (*snapshot)->StreamTable(*comments, &sink, &cancel_, nullptr);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->rows, 500u) << "the row inserted after the snapshot began is not seen";
  EXPECT_EQ(rows.find("later"), std::string::npos);

  // A fork, made after the insert on a connection of its own, reads the same point in time.
  Result<std::unique_ptr<ReadSnapshot>> fork = (*snapshot)->Fork();
  ASSERT_TRUE(fork.ok()) << fork.status().ToString();
  ASSERT_NE(*fork, nullptr);
  std::string forked_rows;
  StringSink forked_sink(&forked_rows);
  ASSERT_TRUE((*fork)->StreamTable(*comments, &forked_sink, &cancel_, nullptr).ok());
  EXPECT_EQ(forked_rows, rows);
}

TEST_F(PgSourceTest, RestoreBringsBackTheExactDump) {
  const std::string before = Dump();
  Saved saved = Save(source_.get());
  Damage();
  ASSERT_NE(Dump(), before);
  std::unique_ptr<PgConnection> conn = server().Connect(db_);
  // The restore logs every other session out: `conn` is connected again after it.
  auto index_oid = [&](const std::string& name) {
    Result<PgResult> oid =
        conn->Query("SELECT $1::regclass::oid::text", "reading an index's oid", {name});
    EXPECT_TRUE(oid.ok()) << oid.status().ToString();
    return oid.ok() ? oid->GetString(0, 0) : std::string();
  };
  const std::string plain_before = index_oid("app.values_zoo_i4");
  const std::string commented_before = index_oid("app.comments_project");
  const std::string key_before = index_oid("app.comments_pkey");

  Status restored = Restore(source_.get(), saved);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_EQ(Dump(), before);
  conn = server().Connect(db_);
  // The plain index was dropped for the load and built again; the one with a comment and the
  // primary key stayed in place.
  EXPECT_NE(index_oid("app.values_zoo_i4"), plain_before);
  EXPECT_EQ(index_oid("app.comments_project"), commented_before);
  EXPECT_EQ(index_oid("app.comments_pkey"), key_before);

  // The rows were loaded frozen (COPY ... FREEZE into the truncated table): every page of a
  // restored table is all-frozen in the visibility map, so no reader sets hint bits on it.
  ASSERT_TRUE(conn->Exec("CREATE EXTENSION IF NOT EXISTS pg_visibility", "test setup").ok());
  Result<PgResult> pages = conn->Query(
      "SELECT all_frozen, pg_relation_size('app.comments') / current_setting('block_size')::int "
      "FROM pg_visibility_map_summary('app.comments')",
      "reading the visibility map");
  ASSERT_TRUE(pages.ok()) << pages.status().ToString();
  EXPECT_GT(pages->GetInt64(0, 1), 0);
  EXPECT_EQ(pages->GetInt64(0, 0), pages->GetInt64(0, 1));

  // A second backup of the restored instance streams the same bytes: the encoding depends
  // only on the data.
  Saved again = Save(source_.get());
  EXPECT_EQ(again.rows, saved.rows);
}

TEST_F(PgSourceTest, TriggersDoNotFireDuringTheRestore) {
  Saved saved = Save(source_.get());
  Damage();
  const int64_t audit_rows = Count("SELECT count(*) FROM audit.changes");
  std::vector<std::string> app_tables;
  for (const TableInfo& t : saved.schema.tables) {
    if (t.name != "audit.changes") app_tables.push_back(t.name);
  }
  Status restored = Restore(source_.get(), saved, app_tables);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_EQ(Count("SELECT count(*) FROM audit.changes"), audit_rows)
      << "a trigger fired while rows were loaded";
  EXPECT_EQ(Count("SELECT count(*) FROM app.comments"), 500);
  // The triggers are back on afterwards.
  server().Exec(db_, "INSERT INTO app.comments (project_id, body) VALUES (1, 'after')");
  EXPECT_EQ(Count("SELECT count(*) FROM audit.changes"), audit_rows + 1);
}

// Triggers keep their modes: one that fires in replica mode too (ENABLE ALWAYS) is held back
// by name, and a disabled one stays disabled.
void SetTriggerModes(PgTestServer& server, const std::string& db) {
  server.Exec(db,
              "ALTER TABLE app.comments ENABLE ALWAYS TRIGGER comments_audit; "
              "ALTER TABLE app.projects DISABLE TRIGGER projects_audit");
}

TEST_F(PgSourceTest, AnAlwaysTriggerDoesNotFireAndEveryTriggerKeepsItsMode) {
  SetTriggerModes(server(), db_);
  const std::string before = Dump();
  Saved saved = Save(source_.get());
  Damage();
  const int64_t audit_rows = Count("SELECT count(*) FROM audit.changes");
  std::vector<std::string> app_tables;
  for (const TableInfo& t : saved.schema.tables) {
    if (t.name != "audit.changes") app_tables.push_back(t.name);
  }
  Status restored = Restore(source_.get(), saved, app_tables);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_EQ(Count("SELECT count(*) FROM audit.changes"), audit_rows)
      << "a trigger fired while rows were loaded";
  EXPECT_EQ(Count("SELECT count(*) FROM pg_trigger WHERE tgname = 'comments_audit' AND "
                  "tgenabled = 'A'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_trigger WHERE tgname = 'projects_audit' AND "
                  "tgenabled = 'D'"),
            1);
  ASSERT_TRUE(Restore(source_.get(), saved).ok());
  EXPECT_EQ(Dump(), before);
}

TEST_F(PgSourceTest, ABrokenForeignKeyRollsEverythingBackAndNamesTheTables) {
  Saved saved = Save(source_.get());
  // Comments that point at a project the backup does not have, and a projects sequence
  // past the backup's, which the failed restore must leave where it is.
  server().Exec(db_,
                "INSERT INTO app.projects (id, key, name) VALUES (99, 'NEW', 'new'); "
                "INSERT INTO app.comments (project_id, body) VALUES (99, 'orphan to be'); "
                "SELECT setval('app.projects_id_seq', 99);");
  const std::string before = Dump();
  Status restored = Restore(source_.get(), saved, {"projects"});
  ASSERT_EQ(restored.code(), StatusCode::kFailedPrecondition) << restored.ToString();
  EXPECT_NE(restored.message().find("comments"), std::string::npos) << restored.message();
  EXPECT_NE(restored.message().find("comments_project_id_fkey"), std::string::npos);
  // The table to add is the one left alone that lost the rows it references.
  EXPECT_NE(restored.message().find("restore \"app\".\"comments\" too"), std::string::npos)
      << restored.message();
  EXPECT_EQ(Dump(), before) << "a failed restore changed the database";
}

TEST_F(PgSourceTest, AnApplicationSessionHoldingATableIsLoggedOutAndTheRestoreGoesOn) {
  Saved saved = Save(source_.get());
  Damage();
  std::unique_ptr<PgConnection> app = server().Connect(db_);
  ASSERT_TRUE(app->Exec("BEGIN; LOCK TABLE app.no_key IN ROW EXCLUSIVE MODE", "app").ok());
  Status restored = Restore(source_.get(), saved);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_FALSE(app->Exec("COMMIT", "app").ok()) << "the application's session survived";
  EXPECT_EQ(Count("SELECT count(*) FROM app.no_key"), 4);
}

TEST_F(PgSourceTest, AMissingDatabaseIsNotFound) {
  std::unique_ptr<PgSource> missing = Open(server().Url("no_such_database"));
  Result<std::unique_ptr<ReadSnapshot>> read = missing->BeginRead();
  EXPECT_EQ(read.status().code(), StatusCode::kNotFound) << read.status().ToString();
}

// Maintenance mode and exclusion

TEST_F(PgSourceTest, ARestoreLogsOtherSessionsOutAndRefusesNewOnesUntilItEnds) {
  std::unique_ptr<PgConnection> app = server().Connect(db_);
  ASSERT_TRUE(app->Exec("SELECT 1", "app").ok());
  Result<std::unique_ptr<RestoreTransaction>> tx = source_->BeginRestore(2000);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();

  EXPECT_FALSE(app->Exec("SELECT 1", "app").ok()) << "the application's session survived";
  Result<std::unique_ptr<PgConnection>> newcomer = [&] {
    PgConnectOptions options;
    options.conninfo = url_;
    options.described = url_;
    return PgConnection::Connect(options);
  }();
  ASSERT_FALSE(newcomer.ok());
  EXPECT_NE(newcomer.status().message().find("not currently accepting connections"),
            std::string::npos)
      << newcomer.status().ToString();
  auto [allowed, mark] = MaintenanceState();
  EXPECT_FALSE(allowed);
  EXPECT_NE(mark.find("lifeboat test by tester@test-host"), std::string::npos) << mark;

  (*tx)->Rollback();
  auto [allowed_after, mark_after] = MaintenanceState();
  EXPECT_TRUE(allowed_after);
  EXPECT_EQ(mark_after, "");
  EXPECT_NO_THROW(server().Connect(db_));
}

TEST_F(PgSourceTest, MaintenanceLeftByAKilledRestoreIsUndoneByTheNextRun) {
  // What a restore killed mid-way leaves: the mark and refused connections, no lock holder.
  server().Exec("postgres", "ALTER DATABASE " + PgQuoteIdentifier(db_) +
                                " SET lifeboat.maintenance = 'lifeboat restore by ops@gone "
                                "since yesterday'; ALTER DATABASE " +
                                PgQuoteIdentifier(db_) + " ALLOW_CONNECTIONS false");
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source_->BeginRead();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_NE(notices_[0].find("ops@gone"), std::string::npos) << notices_[0];
  EXPECT_TRUE(MaintenanceState().first);
  EXPECT_EQ(MaintenanceState().second, "");
}

TEST_F(PgSourceTest, MaintenanceOffRefusesWhileTheRestoreLivesAndWorksAfterwards) {
  Result<std::unique_ptr<RestoreTransaction>> tx = source_->BeginRestore(2000);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  std::unique_ptr<PgSource> other = Open(url_ + "&schema=app,audit", "backup");
  Result<std::string> off = other->LeaveMaintenance();
  EXPECT_EQ(off.status().code(), StatusCode::kAborted) << off.status().ToString();
  EXPECT_NE(off.status().message().find("lifeboat test by tester@test-host"), std::string::npos)
      << off.status().message();
  Result<std::unique_ptr<ReadSnapshot>> read = other->BeginRead();
  EXPECT_EQ(read.status().code(), StatusCode::kAborted) << read.status().ToString();
  EXPECT_FALSE(MaintenanceState().first) << "a live restore's maintenance was undone";

  (*tx)->Rollback();
  Result<std::string> nothing = other->LeaveMaintenance();
  ASSERT_TRUE(nothing.ok()) << nothing.status().ToString();
  EXPECT_EQ(*nothing, "");
}

TEST_F(PgSourceTest, AnAdministratorsRefusalIsNotLifeboatsToUndo) {
  server().Exec("postgres",
                "ALTER DATABASE " + PgQuoteIdentifier(db_) + " ALLOW_CONNECTIONS false");
  Result<std::unique_ptr<ReadSnapshot>> read = source_->BeginRead();
  EXPECT_EQ(read.status().code(), StatusCode::kFailedPrecondition) << read.status().ToString();
  EXPECT_FALSE(MaintenanceState().first);
  server().Exec("postgres", "ALTER DATABASE " + PgQuoteIdentifier(db_) + " ALLOW_CONNECTIONS true");
}

TEST_F(PgSourceTest, TwoOperationsOnOneDatabaseExcludeEachOtherAcrossProcesses) {
  Result<std::unique_ptr<ReadSnapshot>> first = source_->BeginRead();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // Another Lifeboat (another machine, another repository) sees the advisory lock.
  std::unique_ptr<PgSource> other = Open(url_ + "&schema=app,audit", "restore");
  Result<std::unique_ptr<RestoreTransaction>> second = other->BeginRestore(500);
  ASSERT_EQ(second.status().code(), StatusCode::kAborted) << second.status().ToString();
  EXPECT_NE(second.status().message().find("lifeboat test by tester@test-host"), std::string::npos)
      << second.status().message();
  EXPECT_TRUE(MaintenanceState().first) << "a refused restore entered maintenance";
  first->reset();
  Result<std::unique_ptr<RestoreTransaction>> third = other->BeginRestore(500);
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

// A role that owns the database and its tables but is not a superuser: it may not set
// session_replication_role, nor log a superuser's sessions out.
class PgOwnerRoleTest : public PgSourceTest {
 protected:
  void SetUp() override {
    server().Exec("postgres",
                  "DO $$ BEGIN CREATE ROLE app_owner LOGIN; "
                  "EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    url_ = server().CreateDatabase("owned");
    db_ = PgTestServer::DatabaseOf(url_);
    server().Exec(db_, "ALTER DATABASE " + PgQuoteIdentifier(db_) + " OWNER TO app_owner");
    server().Exec(db_, "SET ROLE app_owner;" + testing::RichSchemaSql() + testing::RichRowsSql());
    owner_url_ = "postgresql://app_owner@/" + db_ + "?host=" + server().socket_dir();
    source_ = Open(owner_url_ + "&schema=app,audit");
  }
  std::string owner_url_;
};

TEST_F(PgOwnerRoleTest, RestoresExactlyWithUserTriggersDisabledInsteadOfTheReplicaRole) {
  const std::string before = Dump();
  Saved saved = Save(source_.get());
  Damage();
  const int64_t audit_rows = Count("SELECT count(*) FROM audit.changes");
  std::unique_ptr<PgConnection> superuser_session = server().Connect(db_);
  PgConnectOptions as_owner;
  as_owner.conninfo = owner_url_;
  as_owner.described = owner_url_;
  Result<std::unique_ptr<PgConnection>> owner_session = PgConnection::Connect(as_owner);
  ASSERT_TRUE(owner_session.ok()) << owner_session.status().ToString();

  std::vector<std::string> all_but_audit;
  for (const TableInfo& t : saved.schema.tables) {
    if (t.name != "audit.changes") all_but_audit.push_back(t.name);
  }
  Status restored = Restore(source_.get(), saved, all_but_audit);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_EQ(Count("SELECT count(*) FROM audit.changes"), audit_rows)
      << "a trigger fired while rows were loaded";
  bool told = false;
  for (const std::string& n : notices_)
    told |= n.find("could not be logged out") != std::string::npos;
  EXPECT_TRUE(told) << "no notice that the superuser's session stayed";
  EXPECT_TRUE(superuser_session->Exec("SELECT 1", "app").ok());
  // The session the role may signal was logged out all the same.
  EXPECT_FALSE((*owner_session)->Exec("SELECT 1", "app").ok());

  // The triggers are enabled again, and the whole restore gives back the exact dump.
  server().Exec(db_, "INSERT INTO app.comments (project_id, body) VALUES (1, 'after')");
  EXPECT_EQ(Count("SELECT count(*) FROM audit.changes"), audit_rows + 1);
  ASSERT_TRUE(Restore(source_.get(), saved).ok());
  EXPECT_EQ(Dump(), before);
}

TEST_F(PgOwnerRoleTest, AForeignKeyDeferredByTheApplicationIsCheckedAndKeepsItsTiming) {
  server().Exec(db_,
                "ALTER TABLE app.comments ALTER CONSTRAINT comments_project_id_fkey "
                "DEFERRABLE INITIALLY DEFERRED");
  const std::string before = Dump();
  Saved saved = Save(source_.get());
  Damage();
  // Its checks were queued by the load; they run before the indexes and triggers come back,
  // also when it is the only key of the restored table and Lifeboat deferred none.
  Status restored = Restore(source_.get(), saved, {"comments"});
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  restored = Restore(source_.get(), saved);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_EQ(Dump(), before);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_constraint WHERE conname = 'comments_project_id_fkey' "
                  "AND condeferrable AND condeferred"),
            1);
}

TEST_F(PgOwnerRoleTest, AnOwnerWithoutTheRightToMarkTheDatabaseIsToldWhichGrantIsMissing) {
  Result<std::unique_ptr<RestoreTransaction>> tx = source_->BeginRestore(2000);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  // Without the mark, a refusal left by a killed run could not be told from an
  // administrator's: connections stay allowed, and the notice names the grant.
  EXPECT_TRUE(MaintenanceState().first);
  bool told = false;
  for (const std::string& n : notices_) {
    told |=
        n.find("GRANT SET ON PARAMETER lifeboat.maintenance TO \"app_owner\"") != std::string::npos;
  }
  EXPECT_TRUE(told) << "no notice naming the missing grant";
}

// An owner granted the right to set the mark refuses connections during the restore.
class PgMarkingOwnerTest : public PgOwnerRoleTest {
 protected:
  void SetUp() override {
    PgOwnerRoleTest::SetUp();
    server().Exec("postgres", "GRANT SET ON PARAMETER lifeboat.maintenance TO app_owner");
  }
  void TearDown() override {
    server().Exec("postgres", "GRANT CONNECT ON DATABASE postgres TO PUBLIC");
    server().Exec("postgres", "REVOKE SET ON PARAMETER lifeboat.maintenance FROM app_owner");
  }
};

TEST_F(PgMarkingOwnerTest, ACommitThatCannotLeaveMaintenanceSucceedsAndSaysHowToLeave) {
  Result<std::unique_ptr<RestoreTransaction>> tx = source_->BeginRestore(2000);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  ASSERT_FALSE(MaintenanceState().first) << "connections were not refused";
  // Leaving maintenance goes through the postgres database, which the owner may no longer
  // reach.
  server().Exec("postgres", "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC");
  Status committed = (*tx)->Commit();
  server().Exec("postgres", "GRANT CONNECT ON DATABASE postgres TO PUBLIC");
  EXPECT_TRUE(committed.ok()) << committed.ToString();
  bool told = false;
  for (const std::string& n : notices_) {
    told |= n.find("committed") != std::string::npos &&
            n.find("lifeboat maintenance off") != std::string::npos;
  }
  EXPECT_TRUE(told) << "no notice that maintenance is still on";
  EXPECT_FALSE(MaintenanceState().first);
  tx->reset();
  Result<std::string> left = source_->LeaveMaintenance();
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_TRUE(MaintenanceState().first);
}

TEST_F(PgOwnerRoleTest, EveryTriggerKeepsItsModeWithoutTheReplicaRole) {
  SetTriggerModes(server(), db_);
  const std::string before = Dump();
  Saved saved = Save(source_.get());
  Damage();
  const int64_t audit_rows = Count("SELECT count(*) FROM audit.changes");
  std::vector<std::string> app_tables;
  for (const TableInfo& t : saved.schema.tables) {
    if (t.name != "audit.changes") app_tables.push_back(t.name);
  }
  Status restored = Restore(source_.get(), saved, app_tables);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_EQ(Count("SELECT count(*) FROM audit.changes"), audit_rows)
      << "a trigger fired while rows were loaded";
  ASSERT_TRUE(Restore(source_.get(), saved).ok());
  EXPECT_EQ(Dump(), before);
}

TEST_F(PgOwnerRoleTest, ATableReferencedFromOutsideTheRestoreIsRefusedWithTheFix) {
  Saved saved = Save(source_.get());
  const std::string before = Dump();
  Status restored = Restore(source_.get(), saved, {"projects"});
  ASSERT_EQ(restored.code(), StatusCode::kFailedPrecondition) << restored.ToString();
  EXPECT_NE(restored.message().find("session_replication_role"), std::string::npos)
      << restored.message();
  EXPECT_EQ(Dump(), before);
}

TEST_F(PgSourceTest, CommitTokenTellsWhetherTheRestoreCommitted) {
  Result<std::unique_ptr<RestoreTransaction>> committed = source_->BeginRestore(2000);
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  Result<std::string> token = (*committed)->RecordCommitToken();
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->rfind("xid:", 0), 0u) << *token;
  ASSERT_TRUE((*committed)->Commit().ok());
  Result<CommitState> state = source_->RestoreCommitState(*token);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(*state, CommitState::kCommitted);
  committed->reset();  // its connection holds the instance's operation lock

  Result<std::unique_ptr<RestoreTransaction>> rolled_back = source_->BeginRestore(2000);
  ASSERT_TRUE(rolled_back.ok()) << rolled_back.status().ToString();
  Result<std::string> other = (*rolled_back)->RecordCommitToken();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_NE(*other, *token);
  rolled_back->reset();  // destroyed open: rolled back, as when the process dies
  state = source_->RestoreCommitState(*other);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(*state, CommitState::kRolledBack);

  EXPECT_EQ(source_->RestoreCommitState("sqlite-token").status().code(),
            StatusCode::kInvalidArgument);
}

// A scan of a large table by another session (here one stopped by LIMIT, which leaves the
// synchronized-scan position in the middle of the table) does not move where a backup starts
// reading: the stream begins with the table's first row, as COPY without Lifeboat's settings
// would not.
TEST_F(PgSourceTest, AnotherSessionsScanDoesNotRotateTheRowOrder) {
  // Larger than a quarter of shared_buffers (16MB on the test server): scans synchronize.
  server().Exec(
      db_,
      "CREATE TABLE app.big_rows (id int, pad text);"
      "INSERT INTO app.big_rows SELECT g, repeat('x', 200) FROM generate_series(1, 60000) g;");
  std::unique_ptr<PgConnection> app = server().Connect(db_);
  ASSERT_TRUE(app->Exec("SET synchronize_seqscans = on", "the server's default").ok());
  ASSERT_TRUE(app->Query("SELECT id FROM app.big_rows WHERE id = 40000 LIMIT 1", "scanning").ok());
  // The hazard: a session with the server's defaults now starts reading mid-table.
  Result<PgResult> first = app->Query("SELECT id FROM app.big_rows LIMIT 1", "reading");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_NE(first->GetString(0, 0), "1");
  source_ = Open(url_ + "&schema=app,audit");
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source_->BeginRead();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok());
  const TableInfo* table = FindTable(*schema, "big_rows");
  ASSERT_NE(table, nullptr);
  std::string rows;
  StringSink sink(&rows);
  ASSERT_TRUE((*snapshot)->StreamTable(*table, &sink, &cancel_, nullptr).ok());
  EXPECT_EQ(rows.substr(0, rows.find('\t')), "1");
}

// A table of 8 KiB pages read in parts of 16 pages: the parts' streams, in order, are the
// whole table's COPY, each part reads only its pages, and an inheritance parent's parts hold
// its own rows only, as its COPY does. Partitioned tables and tables with large values stay
// whole.
TEST_F(PgSourceTest, ATableReadInPartsGivesTheBytesOfItsWholeCopy) {
  server().Exec(db_,
                "CREATE TABLE app.paged (id int PRIMARY KEY, note text);"
                "INSERT INTO app.paged SELECT g, repeat(chr(65 + g % 26), 180) || E'\\t\\n' "
                "FROM generate_series(1, 4000) g;"
                "DELETE FROM app.paged WHERE id % 7 = 0;"
                "UPDATE app.paged SET note = 'moved' WHERE id % 11 = 0;"
                "CREATE TABLE app.paged_child (extra int) INHERITS (app.paged);"
                "INSERT INTO app.paged_child SELECT g, 'child', g FROM generate_series(1, 50) g;");
  const int64_t pages = Count("SELECT pg_relation_size('app.paged') / 8192");
  ASSERT_GT(pages, 40);
  std::unique_ptr<PgSource> source = Open(url_ + "&schema=app,audit", "parts", {}, 16);
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source->BeginRead();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  const TableInfo* table = FindTable(*schema, "paged");
  ASSERT_NE(table, nullptr);

  Result<std::vector<TablePart>> parts = (*snapshot)->SplitTable(*table);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), static_cast<size_t>((pages + 15) / 16));
  for (size_t i = 0; i < parts->size(); ++i) {
    EXPECT_EQ((*parts)[i].first_page, 16 * i);
    if (i + 1 < parts->size()) {
      EXPECT_EQ((*parts)[i].end_page, std::optional<uint64_t>(16 * (i + 1)));
    }
  }
  EXPECT_FALSE(parts->back().end_page.has_value()) << "the last part is open-ended";

  std::string whole;
  StringSink whole_sink(&whole);
  Result<TableStreamStats> whole_stats =
      (*snapshot)->StreamTable(*table, &whole_sink, &cancel_, nullptr);
  ASSERT_TRUE(whole_stats.ok()) << whole_stats.status().ToString();
  EXPECT_EQ(whole_stats->rows, 4000u - 4000u / 7);
  std::string joined;
  uint64_t rows = 0;
  for (const TablePart& part : *parts) {
    std::string piece;
    StringSink sink(&piece);
    Result<TableStreamStats> stats =
        (*snapshot)->StreamTablePart(*table, part, &sink, &cancel_, nullptr);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_GT(stats->rows, 0u) << "part from page " << part.first_page;
    EXPECT_EQ(stats->bytes, piece.size());
    rows += stats->rows;
    joined += piece;
  }
  EXPECT_EQ(rows, whole_stats->rows);
  EXPECT_TRUE(joined == whole) << "the parts give " << joined.size() << " bytes, COPY "
                               << whole.size();
  EXPECT_EQ(joined.find("child"), std::string::npos);

  // Each part reads its own pages, not the whole table.
  std::unique_ptr<PgConnection> conn = server().Connect(db_);
  Result<PgResult> plan = conn->Query(
      "EXPLAIN SELECT id FROM ONLY app.paged WHERE ctid >= '(16,0)' AND ctid < '(32,0)'",
      "explaining");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_NE(plan->GetString(0, 0).find("Tid Range Scan"), std::string::npos)
      << plan->GetString(0, 0);

  // A partitioned table is read through its parent, whole.
  std::unique_ptr<PgSource> one_page = Open(url_ + "&schema=app,audit", "parts", {}, 1);
  snapshot->reset();  // ends the read, and its hold on the database
  snapshot = one_page->BeginRead();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  parts = (*snapshot)->SplitTable(*FindTable(*schema, "events"));
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_TRUE(parts->front().whole());
  // So is a table whose large values are read through a cursor.
  PgLargeValueLimits tiny;
  tiny.value_bytes = 4;
  std::unique_ptr<PgSource> sliced = Open(url_ + "&schema=app,audit", "parts", tiny, 1);
  snapshot->reset();
  snapshot = sliced->BeginRead();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  parts = (*snapshot)->SplitTable(*table);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_TRUE(parts->front().whole());
}

// Every table read through the large-value path, with limits so small that nearly every text
// and bytea value is fetched in slices (of 1,000 bytes or characters), gives the bytes COPY
// gives.
TEST_F(PgSourceTest, SlicedReadsWriteExactlyWhatCopyWrites) {
  const Saved copied = Save(source_.get());
  PgLargeValueLimits tiny;
  tiny.value_bytes = 4;
  tiny.slice_bytes = 1000;
  tiny.batch_bytes = 64;
  std::unique_ptr<PgSource> sliced_source = Open(url_ + "&schema=app,audit", "sliced", tiny);
  const Saved sliced = Save(sliced_source.get());
  ASSERT_EQ(sliced.rows.size(), copied.rows.size());
  for (const auto& [table, rows] : copied.rows) {
    EXPECT_EQ(sliced.rows.at(table), rows) << table;
    EXPECT_EQ(sliced.counts.at(table), copied.counts.at(table)) << table;
  }
  // And they restore exactly.
  const std::string before = Dump();
  Damage();
  Status restored = Restore(source_.get(), sliced);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_EQ(Dump(), before);
}

// AddressSanitizer has an allocator of its own, which mallinfo2 does not see.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kHeapIsMeasurable = false;
#else
constexpr bool kHeapIsMeasurable = true;
#endif

// Counts the heap in use (mallinfo2) each time a piece of the stream arrives.
class HeapWatchingSink : public ByteSink {
 public:
  HeapWatchingSink() : base_(InUse()) {}
  Status Write(std::string_view data) override {
    peak_ = std::max(peak_, InUse());
    digest_.Update(data);
    bytes_ += data.size();
    return OkStatus();
  }
  int64_t peak_above_start() const { return peak_ - base_; }
  std::string digest() { return ToHex(digest_.Finish()); }
  uint64_t bytes() const { return bytes_; }

 private:
  static int64_t InUse() {
    struct mallinfo2 info = mallinfo2();
    return static_cast<int64_t>(info.uordblks + info.hblkhd);
  }
  int64_t base_;
  int64_t peak_ = 0;
  Sha256Hasher digest_;
  uint64_t bytes_ = 0;
};

TEST_F(PgSourceTest, LargeValuesStreamWithBoundedMemoryAndRoundTrip) {
  // A 24 MiB bytea (incompressible) and a 12 MiB text (compressible, with every escape COPY
  // knows and non-ASCII characters), next to small rows.
  server().Exec(db_,
                "CREATE TABLE app.attachments (id int PRIMARY KEY, name text, body bytea, "
                "note text);"
                "INSERT INTO app.attachments SELECT 1, 'big.bin', "
                "  (SELECT string_agg(decode(md5(g::text), 'hex'), ''::bytea) "
                "   FROM generate_series(1, 1536 * 1024) g), 'small';"
                "INSERT INTO app.attachments SELECT 2, 'notes.txt', '\\x00ff'::bytea, "
                "  repeat('line\\one' || chr(9) || 'tab' || chr(13) || chr(10) || chr(8) || "
                "chr(12) || chr(11) || ' ünï €', 524288);"
                "INSERT INTO app.attachments SELECT g, 'n' || g, '\\x01'::bytea, 'tiny' "
                "  FROM generate_series(3, 2000) g;");
  source_ = Open(url_ + "&schema=app,audit");
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source_->BeginRead();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  Result<InstanceSchema> schema = (*snapshot)->Describe();
  ASSERT_TRUE(schema.ok());
  const TableInfo* table = FindTable(*schema, "attachments");
  ASSERT_NE(table, nullptr);

  HeapWatchingSink sliced;
  Result<TableStreamStats> stats = (*snapshot)->StreamTable(*table, &sliced, &cancel_, nullptr);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows, 2000u);
  EXPECT_GT(sliced.bytes(), 48u << 20) << "24 MiB of bytea is 48 MiB of hex";
  if (kHeapIsMeasurable) {
    EXPECT_LT(sliced.peak_above_start(), 20 << 20)
        << "the stream held a large value whole: " << sliced.peak_above_start() << " bytes";
  }

  snapshot->reset();  // its connection holds the instance's operation lock

  // The same bytes as COPY, which holds each row whole.
  PgLargeValueLimits never;
  never.value_bytes = uint64_t{1} << 40;
  std::unique_ptr<PgSource> copy_source = Open(url_ + "&schema=app,audit", "copy", never);
  Result<std::unique_ptr<ReadSnapshot>> copy_snapshot = copy_source->BeginRead();
  ASSERT_TRUE(copy_snapshot.ok());
  HeapWatchingSink copied;
  ASSERT_TRUE((*copy_snapshot)->StreamTable(*table, &copied, &cancel_, nullptr).ok());
  if (kHeapIsMeasurable) {
    EXPECT_GT(copied.peak_above_start(), 48 << 20) << "COPY holds the 48 MiB row";
  }
  EXPECT_EQ(sliced.digest(), copied.digest());
  std::cout << "[ INFO     ] " << sliced.bytes()
            << " bytes streamed; heap above the start: " << sliced.peak_above_start()
            << " bytes sliced, " << copied.peak_above_start() << " bytes through COPY\n";
  copy_snapshot->reset();

  // The stream restores the values exactly.
  auto digests = [&] {
    std::unique_ptr<PgConnection> conn = server().Connect(db_);
    Result<PgResult> r = conn->Query(
        "SELECT string_agg(md5(body) || md5(note), ',' ORDER BY id) FROM app.attachments",
        "hashing");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->GetString(0, 0) : "";
  };
  const std::string before = digests();
  const Saved saved = Save(source_.get());
  server().Exec(db_, "UPDATE app.attachments SET body = '\\x00', note = 'gone' WHERE id < 3");
  ASSERT_NE(digests(), before);
  Status restored = Restore(source_.get(), saved, {"attachments"});
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_EQ(digests(), before);
}

// The post-data script cut into entries

TEST(PgDumpScriptTest, CutsEntriesAndGivesEachTheSettingsInForce) {
  const std::string script =
      "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\n"
      "SET statement_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);\n\n"
      "--\n-- Name: t t_pkey; Type: CONSTRAINT; Schema: app; Owner: -\n--\n\n"
      "ALTER TABLE ONLY app.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n\n\n"
      "SET default_tablespace = '';\n\n"
      "--\n-- Name: t_name; Type: INDEX; Schema: app; Owner: -\n--\n\n"
      "CREATE INDEX t_name ON app.t USING btree (name);\n\n\n"
      "--\n-- Name: u u_t_fkey; Type: FK CONSTRAINT; Schema: app; Owner: -\n--\n\n"
      "ALTER TABLE ONLY app.u\n    ADD CONSTRAINT u_t_fkey FOREIGN KEY (t) REFERENCES app.t(id);"
      "\n\n\\unrestrict abc\n";
  PgDumpScript split = SplitPgDumpScript(script);
  ASSERT_EQ(split.entries.size(), 3u);
  EXPECT_EQ(split.entries[0].name, "t t_pkey");
  EXPECT_EQ(split.entries[0].type, "CONSTRAINT");
  EXPECT_EQ(split.entries[1].type, "INDEX");
  EXPECT_EQ(split.entries[2].type, "FK CONSTRAINT");
  EXPECT_TRUE(PgDumpEntryRunsInParallel(split.entries[0].type));
  EXPECT_TRUE(PgDumpEntryRunsInParallel(split.entries[1].type));
  EXPECT_FALSE(PgDumpEntryRunsInParallel(split.entries[2].type));
  const std::string preamble_settings =
      "SET statement_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);\n";
  EXPECT_EQ(split.entries[0].settings, preamble_settings);
  // The setting between the first and the second entry holds for every later one.
  EXPECT_EQ(split.entries[1].settings, preamble_settings + "SET default_tablespace = '';\n");
  EXPECT_EQ(split.entries[2].settings, split.entries[1].settings);
  EXPECT_NE(split.entries[1].sql.find("CREATE INDEX t_name ON app.t"), std::string::npos);
  // Nothing is lost or doubled: preamble and entries are the script without psql's commands.
  std::string joined = split.preamble;
  for (const PgDumpEntry& e : split.entries) joined += e.sql;
  std::string expected = script;
  for (const char* meta : {"\\restrict abc\n", "\\unrestrict abc\n"}) {
    expected.erase(expected.find(meta), std::string(meta).size());
  }
  EXPECT_EQ(joined, expected);
}

TEST(PgDumpScriptTest, ASettingInsideAStatementIsNotASessionSetting) {
  const std::string script =
      "--\n-- Name: r; Type: RULE; Schema: app; Owner: -\n--\n\n"
      "CREATE RULE r AS\n    ON UPDATE TO app.t DO INSTEAD  UPDATE app.u\nSET a = 1;\n\n"
      "--\n-- Name: t_a; Type: INDEX; Schema: app; Owner: -\n--\n\n"
      "CREATE INDEX t_a ON app.t USING btree (a);\n";
  PgDumpScript split = SplitPgDumpScript(script);
  ASSERT_EQ(split.entries.size(), 2u);
  EXPECT_EQ(split.entries[1].settings, "");
}

// Clones into an empty database

class PgCloneTest : public PgSourceTest {
 protected:
  void SetUp() override {
    PgSourceTest::SetUp();
    target_url_ = server().CreateDatabase("clone");
    target_db_ = PgTestServer::DatabaseOf(target_url_);
    Result<std::unique_ptr<ReadSnapshot>> snapshot = source_->BeginRead();
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    Result<std::optional<SchemaScripts>> scripts = (*snapshot)->DumpSchema(&cancel_);
    ASSERT_TRUE(scripts.ok() && scripts->has_value()) << scripts.status().ToString();
    scripts_ = **scripts;
    snapshot->reset();
    saved_ = Save(source_.get());
  }

  // Clones `saved_` into the target as RunRestore does, with one helper connection; the rows
  // of `broken_table` are replaced by garbage. Reports whether the clone was staged.
  Status Clone(const std::string& broken_table = "", bool* staged = nullptr) {
    PgSource::Options options;
    options.described = target_url_;
    options.label = "lifeboat restore by tester@test-host";
    options.clone_connections = 2;
    LB_ASSIGN_OR_RETURN(std::unique_ptr<PgSource> target,
                        PgSource::Open(target_url_ + "&schema=app,audit", std::move(options)));
    LB_ASSIGN_OR_RETURN(std::unique_ptr<RestoreTransaction> tx, target->BeginRestore(2000));
    LB_RETURN_IF_ERROR(tx->CreateFromScript(scripts_));
    LB_ASSIGN_OR_RETURN(std::vector<TableLoader*> loaders, tx->CloneLoaders(1));
    if (staged) *staged = static_cast<PgRestoreTransaction*>(tx.get())->staged();
    loaders.insert(loaders.begin(), tx.get());
    LB_RETURN_IF_ERROR(tx->PrepareReplace(saved_.schema.tables));
    size_t i = 0;
    for (const TableInfo& t : saved_.schema.tables) {
      const std::string garbage = "not\ta row\n";
      StringReader rows(t.name == broken_table ? garbage : saved_.rows.at(t.name));
      LB_RETURN_IF_ERROR(loaders[i++ % loaders.size()]->ReplaceTable(t, &rows, &cancel_).status());
    }
    LB_RETURN_IF_ERROR(tx->CompleteFromScript(scripts_));
    LB_RETURN_IF_ERROR(tx->SetSequences(saved_.sequences));
    return tx->Commit();
  }

  std::string target_url_;
  std::string target_db_;
  SchemaScripts scripts_;
  Saved saved_;
};

TEST_F(PgCloneTest, AStagedCloneGivesTheSameDump) {
  const std::string source_dump = Dump();
  bool staged = false;
  Status cloned = Clone("", &staged);
  ASSERT_TRUE(cloned.ok()) << cloned.ToString();
  EXPECT_TRUE(staged) << "an empty target with two connections should be cloned staged";
  EXPECT_EQ(server().PgDump(target_db_), source_dump);
  EXPECT_EQ(MaintenanceState(target_db_), std::make_pair(true, std::string()));
}

TEST_F(PgCloneTest, AFailedStagedCloneIsUndoneAndTheSchemasAreAsTheyWere) {
  // The target already has an empty schema app of its own; the source's has another comment.
  server().Exec(db_, "COMMENT ON SCHEMA app IS 'the source''s app'");
  server().Exec(target_db_,
                "CREATE SCHEMA app; COMMENT ON SCHEMA app IS 'the target''s app'; "
                "GRANT USAGE ON SCHEMA app TO PUBLIC");
  Result<std::unique_ptr<ReadSnapshot>> snapshot = source_->BeginRead();
  ASSERT_TRUE(snapshot.ok());
  scripts_ = *(*snapshot)->DumpSchema(&cancel_).value();
  snapshot->reset();
  const std::string before = server().PgDump(target_db_);

  bool staged = false;
  Status cloned = Clone("comments", &staged);
  ASSERT_FALSE(cloned.ok());
  EXPECT_TRUE(staged);
  EXPECT_NE(cloned.message().find("comments"), std::string::npos) << cloned.ToString();
  EXPECT_EQ(server().PgDump(target_db_), before) << "the failed clone left something behind";
  EXPECT_EQ(MaintenanceState(target_db_), std::make_pair(true, std::string()));
  // And the next clone goes through.
  ASSERT_TRUE(Clone().ok());
  EXPECT_EQ(server().PgDump(target_db_, "--data-only"), server().PgDump(db_, "--data-only"));
}

TEST_F(PgCloneTest, ACloneIntoSchemasThatHoldSomethingIsOneTransaction) {
  server().Exec(target_db_, "CREATE SCHEMA audit; CREATE TABLE audit.kept (a int)");
  const std::string before = server().PgDump(target_db_);
  bool staged = true;
  Status cloned = Clone("comments", &staged);
  ASSERT_FALSE(cloned.ok());
  EXPECT_FALSE(staged) << "undoing it would have dropped audit.kept";
  EXPECT_EQ(server().PgDump(target_db_), before);
  ASSERT_TRUE(Clone("", &staged).ok());
  EXPECT_FALSE(staged);
  EXPECT_EQ(server().PgDump(target_db_, "--data-only -n app"),
            server().PgDump(db_, "--data-only -n app"));
}

TEST_F(PgCloneTest, UndoDropsWhatTheCloneCreatedAndGivesTheSchemaItsAttributesBack) {
  server().Exec(target_db_,
                "CREATE SCHEMA app; COMMENT ON SCHEMA app IS 'kept'; "
                "REVOKE ALL ON SCHEMA app FROM PUBLIC; "
                "GRANT USAGE ON SCHEMA app TO lifeboat WITH GRANT OPTION");
  const std::string before = server().PgDump(target_db_);
  std::unique_ptr<PgConnection> conn = server().Connect(target_db_);
  ASSERT_TRUE(conn->Exec("BEGIN", "test").ok());
  ASSERT_TRUE(MarkPgClone(conn.get(), {"app", "audit"}, "lifeboat restore by ops@gone").ok());
  ASSERT_TRUE(conn->Exec("COMMIT", "test").ok());
  // What a clone might have done since: objects of every kind, the schema's attributes.
  server().Exec(target_db_, std::string(R"sql(
    CREATE SCHEMA audit; CREATE TABLE audit.changes (id serial PRIMARY KEY);
    SET search_path = app;
    CREATE TYPE mood AS ENUM ('ok'); CREATE DOMAIN positive AS int CHECK (VALUE > 0);
    CREATE TYPE span AS RANGE (subtype = int4); CREATE TYPE pair AS (a int, b int);
    CREATE TABLE t (id serial PRIMARY KEY, m mood, p positive, s span);
    CREATE TABLE child (t int REFERENCES t);
    CREATE VIEW v AS SELECT * FROM t; CREATE MATERIALIZED VIEW mv AS SELECT id FROM t;
    CREATE FUNCTION f(int) RETURNS int LANGUAGE sql AS 'SELECT $1';
    CREATE AGGREGATE total(int) (sfunc = int4pl, stype = int);
    CREATE SEQUENCE loose; CREATE STATISTICS st ON id, m FROM t;
    COMMENT ON SCHEMA app IS 'the clone''s'; GRANT CREATE ON SCHEMA app TO PUBLIC;)sql"));
  ASSERT_NE(server().PgDump(target_db_), before);

  Result<std::optional<std::string>> mark = ReadPgCloneMark(conn.get(), target_db_);
  ASSERT_TRUE(mark.ok() && mark->has_value());
  Result<std::string> undone = UndoPgClone(conn.get());
  ASSERT_TRUE(undone.ok()) << undone.status().ToString();
  EXPECT_NE(undone->find("ops@gone"), std::string::npos) << *undone;
  EXPECT_EQ(server().PgDump(target_db_), before);
  EXPECT_FALSE(ReadPgCloneMark(conn.get(), target_db_)->has_value());
  // Without a mark there is nothing to undo.
  Result<std::string> again = UndoPgClone(conn.get());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "");
}

TEST_F(PgCloneTest, UndoReadsTheMarkAsFormatDocumentsIt) {
  // A mark as FORMAT.md section 13.1 shows it, written literally: public existed with its
  // defaults, audit did not.
  const std::string name = PgQuoteIdentifier(target_db_);
  server().Exec(
      target_db_,
      "ALTER DATABASE " + name +
          R"sql( SET lifeboat.clone = '{"label" : "lifeboat restore by ops@app-1", "since" : "2026-12-02 06:10:00.1+00", "schemas" : [{"name" : "public", "existed" : true, "owner" : "pg_database_owner", "comment" : "standard public schema", "acl" : "{pg_database_owner=UC/pg_database_owner,=U/pg_database_owner}"}, {"name" : "audit", "existed" : false, "owner" : null, "comment" : null, "acl" : null}]}')sql");
  const std::string before = server().PgDump(target_db_);
  server().Exec(target_db_,
                "CREATE TABLE public.t (id int PRIMARY KEY); CREATE SCHEMA audit; "
                "CREATE TABLE audit.changes (id int); COMMENT ON SCHEMA public IS 'changed'");
  std::unique_ptr<PgConnection> conn = server().Connect(target_db_);
  Result<std::string> undone = UndoPgClone(conn.get());
  ASSERT_TRUE(undone.ok()) << undone.status().ToString();
  EXPECT_EQ(*undone, "lifeboat restore by ops@app-1 since 2026-12-02 06:10:00.1+00");
  EXPECT_EQ(server().PgDump(target_db_), before);
  EXPECT_FALSE(ReadPgCloneMark(conn.get(), target_db_)->has_value());
}

}  // namespace
}  // namespace lifeboat
