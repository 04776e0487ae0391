// A schema that uses what real applications use on PostgreSQL, with rows at the edges of
// every type: the fixture of the exactness tests (pg_dump before and after must be identical).
// Test-only, header-only.
#pragma once

#include <string>

namespace lifeboat::testing {

// Creates the schema `app` (the instance's first schema) and `audit` (a second one).
inline std::string RichSchemaSql() {
  return R"sql(
CREATE SCHEMA app;
CREATE SCHEMA audit;
SET search_path = app, pg_catalog;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE TYPE address AS (street text, zip varchar(10));

CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE projects (
  id serial PRIMARY KEY,
  key text NOT NULL UNIQUE,
  name text NOT NULL
);
CREATE TABLE "Weird Table" (
  "select" integer PRIMARY KEY,
  "Mixed Case" text,
  "quote""d" text
);
CREATE TABLE values_zoo (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id integer REFERENCES projects(id),
  i2 smallint, i4 integer, i8 bigint,
  num numeric, num_fixed numeric(12, 4),
  r4 real, r8 double precision,
  t text, vc varchar(20), ch char(5),
  b bytea, flag boolean,
  d date, tm time, tmtz time with time zone, ts timestamp, tstz timestamptz, iv interval,
  u uuid, j json, jb jsonb,
  ints integer[], texts text[], grid integer[][],
  m mood, p positive_int, addr address,
  ir int4range, tr tstzrange,
  ip inet, net cidr, mac macaddr,
  doc tsvector,
  bits bit varying(16),
  money_col money,
  total numeric GENERATED ALWAYS AS (COALESCE(num_fixed, 0) * 2) STORED
);
CREATE INDEX values_zoo_i4 ON values_zoo (i4);
CREATE TABLE no_key (a integer, b text);
CREATE TABLE events (
  id integer NOT NULL,
  at date NOT NULL,
  what text,
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE comments (
  id bigserial PRIMARY KEY,
  project_id integer NOT NULL REFERENCES projects(id),
  body text
);
CREATE INDEX comments_project ON comments (project_id);
COMMENT ON INDEX comments_project IS 'an index with a comment stays in place during a restore';
CREATE TABLE audit.changes (id serial PRIMARY KEY, what text NOT NULL);
CREATE FUNCTION app.note_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit.changes (what) VALUES (TG_OP || ' ' || TG_TABLE_NAME);
  RETURN NULL;
END $$;
CREATE TRIGGER comments_audit AFTER INSERT OR UPDATE OR DELETE ON comments
  FOR EACH ROW EXECUTE FUNCTION app.note_change();
CREATE TRIGGER projects_audit AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON projects
  FOR EACH STATEMENT EXECUTE FUNCTION app.note_change();
CREATE VIEW project_names AS SELECT key, name FROM projects;
)sql";
}

// Rows at the edges; `round` varies them so that a later state differs from an earlier one.
inline std::string RichRowsSql(int round = 0) {
  const std::string r = std::to_string(round);
  return R"sql(
SET search_path = app, pg_catalog;
INSERT INTO settings VALUES ('schema_version', '4.2'), ('theme', 'dark )sql" +
         r + R"sql(');
INSERT INTO projects (key, name) VALUES ('TRK', 'Tracker )sql" +
         r + R"sql('), ('OPS', 'Ops'), ('Ünï', 'ユニコード 🚀');
INSERT INTO "Weird Table" VALUES (1, 'a\b', 'tab	here'), (2, NULL, E'new\nline'), (3, '', '"');
INSERT INTO values_zoo (project_id, i2, i4, i8, num, num_fixed, r4, r8, t, vc, ch, b, flag, d, tm, tmtz,
  ts, tstz, iv, u, j, jb, ints, texts, grid, m, p, addr, ir, tr, ip, net, mac, doc, bits, money_col)
VALUES
 (1, -32768, -2147483648, -9223372036854775808, 0.1, 12345678.1234, 'NaN', '-Infinity',
  'plain', 'v', 'ab', '\x', true, '4713-01-01 BC', '00:00:00', '23:59:59.999999+14',
  '1970-01-01 00:00:00', '2026-11-22 10:00:00.123456+05:30', '-178000000 years',
  '00000000-0000-0000-0000-000000000000', '{"a": [1, 2.50, null]}', '{"b": {"c": "ü"}}',
  '{1,NULL,3}', '{"with \"quotes\"","comma,here",NULL,""}', '{{1,2},{3,4}}',
  'sad', 1, ROW('Main St. 1', '12345'), '[1,10)', '[2026-01-01 00:00+00,infinity)',
  '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', 'a fat cat:1A sat', B'1010', '12.34'),
 (2, 32767, 2147483647, 9223372036854775807,
  123456789012345678901234567890.123456789012345678901234567890, -0.0001, 'Infinity', 'NaN',
  E'ünïcødé \u00e9 emoji 🚀 and a tab\t and back\\slash', repeat('x', 20), 'abcde',
  decode(repeat('00ff', 1000), 'hex'), false, 'infinity', '24:00:00', '00:00:00-15:59',
  'infinity', '-infinity', '1 year 2 mons 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '[]', '{}', '{}', '{}', NULL, 'happy', 2147483647, ROW(NULL, ''), 'empty', NULL,
  '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', '', B'', '-92233720368547758.08'),
 (NULL, 0, 0, 0, 'NaN', NULL, '-0', '-0', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, 'null', 'null', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL),
 (3, 1, 1, 1, 1e-300, 0, 1.17549435e-38, 2.2250738585072014e-308, 'r', NULL, NULL, NULL, NULL,
  '2000-02-29', NULL, NULL, '2000-02-29 12:00:00.000001', '1999-12-31 23:59:59.999999+00', '-1 days',
  NULL, '{"x": 1e400}', '{"k": 1.000}', NULL, NULL, NULL, 'ok', 3, NULL, '(,5]', NULL, NULL, NULL,
  NULL, 'a:1 b:2', NULL, NULL),
 (1, 2, 3, 4, 1.5e300, 99999999.9999, 3.4028235e38, 1.7976931348623157e308, 'big value follows',
  NULL, NULL, decode(repeat('0123456789abcdef', 262144), 'hex'), true, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL);
INSERT INTO values_zoo (t) SELECT repeat('long text ', 300000);
INSERT INTO no_key VALUES (1, 'one'), (1, 'one'), (NULL, NULL), (2, 'two )sql" +
         r + R"sql(');
INSERT INTO events VALUES (1, '2025-03-01', 'first'), (2, '2026-05-01', 'second'),
  (3, '2025-12-31', 'last of 2025');
INSERT INTO comments (project_id, body) SELECT 1 + (g % 3), 'comment ' || g || ' round )sql" +
         r +
         R"sql(' FROM generate_series(1, 500) g;
INSERT INTO audit.changes (what) VALUES ('seeded )sql" +
         r + R"sql(');
)sql";
}

}  // namespace lifeboat::testing
