// Table selection: which of an instance's tables a profile backs up, and which of them are
// metadata (configuration promoted between environments) rather than data.
//
// Patterns are shell globs matched against the whole table name, case-insensitively: `*`
// (any run of characters, '/' included, so "/NEPTUNE/*" matches SAP-style names), `?` (one
// character), `[abc]`, `[a-z]`, `[!abc]`; a backslash makes the next character literal.
//
// A table is backed up when it matches an include pattern, matches no exclude pattern, and
// (with default_excludes on) is not a log, debug or search-cache table by name. Naming a table
// exactly (no wildcard) in `include` brings back a table the default exclusions dropped; an
// exclude pattern always wins. The large-table threshold and policy are carried here and
// applied by the backup, which knows the sizes.
//
// Thread-safety: pure functions over values. Errors: ValidateGlob returns InvalidArgument
// naming the pattern and the fix; SelectTables assumes validated patterns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/status.h"

namespace lifeboat {

struct SelectionRules {
  enum class LargeTablePolicy { kInclude, kExclude, kAsk };

  std::vector<std::string> include = {"*"};
  std::vector<std::string> exclude;
  // Drop log, debug and search-cache tables (DefaultExclusionReason) unless named exactly.
  bool default_excludes = true;
  std::vector<std::string> metadata;
  // A table at least this large is "large"; the policy says what a backup does with it.
  uint64_t large_table_bytes = uint64_t{512} << 20;
  LargeTablePolicy large_tables = LargeTablePolicy::kAsk;
};

struct TableDecision {
  std::string name;
  bool included = false;
  std::string reason;  // why the table is left out; empty when included
  bool metadata = false;
};

// Whether `name` matches `pattern` (see the file comment for the syntax).
bool GlobMatches(std::string_view pattern, std::string_view name);

// OK for a usable pattern; InvalidArgument for an empty pattern, a '[' without its ']', or a
// trailing backslash.
Status ValidateGlob(std::string_view pattern);

// Why `table` is left out of backups by default, or nullopt. The name is split into words on
// every character that is not a letter or digit; a word log, logs, dbg, debug, trace or trc
// gives "excluded by default: log or debug table"; words containing "search" and "cache", or a
// word starting with "srch", give "excluded by default: search cache". So trk_log,
// trk_debug_trace, trk_search_cache and /NEPTUNE/SRCHSCR are excluded; trk_login_attempts,
// trk_catalog and trk_blog are not.
std::optional<std::string> DefaultExclusionReason(std::string_view table);

// One decision per table, in the order given.
std::vector<TableDecision> SelectTables(const std::vector<std::string>& tables,
                                        const SelectionRules& rules);

}  // namespace lifeboat
