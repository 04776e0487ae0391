#include "source/postgres/pg_maintenance.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "source/postgres/pg_clone_mark.h"

namespace lifeboat {
namespace {

constexpr char kMark[] = "lifeboat.maintenance";

// The holder of the operation lock on `database`, as "application_name (since ...)", or ""
// when nobody holds it.
Result<std::string> LockHolder(PgConnection* conn, const std::string& database) {
  const uint64_t key = static_cast<uint64_t>(PgOperationLockKey(database));
  LB_ASSIGN_OR_RETURN(
      PgResult holder,
      conn->Query("SELECT COALESCE(NULLIF(a.application_name, ''), 'another session'), "
                  "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                  "a.pid FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
                  "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                  "AND l.database = (SELECT oid FROM pg_database WHERE datname = $1) "
                  "AND l.classid = $2::bigint::oid AND l.objid = $3::bigint::oid",
                  "looking for the Lifeboat operation on database " + database,
                  {database, std::to_string(key >> 32), std::to_string(key & 0xffffffffu)}));
  if (holder.rows() == 0) return std::string();
  return holder.GetString(0, 0) + " (server process " + holder.GetString(0, 2) + ", since " +
         holder.GetOptional(0, 1).value_or("an unknown time") + ")";
}

std::string PgIntArray(const std::vector<int>& items) {
  std::string out = "{";
  for (int i : items) out += (out.size() > 1 ? "," : "") + std::to_string(i);
  return out + "}";
}

Result<std::unique_ptr<PgConnection>> AdminConnection(const PgConnectOptions& options) {
  PgConnectOptions admin = options;
  admin.database_override = "postgres";
  return PgConnection::Connect(admin);
}

// Undoes the clone a killed process left in `database`: connections are allowed for as long
// as it takes to connect, take the operation lock and refuse them again.
Result<std::string> UndoInterruptedClone(PgConnection* admin, const PgConnectOptions& options,
                                         const std::string& database, bool allowed) {
  LB_ASSIGN_OR_RETURN(std::string holder, LockHolder(admin, database));
  if (!holder.empty()) {
    return AbortedError("database " + database + " holds a clone in progress; " + holder +
                        " is still running: wait for it to finish");
  }
  const std::string name = PgQuoteIdentifier(database);
  if (!allowed) {
    LB_RETURN_IF_ERROR(admin->Exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true",
                                   "letting Lifeboat in to undo an interrupted clone"));
  }
  PgConnectOptions target = options;
  target.database_override = database;
  LB_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, PgConnection::Connect(target));
  LB_RETURN_IF_ERROR(TakePgOperationLock(conn.get()));
  std::string notice;
  LB_ASSIGN_OR_RETURN(PgMaintenance maintenance,
                      EnterPgMaintenance(conn.get(), options.application_name, &notice));
  Result<std::string> undone = UndoPgClone(conn.get());
  if (!undone.ok()) return undone.status();  // still in maintenance, the mark kept
  LB_RETURN_IF_ERROR(LeavePgMaintenance(conn.get(), maintenance));
  return "database " + database + " was left half cloned (" + *undone +
         ") by a Lifeboat process that is gone: what the clone had created was dropped and "
         "connections are allowed again";
}

}  // namespace

int64_t PgOperationLockKey(const std::string& database) {
  uint64_t hash = 1469598103934665603ull;  // FNV-1a
  for (char c : "lifeboat:" + database) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return static_cast<int64_t>(hash);
}

Status TakePgOperationLock(PgConnection* conn) {
  LB_ASSIGN_OR_RETURN(PgResult db, conn->Query("SELECT current_database()", "naming the database"));
  const std::string database = db.GetString(0, 0);
  LB_ASSIGN_OR_RETURN(PgResult taken,
                      conn->Query("SELECT pg_try_advisory_lock($1::bigint)",
                                  "taking the Lifeboat lock on database " + database,
                                  {std::to_string(PgOperationLockKey(database))}));
  if (taken.GetBool(0, 0)) {
    conn->set_holds_operation_lock();
    return OkStatus();
  }
  LB_ASSIGN_OR_RETURN(std::string holder, LockHolder(conn, database));
  return AbortedError("PostgreSQL database " + database + " of " + conn->described() +
                      " is busy: " + (holder.empty() ? "another Lifeboat operation" : holder) +
                      " is running on it, perhaps from another machine; wait for it to finish");
}

