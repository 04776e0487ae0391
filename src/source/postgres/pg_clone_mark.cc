#include "source/postgres/pg_clone_mark.h"

namespace lifeboat {
namespace {

constexpr char kCloneMark[] = "lifeboat.clone";

Result<std::string> CurrentDatabase(PgConnection* conn) {
  LB_ASSIGN_OR_RETURN(PgResult db, conn->Query("SELECT current_database()", "naming the database"));
  return db.GetString(0, 0);
}

// Drops every object of schema `oid` but the schema itself, in passes: an object that another
// one needs (a range type's constructor, say) goes with it. Inside a transaction.
Status DropSchemaObjects(PgConnection* conn, const std::string& schema, const std::string& oid) {
  std::string left;
  for (int pass = 0;; ++pass) {
    LB_ASSIGN_OR_RETURN(
        PgResult objects,
        conn->Query("SELECT CASE WHEN i.type = 'type' AND t.typtype = 'd' THEN 'DOMAIN' "
                    "WHEN i.type = 'statistics object' THEN 'STATISTICS' ELSE upper(i.type) END, "
                    "i.identity FROM pg_depend d CROSS JOIN LATERAL "
                    "pg_identify_object(d.classid, d.objid, 0) i LEFT JOIN pg_type t "
                    "ON d.classid = 'pg_type'::regclass AND t.oid = d.objid "
                    "WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = $1::oid "
                    "AND d.deptype = 'n' ORDER BY d.classid <> 'pg_class'::regclass, d.objid",
                    "listing what the clone created in schema " + schema, {oid}));
    if (objects.rows() == 0) return OkStatus();
    int dropped = 0;
    left.clear();
    for (int r = 0; r < objects.rows(); ++r) {
      const std::string what = objects.GetString(r, 0) + " " + objects.GetString(r, 1);
      Status drop =
          conn->Exec("SAVEPOINT lifeboat_drop; DROP " + objects.GetString(r, 0) + " IF EXISTS " +
                         objects.GetString(r, 1) + " CASCADE; RELEASE SAVEPOINT lifeboat_drop",
                     "dropping " + what);
      if (drop.ok()) {
        ++dropped;
        continue;
      }
      LB_RETURN_IF_ERROR(conn->Exec(
          "ROLLBACK TO SAVEPOINT lifeboat_drop; RELEASE SAVEPOINT lifeboat_drop", "undoing"));
      left += (left.empty() ? "" : ", ") + what + " (" + drop.message() + ")";
    }
    if (dropped == 0) {
      return FailedPreconditionError("undoing the clone on PostgreSQL " + conn->described() +
                                     " could not drop " + left +
                                     ": drop them by hand, then run `lifeboat maintenance off`");
    }
  }
}

// Gives an existing schema back the owner, comment and privileges the mark recorded.
Status RestoreSchemaAttributes(PgConnection* conn, const std::string& oid,
                               const std::string& quoted, const std::optional<std::string>& owner,
                               const std::optional<std::string>& comment,
                               const std::optional<std::string>& acl) {
  LB_ASSIGN_OR_RETURN(
      PgResult now,
      conn->Query("SELECT pg_get_userbyid(nspowner), obj_description(oid, 'pg_namespace'), "
                  "nspacl::text IS DISTINCT FROM $2 FROM pg_namespace WHERE oid = $1::oid",
                  "reading schema " + quoted, {oid, acl}));
  if (owner && now.GetString(0, 0) != *owner) {
    LB_RETURN_IF_ERROR(
        conn->Exec("ALTER SCHEMA " + quoted + " OWNER TO " + PgQuoteIdentifier(*owner),
                   "giving schema " + quoted + " its owner back"));
  }
  if (now.GetOptional(0, 1) != comment) {
    LB_RETURN_IF_ERROR(conn->Exec(
        "COMMENT ON SCHEMA " + quoted + " IS " + (comment ? PgQuoteString(*comment) : "NULL"),
        "giving schema " + quoted + " its comment back"));
  }
  if (!now.GetBool(0, 2)) return OkStatus();
  // Privileges: revoke what there is now, grant what the mark recorded (NULL: the defaults).
  LB_ASSIGN_OR_RETURN(
      PgResult grants,
      conn->Query("SELECT 'REVOKE ALL ON SCHEMA ' || $2 || ' FROM ' || CASE WHEN a.grantee = 0 "
                  "THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END "
                  "FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.oid = $1::oid "
                  "GROUP BY a.grantee UNION ALL "
                  "SELECT 'GRANT ' || a.privilege_type || ' ON SCHEMA ' || $2 || ' TO ' || "
                  "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE "
                  "quote_ident(pg_get_userbyid(a.grantee)) END || CASE WHEN a.is_grantable "
                  "THEN ' WITH GRANT OPTION' ELSE '' END FROM pg_namespace n, "
                  "aclexplode(COALESCE($3::aclitem[], acldefault('n', n.nspowner))) a "
                  "WHERE n.oid = $1::oid",
                  "reading the privileges of schema " + quoted, {oid, quoted, acl}));
  std::string sql;
  for (int r = 0; r < grants.rows(); ++r) sql += grants.GetString(r, 0) + ";";
  return conn->Exec(sql, "giving schema " + quoted + " its privileges back");
}

}  // namespace

Result<bool> PgSchemasAreEmpty(PgConnection* conn, const std::vector<std::string>& schemas) {
  LB_ASSIGN_OR_RETURN(
      PgResult found,
      conn->Query("SELECT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_namespace n "
                  "ON d.refclassid = 'pg_namespace'::regclass AND d.refobjid = n.oid "
                  "WHERE n.nspname = ANY($1::text[]) AND d.deptype = 'n') OR EXISTS "
                  "(SELECT 1 FROM pg_class c JOIN pg_namespace n ON c.relnamespace = n.oid "
                  "WHERE n.nspname = ANY($1::text[]))",
                  "looking for objects in the clone's schemas", {PgTextArray(schemas)}));
  return !found.GetBool(0, 0);
}

Status MarkPgClone(PgConnection* conn, const std::vector<std::string>& schemas,
                   const std::string& label) {
  LB_ASSIGN_OR_RETURN(
      PgResult mark,
      conn->Query("SELECT current_database(), json_build_object('label', $2::text, 'since', "
                  "now()::text, 'schemas', json_agg(json_build_object('name', s.name, "
                  "'existed', n.oid IS NOT NULL, 'owner', pg_get_userbyid(n.nspowner), "
                  "'comment', obj_description(n.oid, 'pg_namespace'), 'acl', n.nspacl::text) "
                  "ORDER BY s.i))::text FROM unnest($1::text[]) WITH ORDINALITY s(name, i) "
                  "LEFT JOIN pg_namespace n ON n.nspname = s.name",
                  "recording what undoing the clone takes", {PgTextArray(schemas), label}));
  return conn->Exec("ALTER DATABASE " + PgQuoteIdentifier(mark.GetString(0, 0)) + " SET " +
                        kCloneMark + " = " + PgQuoteString(mark.GetString(0, 1)),
                    "marking the database as holding a clone in progress");
}

Status UnmarkPgClone(PgConnection* conn) {
  LB_ASSIGN_OR_RETURN(std::string database, CurrentDatabase(conn));
  return conn->Exec("ALTER DATABASE " + PgQuoteIdentifier(database) + " RESET " + kCloneMark,
                    "removing the mark of the clone in progress");
}

Result<std::optional<std::string>> ReadPgCloneMark(PgConnection* conn,
                                                   const std::string& database) {
  LB_ASSIGN_OR_RETURN(
      PgResult mark,
      conn->Query("SELECT substr(c, length($2) + 2) FROM pg_database d, pg_db_role_setting s, "
                  "unnest(s.setconfig) c WHERE d.datname = $1 AND s.setdatabase = d.oid "
                  "AND s.setrole = 0 AND c LIKE $2 || '=%'",
                  "reading the clone mark of database " + database, {database, kCloneMark}));
  if (mark.rows() == 0) return std::optional<std::string>();
  return mark.GetOptional(0, 0);
}

Result<std::string> UndoPgClone(PgConnection* conn) {
  LB_ASSIGN_OR_RETURN(std::string database, CurrentDatabase(conn));
  LB_ASSIGN_OR_RETURN(std::optional<std::string> mark, ReadPgCloneMark(conn, database));
  if (!mark) return std::string();
  LB_ASSIGN_OR_RETURN(
      PgResult schemas,
      conn->Query("SELECT x->>'name', (x->>'existed')::boolean, x->>'owner', x->>'comment', "
                  "x->>'acl', n.oid::text, $1::json->>'label', $1::json->>'since' "
                  "FROM json_array_elements($1::json->'schemas') x "
                  "LEFT JOIN pg_namespace n ON n.nspname = x->>'name'",
                  "reading the clone mark of database " + database, {*mark}));
  LB_RETURN_IF_ERROR(conn->Exec("BEGIN", "undoing the clone"));
  Status undone = [&]() -> Status {
    for (int r = 0; r < schemas.rows(); ++r) {
      const std::string name = schemas.GetString(r, 0);
      const std::string quoted = PgQuoteIdentifier(name);
      std::optional<std::string> oid = schemas.GetOptional(r, 5);
      if (!oid) continue;  // the clone never got as far as creating it
      if (!schemas.GetBool(r, 1)) {
        LB_RETURN_IF_ERROR(
            conn->Exec("DROP SCHEMA " + quoted + " CASCADE", "dropping schema " + name));
        continue;
      }
      LB_RETURN_IF_ERROR(DropSchemaObjects(conn, name, *oid));
      LB_RETURN_IF_ERROR(RestoreSchemaAttributes(conn, *oid, quoted, schemas.GetOptional(r, 2),
                                                 schemas.GetOptional(r, 3),
                                                 schemas.GetOptional(r, 4)));
    }
    LB_RETURN_IF_ERROR(UnmarkPgClone(conn));
    return conn->Exec("COMMIT", "undoing the clone");
  }();
  if (!undone.ok()) {
    conn->Exec("ROLLBACK", "undoing the clone").IgnoreError();
    return undone;
  }
  if (schemas.rows() == 0) return std::string("a clone");
  return schemas.GetOptional(0, 6).value_or("a clone") + " since " +
         schemas.GetOptional(0, 7).value_or("an unknown time");
}

}  // namespace lifeboat
