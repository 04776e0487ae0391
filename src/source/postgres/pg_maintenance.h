// Maintenance mode and cross-machine exclusion on PostgreSQL.
//
// Exclusion: every Lifeboat operation on a database holds a session-level advisory lock whose
// key is derived from the database's name (PgOperationLockKey), on the connection it works
// on. A second operation, from any machine and any repository, fails at once (Aborted, exit
// code 4) naming the holder's application_name ("lifeboat restore by ops@app-1") and since
// when. The server releases the lock when the holder's connection ends, killed or not.
//
// Maintenance: a restore marks the database (`ALTER DATABASE ... SET lifeboat.maintenance =
// '<who> since <when>'`), refuses new connections (`ALTER DATABASE ... ALLOW_CONNECTIONS
// false`, the database owner's right) and terminates every other client session on it
// (`pg_terminate_backend`: a superuser, the sessions' own role, or a member of
// pg_signal_backend). Marking and refusing are done from the cluster's `postgres` database (a
// database cannot refuse connections from a session of its own). Leaving maintenance allows
// connections again and removes the mark when the restore ends; if Lifeboat was killed, the
// next Lifeboat run that
// meets the refused connection does it (RecoverPgMaintenance), or `lifeboat maintenance off`.
// A mark whose operation still holds its advisory lock is never undone: that restore is alive.
//
// Thread-safety: functions over one connection, called by its thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "source/postgres/pg_connection.h"

namespace lifeboat {

// The advisory-lock key of Lifeboat operations on `database`.
int64_t PgOperationLockKey(const std::string& database);

// Takes the operation lock on `conn` for its database, or fails with Aborted naming the holder.
Status TakePgOperationLock(PgConnection* conn);

// What EnterPgMaintenance did, so that Leave undoes exactly that.
struct PgMaintenance {
  std::string database;
  bool connections_refused = false;  // ALLOW_CONNECTIONS false was set (and must be undone)
  int terminated = 0;                // sessions logged out
};

// Marks the database, refuses new connections and terminates the other client sessions but
// `own_sessions` (server process ids of the restore's helper connections).
// Without the right to refuse connections (not the owner), sessions are still terminated and
// the restore's table locks keep newcomers out of the tables; `notice` says so.
Result<PgMaintenance> EnterPgMaintenance(PgConnection* conn, const std::string& label,
                                         std::string* notice,
                                         const std::vector<int>& own_sessions = {});
// Allows connections again and removes the mark.
Status LeavePgMaintenance(PgConnection* conn, const PgMaintenance& maintenance);

// For a database that refuses connections: connects to the cluster's `postgres` database
// and, when the refusal is Lifeboat's mark and no Lifeboat operation holds the database's
// lock any more, allows connections again and removes the mark. A database that also carries
// the mark of a clone that never finished (pg_clone_mark.h) has the clone undone first, on a
// connection of its own that takes the operation lock and logs out whoever connected in
// between. Returns what it did ("" when the database was not in Lifeboat's maintenance);
// Aborted when a live restore holds it, FailedPrecondition when the refusal is not Lifeboat's
// (an administrator's).
Result<std::string> RecoverPgMaintenance(const PgConnectOptions& options,
                                         const std::string& database);

// The database a connection string names (dbname, else PGDATABASE, else the user name).
std::string PgTargetDatabase(const std::string& conninfo);

}  // namespace lifeboat
