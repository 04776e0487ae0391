// pg_dump's plain-text schema script cut into its entries, so that a clone can run some of
// them at the same time on several connections.
//
// pg_dump writes each object as an entry whose header comment names it
// (`-- Name: t t_pkey; Type: CONSTRAINT; Schema: app; Owner: -`), followed by its statements.
// Session settings (`SET default_tablespace = '';`, `SELECT pg_catalog.set_config(...)`) stand
// between entries and hold for every entry after them; each entry is returned with the
// settings in force where it stood, so that it runs the same on any connection. psql's own
// commands (`\restrict`, `\unrestrict`) are left out.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lifeboat {

struct PgDumpEntry {
  std::string name;      // the header's Name: "app comments comments_pkey"
  std::string type;      // the header's Type: "CONSTRAINT", "INDEX", "FK CONSTRAINT", ...
  std::string settings;  // the session settings in force before the entry, as SQL
  std::string sql;       // the entry's own text, from its header to the next one
};

struct PgDumpScript {
  std::string preamble;  // what comes before the first entry (settings, comments)
  std::vector<PgDumpEntry> entries;
};

PgDumpScript SplitPgDumpScript(std::string_view script);

// Whether an entry of `type` may run beside other such entries of the same post-data script
// once the rows are loaded: primary keys, unique and exclusion constraints and indexes (each
// statement locks one table and needs nothing another of them creates).
bool PgDumpEntryRunsInParallel(const std::string& type);

}  // namespace lifeboat