Result<PgMaintenance> EnterPgMaintenance(PgConnection* conn, const std::string& label,
                                         std::string* notice,
                                         const std::vector<int>& own_sessions) {
  PgMaintenance m;
  LB_ASSIGN_OR_RETURN(PgResult db,
                      conn->Query("SELECT current_database(), now()::text", "naming the database"));
  m.database = db.GetString(0, 0);
  const std::string name = PgQuoteIdentifier(m.database);
  // A database cannot refuse connections from a session of its own: this is done from the
  // cluster's `postgres` database.
  LB_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> admin, AdminConnection(conn->options()));
  Status marked = admin->Exec("ALTER DATABASE " + name + " SET " + kMark + " = " +
                                  PgQuoteString(label + " since " + db.GetString(0, 1)) +
                                  "; ALTER DATABASE " + name + " ALLOW_CONNECTIONS false",
                              "entering maintenance");
  if (marked.ok()) {
    m.connections_refused = true;
  } else if (marked.code() == StatusCode::kPermissionDenied) {
    // Connections are refused only together with the mark, so that a later run knows the
    // refusal for Lifeboat's to undo. An owner may refuse them, but setting the mark, a
    // custom parameter, takes a superuser or a grant.
    LB_ASSIGN_OR_RETURN(PgResult owner,
                        conn->Query("SELECT pg_catalog.pg_has_role(datdba, 'USAGE'), current_user "
                                    "FROM pg_catalog.pg_database WHERE datname = $1",
                                    "reading who owns database " + m.database, {m.database}));
    const std::string role = owner.GetString(0, 1);
    *notice = "the role of " + conn->described() +
              (owner.GetBool(0, 0)
                   ? " may not set " + std::string(kMark) + " on database " + m.database +
                         ", the mark that tells a later run the refusal is Lifeboat's, so new "
                         "connections are not refused during the restore (the tables stay "
                         "locked); a superuser can allow it with GRANT SET ON PARAMETER " +
                         kMark + " TO " + PgQuoteIdentifier(role)
                   : " does not own database " + m.database +
                         ", so new connections are not refused during the restore (the tables "
                         "stay locked); make it the owner to refuse them");
  } else {
    return marked;
  }
  // A role without the right to see other roles' sessions sees their backend_type as NULL.
  // Only the sessions the role may signal are terminated (one it may not would fail the whole
  // query): all of them for a superuser; otherwise none of a superuser, and those of roles
  // whose rights it has, or all the others with pg_signal_backend. The rest are named.
  Result<PgResult> terminated = conn->Query(
      "SELECT count(*) FILTER (WHERE CASE WHEN may THEN pg_terminate_backend(pid) END), "
      "COALESCE(string_agg(DISTINCT usename, ', ') FILTER (WHERE NOT may), '') FROM ("
      "SELECT a.pid, COALESCE(a.usename, a.usesysid::text) AS usename, "
      "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR "
      "(NOT COALESCE((SELECT rolsuper FROM pg_roles r WHERE r.oid = a.usesysid), false) AND "
      "(pg_has_role(a.usesysid, 'USAGE') OR pg_has_role('pg_signal_backend', 'USAGE'))) AS may "
      "FROM pg_stat_activity a WHERE a.datname = current_database() "
      "AND a.pid <> pg_backend_pid() AND a.pid <> ALL($1::int[]) "
      "AND COALESCE(a.backend_type, 'client backend') = 'client backend') s",
      "logging the other sessions out of database " + m.database, {PgIntArray(own_sessions)});
  if (terminated.ok() && !terminated->GetString(0, 1).empty()) {
    *notice += std::string(notice->empty() ? "" : "; ") + "the sessions of " +
               terminated->GetString(0, 1) +
               " could not be logged out (the role may not signal them): the restore waits "
               "for their locks instead; run it as a superuser, or end those sessions";
  }
  if (!terminated.ok() && terminated.status().code() == StatusCode::kPermissionDenied) {
    *notice += std::string(notice->empty() ? "" : "; ") +
               "other sessions could not be logged out (" + terminated.status().message() +
               "): the restore waits for their locks instead; grant pg_signal_backend to log "
               "them out";
    return m;
  }
  if (!terminated.ok()) {
    LeavePgMaintenance(conn, m).IgnoreError();  // the caller never gets `m` to undo it
    return terminated.status();
  }
  m.terminated = static_cast<int>(terminated->GetInt64(0, 0));
  return m;
}

