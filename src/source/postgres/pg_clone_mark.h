// What lets a clone loaded over several connections stay all or nothing (FORMAT.md section 13.1).
//
// A clone into an empty database can load its tables and build its indexes on several
// connections at once only if its schema is committed first, so it is not one transaction.
// It is kept all or nothing another way: the database refuses connections throughout
// (maintenance, pg_maintenance.h), and the transaction that creates the schema also marks the
// database (`ALTER DATABASE ... SET lifeboat.clone = '<json>'`) with what undoing it takes: which
// of the instance's schemas existed, and their owner, comment and privileges. The clone's last
// transaction removes the mark as it commits. A clone that fails is undone at once; one that
// was killed leaves the mark, and the next Lifeboat run that meets it (RecoverPgMaintenance,
// `lifeboat maintenance off`) undoes it: every object in the schemas is dropped, the schemas
// the clone created are dropped, the others get their owner, comment and privileges back.
// That is exact because a clone over several connections is made only into schemas that hold
// no object at all (PgSchemasAreEmpty); a clone into anything else is one transaction.
//
// Thread-safety: functions over one connection, called by its thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "source/postgres/pg_connection.h"

namespace lifeboat {

// Whether none of `schemas` holds an object (table, type, function, extension, ...) in the
// connection's database; a schema that does not exist is empty.
Result<bool> PgSchemasAreEmpty(PgConnection* conn, const std::vector<std::string>& schemas);

// Marks the connection's database as holding a clone in progress into `schemas`, `label`
// saying who. Transactional: call it in the transaction that creates the clone's schema.
Status MarkPgClone(PgConnection* conn, const std::vector<std::string>& schemas,
                   const std::string& label);

// Removes the mark; call it in the clone's last transaction.
Status UnmarkPgClone(PgConnection* conn);

// The clone mark of database `database`, read from any connection to the cluster; nullopt
// when there is none.
Result<std::optional<std::string>> ReadPgCloneMark(PgConnection* conn, const std::string& database);

// Undoes the clone the connection's database is marked with, in one transaction, and removes
// the mark; does nothing without a mark. Returns the mark's label ("" without one).
Result<std::string> UndoPgClone(PgConnection* conn);

}  // namespace lifeboat
