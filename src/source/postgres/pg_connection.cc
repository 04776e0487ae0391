#include "source/postgres/pg_connection.h"

#include <cstdlib>
#include <cstring>

namespace lifeboat {
namespace {

constexpr size_t kCopyInPieceBytes = 256 * 1024;
constexpr uint64_t kCancelCheckRows = 256;

std::string Trimmed(const char* text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

Status StatusForSqlState(std::string_view state, std::string message) {
  auto starts = [&](std::string_view prefix) { return state.substr(0, prefix.size()) == prefix; };
  if (state == "55P03" || state == "57014" || state == "40P01" || state == "40001") {
    return AbortedError(std::move(message));
  }
  if (starts("28")) return UnauthenticatedError(std::move(message));
  if (state == "42501") return PermissionDeniedError(std::move(message));
  if (state == "3D000" || state == "42P01" || state == "3F000") {
    return NotFoundError(std::move(message));
  }
  if (starts("23") || starts("22")) return FailedPreconditionError(std::move(message));
  if (starts("53") || starts("08") || starts("57P")) return UnavailableError(std::move(message));
  return InternalError(std::move(message));
}

}  // namespace

std::string PgQuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string PgQuoteString(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string PgTextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::vector<std::string> PgParseArray(std::string_view text) {
  std::vector<std::string> items;
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return items;
  text = text.substr(1, text.size() - 2);
  size_t i = 0;
  while (i < text.size()) {
    std::string item;
    if (text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        item += text[i];
      }
      ++i;  // closing quote
    } else {
      for (; i < text.size() && text[i] != ','; ++i) item += text[i];
    }
    items.push_back(std::move(item));
    if (i < text.size() && text[i] == ',') ++i;
  }
  return items;
}

std::optional<std::string> PgResult::GetOptional(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return GetString(row, column);
}

int64_t PgResult::GetInt64(int row, int column) const {
  return std::strtoll(PQgetvalue(result_.get(), row, column), nullptr, 10);
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const PgConnectOptions& options) {
  // Later keywords override what the URL (expanded from the first dbname) says.
  std::vector<const char*> keys = {"dbname", "fallback_application_name"};
  std::vector<const char*> values = {options.conninfo.c_str(), "lifeboat"};
  if (!options.database_override.empty()) {
    keys.push_back("dbname");
    values.push_back(options.database_override.c_str());
  }
  if (!options.application_name.empty()) {
    keys.push_back("application_name");
    values.push_back(options.application_name.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* raw = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (raw == nullptr) return UnavailableError("cannot allocate a PostgreSQL connection");
  std::unique_ptr<PgConnection> conn(new PgConnection(raw, options));
  if (PQstatus(raw) != CONNECTION_OK) {
    std::string message = Trimmed(PQerrorMessage(raw));
    std::string text = "connecting to PostgreSQL " + options.described + ": " + message;
    if (message.find("password authentication failed") != std::string::npos ||
        message.find("no password supplied") != std::string::npos) {
      return UnauthenticatedError(text +
                                  " (give the password in the URL, in a PGPASSFILE-style file "
                                  "named by PGPASSFILE, or in PGPASSWORD)");
    }
    if (message.find("does not exist") != std::string::npos) return NotFoundError(text);
    if (message.find("permission denied") != std::string::npos) {
      return PermissionDeniedError(text);
    }
    return UnavailableError(text);
  }
  // Server notices ("there is no transaction in progress") are not for the user's terminal.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  if (PQserverVersion(raw) < 120000) {
    return FailedPreconditionError("PostgreSQL " + options.described + " runs version " +
                                   std::to_string(PQserverVersion(raw)) +
                                   ": Lifeboat needs PostgreSQL 12 or newer");
  }
  LB_RETURN_IF_ERROR(conn->Exec(
      "SET client_encoding = 'UTF8'; SET DateStyle = 'ISO'; SET IntervalStyle = 'postgres'; "
      "SET TimeZone = 'UTC'; SET extra_float_digits = 3; SET bytea_output = 'hex'; "
      "SET standard_conforming_strings = on; SET max_parallel_workers_per_gather = 0; "
      "SET synchronize_seqscans = off",
      "setting up the session"));
  LB_RETURN_IF_ERROR(conn->ResetSearchPath());
  return conn;
}

std::pair<std::string, std::vector<std::string>> PgConnection::HelperConnection() const {
  std::string conninfo;
  std::vector<std::string> env;
  // The values in effect on this connection, as libpq resolved them.
  PQconninfoOption* options = PQconninfo(conn_);
  for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    if (std::strcmp(o->keyword, "password") == 0) {
      env.push_back(std::string("PGPASSWORD=") + o->val);
      continue;
    }
    std::string value;
    for (const char* c = o->val; *c; ++c) {
      if (*c == '\'' || *c == '\\') value += '\\';
      value += *c;
    }
    conninfo += std::string(conninfo.empty() ? "" : " ") + o->keyword + "='" + value + "'";
  }
  PQconninfoFree(options);
  return {conninfo, env};
}

Status PgConnection::ResetSearchPath() {
  std::string path;
  for (const std::string& schema : options_.schemas) path += PgQuoteIdentifier(schema) + ", ";
  return Exec("SET search_path = " + path + "pg_catalog", "setting the search path");
}

PgConnection::~PgConnection() {
  if (holds_operation_lock_ && PQstatus(conn_) == CONNECTION_OK) {
    Exec("ROLLBACK; SELECT pg_advisory_unlock_all()", "releasing the Lifeboat lock").IgnoreError();
  }
  PQfinish(conn_);
}

Status PgConnection::ErrorFrom(const PGresult* result, const std::string& action) const {
  if (result == nullptr) return ConnectionError(action);
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  std::string message = Trimmed(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY));
  if (message.empty()) message = Trimmed(PQresultErrorMessage(result));
  if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
    message += " (" + Trimmed(detail) + ")";
  }
  if (const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT)) {
    message += "; " + Trimmed(hint);
  }
  std::string text = action + " on PostgreSQL " + described_ + ": " + message;
  if (state == nullptr)
    return PQstatus(conn_) == CONNECTION_OK ? InternalError(text) : UnavailableError(text);
  return StatusForSqlState(state, std::move(text));
}