Status LeavePgMaintenance(PgConnection* conn, const PgMaintenance& maintenance) {
  if (!maintenance.connections_refused) return OkStatus();
  const std::string name = PgQuoteIdentifier(maintenance.database);
  LB_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> admin, AdminConnection(conn->options()));
  return admin->Exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true; ALTER DATABASE " + name +
                         " RESET " + kMark,
                     "leaving maintenance");
}

Result<std::string> RecoverPgMaintenance(const PgConnectOptions& options,
                                         const std::string& database) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, AdminConnection(options));
  LB_ASSIGN_OR_RETURN(
      PgResult state,
      conn->Query("SELECT d.datallowconn, (SELECT substr(c, length($2) + 2) FROM "
                  "pg_db_role_setting s, unnest(s.setconfig) c WHERE s.setdatabase = d.oid "
                  "AND s.setrole = 0 AND c LIKE $2 || '=%') FROM pg_database d "
                  "WHERE d.datname = $1",
                  "reading the state of database " + database, {database, kMark}));
  if (state.rows() == 0) {
    return NotFoundError("database " + database + " does not exist on PostgreSQL " +
                         options.described);
  }
  std::optional<std::string> mark = state.GetOptional(0, 1);
  LB_ASSIGN_OR_RETURN(std::optional<std::string> clone, ReadPgCloneMark(conn.get(), database));
  if (clone) return UndoInterruptedClone(conn.get(), options, database, state.GetBool(0, 0));
  if (!mark) {
    if (state.GetBool(0, 0)) return std::string();
    return FailedPreconditionError(
        "database " + database + " on PostgreSQL " + options.described +
        " refuses connections, but not because of Lifeboat (no maintenance mark): ask its "
        "administrator (ALTER DATABASE ... ALLOW_CONNECTIONS true)");
  }
  LB_ASSIGN_OR_RETURN(std::string holder, LockHolder(conn.get(), database));
  if (!holder.empty()) {
    return AbortedError("database " + database + " is in maintenance: " + *mark + "; " + holder +
                        " is still running: wait for it to finish");
  }
  PgMaintenance maintenance;
  maintenance.database = database;
  maintenance.connections_refused = true;
  LB_RETURN_IF_ERROR(LeavePgMaintenance(conn.get(), maintenance));
  return "database " + database + " was left in maintenance (" + *mark +
         ") by a Lifeboat process that is gone: connections are allowed again";
}

std::string PgTargetDatabase(const std::string& conninfo) {
  std::string database, user;
  if (PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr)) {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (o->val == nullptr) continue;
      if (std::string_view(o->keyword) == "dbname") database = o->val;
      if (std::string_view(o->keyword) == "user") user = o->val;
    }
    PQconninfoFree(options);
  }
  if (database.empty()) {
    if (const char* env = std::getenv("PGDATABASE")) database = env;
  }
  if (user.empty()) {
    if (const char* env = std::getenv("PGUSER")) {
      user = env;
    } else if (const passwd* pw = getpwuid(geteuid())) {
      user = pw->pw_name;
    }
  }
  return database.empty() ? user : database;
}

}  // namespace lifeboat
