// PgConnection and PgResult: small owners of libpq handles (a connection, a query result)
// that turn libpq failures into Status values naming the action and the instance, plus the
// COPY streaming both directions.
//
// Messages read "<action> on PostgreSQL <redacted url>: <server message>", for example
// `reading table public.trk_issues on PostgreSQL postgresql://backup@db/tracker: permission
// denied for table trk_issues`. Codes by SQLSTATE: 55P03 (lock not available), 57014 (a lock
// or statement timeout), 40P01 (deadlock), 40001 (serialization) -> Aborted (another session
// holds what we need); 28xxx -> Unauthenticated; 42501 -> PermissionDenied; 3D000 (no such
// database), 42P01 (no such table), 3F000 (no such schema) -> NotFound; 23xxx (a constraint),
// 22xxx (data that does not fit) -> FailedPrecondition; 53xxx, 08xxx and a lost connection ->
// Unavailable; anything else -> Internal.
//
// Every connection is set up the same way, so that the bytes COPY produces depend only on the
// data: client_encoding UTF8, DateStyle ISO, IntervalStyle postgres, TimeZone UTC,
// extra_float_digits 3, bytea_output hex, standard_conforming_strings on, and search_path set
// to the instance's schemas (FORMAT.md section 8.1); max_parallel_workers_per_gather 0 and
// synchronize_seqscans off, so that every scan of a table returns its rows in physical order
// from the first page (a synchronized scan starts where another session's scan is, or was
// stopped).
//
// Thread-safety: none; a connection belongs to one thread at a time.
// Ownership: PgConnection owns its PGconn, PgResult its PGresult.
#pragma once

#include <libpq-fe.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_stream.h"
#include "base/cancellation.h"
#include "lifeboat/status.h"

namespace lifeboat {

// `"name"` with every `"` doubled: an identifier PostgreSQL reads back as exactly `name`.
std::string PgQuoteIdentifier(std::string_view name);
// `'text'` with every `'` doubled (standard_conforming_strings is on).
std::string PgQuoteString(std::string_view text);
// A text[] literal for `$1::text[]`: {"a","b\"c"}.
std::string PgTextArray(const std::vector<std::string>& items);
// Parses an int2[]/text[] output such as {1,3} or {a,"b c"} into its items (no nesting).
std::vector<std::string> PgParseArray(std::string_view text);

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}

  int rows() const { return result_ ? PQntuples(result_.get()) : 0; }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string_view Get(int row, int column) const {
    return {PQgetvalue(result_.get(), row, column),
            static_cast<size_t>(PQgetlength(result_.get(), row, column))};
  }
  std::string GetString(int row, int column) const { return std::string(Get(row, column)); }
  std::optional<std::string> GetOptional(int row, int column) const;
  int64_t GetInt64(int row, int column) const;
  bool GetBool(int row, int column) const { return Get(row, column) == "t"; }
  PGresult* raw() const { return result_.get(); }

 private:
  std::shared_ptr<PGresult> result_;
};

struct PgConnectOptions {
  // The libpq URL or key=value string, without Lifeboat's own parameters (`schema`).
  std::string conninfo;
  // How messages name the instance: the URL with its password redacted.
  std::string described;
  // search_path: the instance's schemas, first one first.
  std::vector<std::string> schemas = {"public"};
  // Connect to this database of the cluster instead (maintenance work from `postgres`).
  std::string database_override;
  // How the session shows in pg_stat_activity ("lifeboat restore by ops@app-1"); empty: the
  // URL's, else "lifeboat".
  std::string application_name;
};

class PgConnection {
 public:
  // Connects and applies the session settings above. Unavailable when the server cannot be
  // reached, Unauthenticated for a refused password, NotFound for a missing database.
  static Result<std::unique_ptr<PgConnection>> Connect(const PgConnectOptions& options);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `sql` (one or more statements, no parameters) and discards any rows.
  Status Exec(const std::string& sql, const std::string& action);
  // Runs one statement with text parameters ($1, $2, ...; nullopt is NULL).
  Result<PgResult> Query(const std::string& sql, const std::string& action,
                         const std::vector<std::optional<std::string>>& params = {});
  // Runs a `COPY ... TO STDOUT` and hands each row's bytes to `on_row` in order. Checks
  // `cancel` every few hundred rows; a cancelled copy is stopped on the server.
  Status CopyOut(const std::string& sql, const std::string& action, CancellationToken* cancel,
                 const std::function<Status(std::string_view row)>& on_row);
  // Runs a `COPY ... FROM STDIN` fed from `in` in pieces of up to 256 KiB; returns the number
  // of rows the server reports.
  Result<uint64_t> CopyIn(const std::string& sql, const std::string& action, ByteReader* in,
                          CancellationToken* cancel);

  // Status for a failed result of `action` (SQLSTATE mapped as above).
  Status ErrorFrom(const PGresult* result, const std::string& action) const;
  int server_version() const { return PQserverVersion(conn_); }
  int backend_pid() const { return PQbackendPID(conn_); }
  const std::string& described() const { return described_; }
  // What Connect was given: libpq parameters for helper programs (pg_dump), the schemas.
  const PgConnectOptions& options() const { return options_; }
  // The connection's parameters for a helper program: a key=value string without the
  // password, and the environment that carries it (PGPASSWORD) when the URL has one.
  std::pair<std::string, std::vector<std::string>> HelperConnection() const;
  // Marks the connection as holding Lifeboat's operation lock (pg_maintenance.h): closing it
  // then releases the lock first, so that the next operation never finds it still held while
  // the server is ending this session.
  void set_holds_operation_lock() { holds_operation_lock_ = true; }
  // Sets search_path back to the instance's schemas (after a script changed it).
  Status ResetSearchPath();
  PGconn* get() const { return conn_; }

 private:
  PgConnection(PGconn* conn, PgConnectOptions options)
      : conn_(conn), described_(options.described), options_(std::move(options)) {}
  Status ConnectionError(const std::string& action) const;
  // Asks the server to cancel the running statement (used when the token is cancelled).
  void CancelRunning() const;

  PGconn* conn_;
  std::string described_;
  PgConnectOptions options_;
  bool holds_operation_lock_ = false;
};

}  // namespace lifeboat
