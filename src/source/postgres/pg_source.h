// PgSource: the Source (source.h) for one PostgreSQL database, through libpq. BeginRead gives
// a PgReadSnapshot (one REPEATABLE READ, READ ONLY transaction, its snapshot exported);
// BeginRestore a PgRestoreTransaction (one transaction holding every table of the instance's
// schemas in ACCESS EXCLUSIVE mode). Rows travel as COPY text (FORMAT.md section 8.1); the
// manifest records the kind "postgresql" and the URL without its password.
//
// The instance is a libpq URL or key=value string plus Lifeboat's own `schema` parameter
// (`postgresql://backup@db/tracker?schema=app,audit`: the schemas whose tables the instance
// holds, the first one's tables named without their schema; default `public`), which is taken
// out before libpq sees the rest. Passwords come from the URL, the file PGPASSFILE names
// (default ~/.pgpass) or PGPASSWORD, as libpq reads them.
//
// Thread-safety: immutable after Open; every snapshot and restore has its own connection.
// Errors: InvalidArgument for a malformed URL; connection errors as pg_connection.h says.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "source/postgres/pg_connection.h"
#include "source/postgres/pg_large_values.h"
#include "source/postgres/pg_read_snapshot.h"
#include "source/source.h"

namespace lifeboat {

class PgSource : public Source {
 public:
  struct Options {
    std::string described;  // how messages and manifests name it: the URL, password redacted
    std::string label;      // who works on it, for pg_stat_activity: "lifeboat backup by ops@h"
    // Lines worth showing (a maintenance mode left by a killed process was undone).
    std::function<void(const std::string&)> on_notice;
    // Values above these are read in slices (pg_large_values.h).
    PgLargeValueLimits large_values;
    // Connections a clone into empty schemas loads and indexes with (pg_restore_transaction.h);
    // 0: one per core. 1 keeps every clone one transaction.
    int clone_connections = 0;
    // Heap pages per part of a table read in parts (pg_read_snapshot.h); 0: never split.
    uint64_t part_pages = PgReadSnapshot::kPartPages;
  };
  // Does not connect: the first Begin* does.
  static Result<std::unique_ptr<PgSource>> Open(const std::string& url, Options options);

  std::string kind() const override { return "postgresql"; }
  std::string Describe() const override { return options_.described; }
  Result<std::unique_ptr<ReadSnapshot>> BeginRead() override;
  Result<std::unique_ptr<RestoreTransaction>> BeginRestore(int wait_millis) override;
  // pg_maintenance.h: RecoverPgMaintenance on the instance's database.
  Result<std::string> LeaveMaintenance() override;
  // txid_status() of the token's transaction id; kUnknown once the server has forgotten it.
  Result<CommitState> RestoreCommitState(const std::string& token) override;
  // Nothing to remove: the token is the transaction's own id.
  Status ForgetCommitToken(const std::string& token) override {
    (void)token;
    return OkStatus();
  }

  const std::vector<std::string>& schemas() const { return options_.schemas; }
  // A connection to the instance. A database that refuses connections because a killed
  // Lifeboat restore left it in maintenance is taken out of it first (with a notice).
  Result<std::unique_ptr<PgConnection>> Connect() const;

 private:
  PgSource(PgConnectOptions options, std::function<void(const std::string&)> on_notice,
           PgLargeValueLimits large_values, int clone_connections, uint64_t part_pages)
      : options_(std::move(options)),
        on_notice_(std::move(on_notice)),
        large_values_(large_values),
        clone_connections_(clone_connections),
        part_pages_(part_pages) {}

  const PgConnectOptions options_;
  const std::function<void(const std::string&)> on_notice_;
  const PgLargeValueLimits large_values_;
  const int clone_connections_;
  const uint64_t part_pages_;
};

// Splits Lifeboat's `schema` parameter off a libpq URL: `url` without it, and the schemas
// (["public"] when absent). InvalidArgument for an empty schema name.
Result<std::pair<std::string, std::vector<std::string>>> SplitSchemaParameter(
    const std::string& url);

}  // namespace lifeboat
