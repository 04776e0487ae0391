#include "source/postgres/pg_source.h"

#include <algorithm>
#include <cctype>
#include <thread>

#include "source/postgres/pg_maintenance.h"
#include "source/postgres/pg_read_snapshot.h"
#include "source/postgres/pg_restore_transaction.h"

namespace lifeboat {
namespace {

// %XX decoding for the schema list (a schema name may hold ',' only percent-encoded).
std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(text[i + 1]) &&
        std::isxdigit(text[i + 2])) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

Result<std::pair<std::string, std::vector<std::string>>> SplitSchemaParameter(
    const std::string& url) {
  std::vector<std::string> schemas;
  size_t query = url.find('?');
  if (query == std::string::npos) return std::make_pair(url, std::vector<std::string>{"public"});
  std::string kept;
  std::string_view params = std::string_view(url).substr(query + 1);
  while (!params.empty()) {
    size_t amp = params.find('&');
    std::string_view param = params.substr(0, amp);
    params = amp == std::string_view::npos ? std::string_view() : params.substr(amp + 1);
    if (param.substr(0, 7) == "schema=") {
      std::string_view list = param.substr(7);
      while (true) {
        size_t comma = list.find(',');
        std::string schema = PercentDecode(list.substr(0, comma));
        if (schema.empty()) {
          return InvalidArgumentError("the schema list in " + url.substr(0, query) +
                                      "?... has an empty name: write ?schema=app or "
                                      "?schema=app,audit");
        }
        schemas.push_back(std::move(schema));
        if (comma == std::string_view::npos) break;
        list = list.substr(comma + 1);
      }
    } else if (!param.empty()) {
      kept += (kept.empty() ? "?" : "&") + std::string(param);
    }
  }
  if (schemas.empty()) schemas.push_back("public");
  return std::make_pair(url.substr(0, query) + kept, schemas);
}

Result<std::unique_ptr<PgSource>> PgSource::Open(const std::string& url, Options options) {
  LB_ASSIGN_OR_RETURN(auto split, SplitSchemaParameter(url));
  PgConnectOptions connect;
  connect.conninfo = std::move(split.first);
  connect.schemas = std::move(split.second);
  connect.described = std::move(options.described);
  connect.application_name = std::move(options.label);
  return std::unique_ptr<PgSource>(new PgSource(std::move(connect), std::move(options.on_notice),
                                                options.large_values, options.clone_connections,
                                                options.part_pages));
}

Result<std::unique_ptr<PgConnection>> PgSource::Connect() const {
  Result<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(options_);
  if (conn.ok() ||
      conn.status().message().find("is not currently accepting connections") == std::string::npos) {
    return conn;
  }
  LB_ASSIGN_OR_RETURN(std::string recovered,
                      RecoverPgMaintenance(options_, PgTargetDatabase(options_.conninfo)));
  if (recovered.empty()) return conn;
  if (on_notice_) on_notice_(recovered);
  return PgConnection::Connect(options_);
}

Result<std::string> PgSource::LeaveMaintenance() {
  return RecoverPgMaintenance(options_, PgTargetDatabase(options_.conninfo));
}

Result<CommitState> PgSource::RestoreCommitState(const std::string& token) {
  const std::string xid = token.rfind("xid:", 0) == 0 ? token.substr(4) : "";
  if (xid.empty() || xid.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError("'" + token + "' is not a PostgreSQL restore token");
  }
  LB_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, Connect());
  LB_ASSIGN_OR_RETURN(PgResult status, conn->Query("SELECT txid_status($1::bigint)",
                                                   "asking whether a restore committed", {xid}));
  if (status.IsNull(0, 0)) return CommitState::kUnknown;
  const std::string state = status.GetString(0, 0);
  if (state == "committed") return CommitState::kCommitted;
  if (state == "aborted") return CommitState::kRolledBack;
  return UnavailableError("the restore transaction " + xid + " on PostgreSQL " +
                          options_.described + " is still " + state +
                          ": wait until its session has ended, then retry");
}

Result<std::unique_ptr<ReadSnapshot>> PgSource::BeginRead() {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, Connect());
  LB_RETURN_IF_ERROR(TakePgOperationLock(conn.get()));
  LB_ASSIGN_OR_RETURN(
      std::unique_ptr<PgReadSnapshot> snapshot,
      PgReadSnapshot::Begin(std::move(conn), options_.schemas,
                            [options = options_] { return PgConnection::Connect(options); }));
  snapshot->set_large_value_limits(large_values_);
  snapshot->set_part_pages(part_pages_);
  return std::unique_ptr<ReadSnapshot>(std::move(snapshot));
}

Result<std::unique_ptr<RestoreTransaction>> PgSource::BeginRestore(int wait_millis) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, Connect());
  LB_RETURN_IF_ERROR(TakePgOperationLock(conn.get()));
  // A clone loads on these too (pg_restore_transaction.h): they connect before maintenance
  // refuses connections, and maintenance leaves them in.
  std::vector<std::unique_ptr<PgConnection>> helpers;
  std::vector<int> helper_pids;
  const int connections = clone_connections_ > 0
                              ? clone_connections_
                              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < connections; ++i) {
    Result<std::unique_ptr<PgConnection>> helper = PgConnection::Connect(options_);
    if (!helper.ok()) break;  // a server at its connection limit: clone on fewer
    helper_pids.push_back((*helper)->backend_pid());
    helpers.push_back(std::move(helper).value());
  }
  std::string notice;
  LB_ASSIGN_OR_RETURN(
      PgMaintenance maintenance,
      EnterPgMaintenance(conn.get(), options_.application_name, &notice, helper_pids));
  if (!notice.empty() && on_notice_) on_notice_(notice);
  LB_ASSIGN_OR_RETURN(std::unique_ptr<PgRestoreTransaction> tx,
                      PgRestoreTransaction::Begin(std::move(conn), options_.schemas, wait_millis,
                                                  std::move(maintenance), std::move(helpers)));
  tx->reader().set_large_value_limits(large_values_);
  tx->set_on_notice(on_notice_);
  return std::unique_ptr<RestoreTransaction>(std::move(tx));
}

}  // namespace lifeboat