Status PgConnection::ConnectionError(const std::string& action) const {
  return UnavailableError(action + " on PostgreSQL " + described_ + ": " +
                          Trimmed(PQerrorMessage(conn_)));
}

void PgConnection::CancelRunning() const {
  if (PGcancel* cancel = PQgetCancel(conn_)) {
    char err[256];
    PQcancel(cancel, err, sizeof(err));
    PQfreeCancel(cancel);
  }
}

Status PgConnection::Exec(const std::string& sql, const std::string& action) {
  if (!PQsendQuery(conn_, sql.c_str())) return ConnectionError(action);
  Status status;
  while (PGresult* raw = PQgetResult(conn_)) {
    PgResult result(raw);
    ExecStatusType kind = PQresultStatus(raw);
    if (status.ok() && kind != PGRES_COMMAND_OK && kind != PGRES_TUPLES_OK) {
      status = ErrorFrom(raw, action);
    }
  }
  return status;
}

Result<PgResult> PgConnection::Query(const std::string& sql, const std::string& action,
                                     const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PGresult* raw = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
  PgResult result(raw);
  if (raw == nullptr) return ConnectionError(action);
  ExecStatusType kind = PQresultStatus(raw);
  if (kind != PGRES_TUPLES_OK && kind != PGRES_COMMAND_OK) return ErrorFrom(raw, action);
  return result;
}

Status PgConnection::CopyOut(const std::string& sql, const std::string& action,
                             CancellationToken* cancel,
                             const std::function<Status(std::string_view row)>& on_row) {
  {
    PgResult started(PQexec(conn_, sql.c_str()));
    if (!started.raw()) return ConnectionError(action);
    if (PQresultStatus(started.raw()) != PGRES_COPY_OUT) return ErrorFrom(started.raw(), action);
  }
  Status status;
  uint64_t rows = 0;
  bool stopping = false;
  for (;;) {
    char* buf = nullptr;
    int n = PQgetCopyData(conn_, &buf, /*async=*/0);
    if (n == -1) break;  // done: the final result follows
    if (n < 0) return ConnectionError(action);
    if (status.ok()) status = on_row(std::string_view(buf, static_cast<size_t>(n)));
    PQfreemem(buf);
    if (status.ok() && ++rows % kCancelCheckRows == 0) status = cancel->Check();
    // On an error the server is asked to stop; what it already sent is drained.
    if (!status.ok() && !stopping) {
      CancelRunning();
      stopping = true;
    }
  }
  while (PGresult* raw = PQgetResult(conn_)) {
    PgResult result(raw);
    if (status.ok() && PQresultStatus(raw) != PGRES_COMMAND_OK) status = ErrorFrom(raw, action);
  }
  return status;
}

Result<uint64_t> PgConnection::CopyIn(const std::string& sql, const std::string& action,
                                      ByteReader* in, CancellationToken* cancel) {
  {
    PgResult started(PQexec(conn_, sql.c_str()));
    if (!started.raw()) return ConnectionError(action);
    if (PQresultStatus(started.raw()) != PGRES_COPY_IN) return ErrorFrom(started.raw(), action);
  }
  Status status;
  std::string buf(kCopyInPieceBytes, '\0');
  for (;;) {
    status = cancel->Check();
    if (!status.ok()) break;
    Result<size_t> got = in->Read(buf.data(), buf.size());
    if (!got.ok()) {
      status = got.status();
      break;
    }
    if (*got == 0) break;
    if (PQputCopyData(conn_, buf.data(), static_cast<int>(*got)) != 1) {
      status = ConnectionError(action);
      break;
    }
  }
  // A failed feed ends the COPY with an error message, so the server discards what it got.
  if (PQputCopyEnd(conn_, status.ok() ? nullptr : "Lifeboat stopped the load") != 1 &&
      status.ok()) {
    status = ConnectionError(action);
  }
  uint64_t rows = 0;
  while (PGresult* raw = PQgetResult(conn_)) {
    PgResult result(raw);
    if (PQresultStatus(raw) == PGRES_COMMAND_OK) {
      rows = std::strtoull(PQcmdTuples(raw), nullptr, 10);
    } else if (status.ok()) {
      status = ErrorFrom(raw, action);
    }
  }
  if (!status.ok()) return status;
  return rows;
}

}  // namespace lifeboat
