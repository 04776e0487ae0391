// Instance URLs: where an instance's database lives, as written in lifeboat.toml
// (`database = ...`) or on the command line (`lifeboat backup sqlite:///srv/app.db`).
//
// Accepted forms:
//   sqlite:///srv/app.db        an absolute SQLite path (three slashes)
//   sqlite:app.db               a SQLite path; relative ones resolve against base_dir
//   sqlite://app.db             the same as sqlite:app.db: a relative path, not a host name
//   /srv/app.db, data/app.db    a plain path: anything containing '/' or ending in .db,
//   app.sqlite, app.sqlite3     .sqlite or .sqlite3 (case-insensitive)
//   postgresql://user@host/db   a libpq connection URL, kept as given;
//   postgres://...              also accepted, reported as scheme "postgresql"
// SQLite paths are normalized lexically ("a/./b/../c.db" -> "a/c.db"); nothing is looked up
// on disk and '~' is not expanded.
//
// Thread-safety: pure functions. Errors: InvalidArgument naming the text and listing the
// accepted forms.
#pragma once

#include <string>
#include <string_view>

#include "lifeboat/status.h"

namespace lifeboat {

struct InstanceLocation {
  std::string scheme;  // "sqlite" or "postgresql"
  std::string path;    // the SQLite file, resolved against base_dir; empty for postgresql
  std::string url;     // the text as given; for postgresql, the libpq URL
};

// `base_dir` is the directory relative SQLite paths are resolved against (the config file's
// directory); empty keeps them relative to the process's working directory.
Result<InstanceLocation> ParseInstanceUrl(std::string_view text, const std::string& base_dir);

// `url` with any password replaced by "***", for logs and messages:
// "postgresql://app:s3cret@db/x?password=y" -> "postgresql://app:***@db/x?password=***".
// Text that is not a URL comes back unchanged.
std::string RedactUrl(std::string_view url);

}  // namespace lifeboat
