// Config: lifeboat.toml, the file that names the repository, the application profiles and the
// instances (DESIGN.md section 4).
//
//   repository = "/var/backups/lifeboat"     # a path, or a URL such as "s3://bucket/prefix"
//   password_file = "/etc/lifeboat/key"
//   restore_window = "7d"                    # a duration (base/units.h); default 7 days
//
//   [profile.tracker]
//   version_query = "SELECT value FROM trk_app_settings WHERE key = 'schema_version'"
//   include = ["trk_*"]                      # globs, see ops/table_selection.h; default ["*"]
//   exclude = ["trk_tmp_*"]
//   default_excludes = true                  # drop log, debug and search-cache tables
//   metadata = ["trk_projects", "trk_layouts"]
//   large_table_bytes = "512MiB"             # or an integer number of bytes
//   large_tables = "ask"                     # include | exclude | ask
//
//   [instance.prod]
//   profile = "tracker"       # optional: without it, the built-in profile "default"
//   account = "acme"          # optional: defaults to "default"
//   database = "postgresql://backup@127.0.0.1/tracker_prod"   # required; see instance_url.h
//   files = "/srv/tracker/prod/attachments"                   # optional
//
// Profile and instance names may hold letters, digits, '-' and '_' (they are typed on the
// command line). Keys are checked: an unknown key is an error that suggests the closest known
// one.
//
// Relative paths (repository, password_file, files, and SQLite database paths) are resolved
// against the directory of the config file, so the same file works from any working directory.
// LoadConfig resolves them to absolute paths. ParseConfig resolves them lexically against the
// directory part of `source_name`, so text named "lifeboat.toml" keeps them relative. SQLite
// databases are stored normalized as "sqlite:///absolute/path" (or "sqlite:relative/path");
// parsing an absolute one again with ParseInstanceUrl gives the same path whatever the base.
// Repository values with a "scheme://" (s3://...) stay as given.
//
// Thread-safety: pure functions; a Config is a value.
// Errors: InvalidArgument for anything wrong in the file, always as
// "<file>:<line>: <key> <what is wrong and how to fix it>" (syntax errors add the column);
// NotFound when the file does not exist; PermissionDenied or Unavailable when it cannot be read.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/units.h"
#include "lifeboat/status.h"
#include "ops/table_selection.h"

namespace lifeboat {

// The name of the profile an instance without a `profile` key uses.
inline constexpr char kDefaultProfileName[] = "default";
// The account of an instance without an `account` key, and of a database named by URL alone.
inline constexpr char kDefaultAccountName[] = "default";

struct ProfileConfig {
  std::string name;
  std::optional<std::string> version_query;
  SelectionRules rules;
};

struct InstanceConfig {
  std::string name;
  std::string profile;  // a key of Config::profiles
  std::string account;
  std::string database;  // normalized: see the file comment
  std::optional<std::string> files;
};

struct Config {
  std::string path;  // the file it was read from, as given
  std::optional<std::string> repository;
  std::optional<std::string> password_file;
  int64_t restore_window_nanos = 7 * kNanosPerDay;
  // Holds every profile an instance names, including "default" when an instance relies on it.
  std::map<std::string, ProfileConfig> profiles;
  std::map<std::string, InstanceConfig> instances;
};

// The built-in profile: every table except logs, debug tables and search caches.
ProfileConfig DefaultProfile();

// Reads and parses the file at `path`.
Result<Config> LoadConfig(const std::string& path);

// Parses `text`; `source_name` names the file in messages, becomes Config::path, and its
// directory is the base for relative paths.
Result<Config> ParseConfig(std::string_view text, const std::string& source_name);

}  // namespace lifeboat
