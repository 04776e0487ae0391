// The PostgreSQL catalog as the driver needs it: the instance's tables with their columns and
// keys, their sizes, the sequences they own and the foreign keys that touch them.
//
// Lifeboat names a table by its bare name when it lives in the instance's first schema
// (`public` unless the URL says `?schema=app,audit`), and as `schema.table` in the others, so
// that profiles read the same on SQLite and PostgreSQL (FORMAT.md section 8.1). Tables are
// ordinary and partitioned tables; partitions are not tables of their own (their rows are
// read and written through their parent). Views, materialized views and foreign tables are
// reported as skipped.
//
// Thread-safety: functions over one connection, called by its thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "source/postgres/pg_connection.h"
#include "source/source.h"

namespace lifeboat {

struct PgTable {
  std::string name;    // Lifeboat's name (see above)
  std::string schema;  // as stored
  std::string relname;
  std::string oid;
  bool partitioned = false;
  std::string Qualified() const {
    return PgQuoteIdentifier(schema) + "." + PgQuoteIdentifier(relname);
  }
};

// `oids` as a PostgreSQL array literal, for a `$1::oid[]` parameter.
std::string OidList(const std::vector<std::string>& oids);

// Lifeboat's name for `schema.relname` given the instance's schemas.
std::string PgTableName(const std::vector<std::string>& schemas, const std::string& schema,
                        const std::string& relname);

struct PgCatalog {
  InstanceSchema schema;                  // tables (columns, keys), skipped relations
  std::map<std::string, PgTable> tables;  // by Lifeboat's name
};

// Reads the tables of `schemas`. Fails with FailedPrecondition when two tables get the same
// Lifeboat name.
Result<PgCatalog> ReadPgCatalog(PgConnection* conn, const std::vector<std::string>& schemas);

// Heap and TOAST bytes of a table and all its partitions (indexes are not read by a backup).
Result<uint64_t> PgTableBytes(PgConnection* conn, const PgTable& table);

// The sequences owned by the tables (serial and identity columns), with their current state.
Result<std::vector<SequenceValue>> ReadPgSequences(PgConnection* conn,
                                                   const std::vector<PgTable>& tables);

struct PgForeignKey {
  std::string name;
  std::string child;  // qualified, as PgTable::Qualified()
  std::string parent;
  std::string child_oid;
  std::string parent_oid;
  std::vector<std::string> child_columns;
  std::vector<std::string> parent_columns;
  bool deferrable = false;
  bool initially_deferred = false;
};

// Every foreign key whose referencing or referenced table is one of `oids`.
Result<std::vector<PgForeignKey>> ReadPgForeignKeys(PgConnection* conn,
                                                    const std::vector<std::string>& oids);

}  // namespace lifeboat
