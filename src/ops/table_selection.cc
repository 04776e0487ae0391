#include "ops/table_selection.h"

#include <fnmatch.h>

#include <cctype>

namespace lifeboat {
namespace {

constexpr char kLogOrDebugReason[] = "excluded by default: log or debug table";
constexpr char kSearchCacheReason[] = "excluded by default: search cache";

bool IsLogOrDebugWord(std::string_view word) {
  for (std::string_view w : {"log", "logs", "dbg", "debug", "trace", "trc"}) {
    if (word == w) return true;
  }
  return false;
}

// A pattern without wildcards names exactly one table.
bool IsLiteral(std::string_view pattern) {
  return pattern.find_first_of("*?[") == std::string_view::npos;
}

bool MatchesAny(const std::vector<std::string>& patterns, std::string_view name,
                const std::string** matched) {
  for (const std::string& pattern : patterns) {
    if (GlobMatches(pattern, name)) {
      if (matched != nullptr) *matched = &pattern;
      return true;
    }
  }
  return false;
}

bool NamedExactly(const std::vector<std::string>& patterns, std::string_view name) {
  for (const std::string& pattern : patterns) {
    if (IsLiteral(pattern) && GlobMatches(pattern, name)) return true;
  }
  return false;
}

std::string QuotedList(const std::vector<std::string>& patterns) {
  std::string out;
  for (const std::string& pattern : patterns) {
    if (!out.empty()) out += ", ";
    out += "'" + pattern + "'";
  }
  return out;
}

}  // namespace

bool GlobMatches(std::string_view pattern, std::string_view name) {
  const std::string p(pattern);
  const std::string n(name);
  return fnmatch(p.c_str(), n.c_str(), FNM_CASEFOLD) == 0;
}

Status ValidateGlob(std::string_view pattern) {
  const std::string quoted = "pattern '" + std::string(pattern) + "'";
  if (pattern.empty()) {
    return InvalidArgumentError(
        "pattern is empty and matches no table: remove it, or write a name or a glob such as "
        "'trk_*'");
  }
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      if (i + 1 == pattern.size()) {
        return InvalidArgumentError(quoted +
                                    " ends with a backslash: remove it, or write '\\\\' to "
                                    "match a backslash");
      }
      ++i;
      continue;
    }
    if (pattern[i] != '[') continue;
    size_t j = i + 1;
    if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) ++j;
    if (j < pattern.size() && pattern[j] == ']') ++j;  // a leading ']' is a member
    bool closed = false;
    while (j < pattern.size()) {
      char c = pattern[j];
      if (c == ']') {
        closed = true;
        break;
      }
      if (c == '\\' && j + 1 < pattern.size()) {
        j += 2;
        continue;
      }
      if (c == '[' && j + 1 < pattern.size() &&
          (pattern[j + 1] == ':' || pattern[j + 1] == '.' || pattern[j + 1] == '=')) {
        // A class such as [:alpha:] inside the brackets.
        const char end[] = {pattern[j + 1], ']', '\0'};
        size_t close = pattern.find(end, j + 2);
        if (close == std::string_view::npos) break;
        j = close + 2;
        continue;
      }
      ++j;
    }
    if (!closed) {
      return InvalidArgumentError(quoted +
                                  " has a '[' without a closing ']': close the set, as in "
                                  "'trk_[ab]*', or write '[[]' to match a literal '['");
    }
    i = j;
  }
  return OkStatus();
}

std::optional<std::string> DefaultExclusionReason(std::string_view table) {
  std::vector<std::string> words;
  std::string word;
  for (char c : table) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      word.push_back(static_cast<char>(std::tolower(u)));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));

  bool has_search = false;
  bool has_cache = false;
  bool has_srch = false;
  for (const std::string& w : words) {
    if (IsLogOrDebugWord(w)) return std::string(kLogOrDebugReason);
    has_search = has_search || w.find("search") != std::string::npos;
    has_cache = has_cache || w.find("cache") != std::string::npos;
    has_srch = has_srch || w.starts_with("srch");
  }
  if ((has_search && has_cache) || has_srch) return std::string(kSearchCacheReason);
  return std::nullopt;
}

std::vector<TableDecision> SelectTables(const std::vector<std::string>& tables,
                                        const SelectionRules& rules) {
  std::vector<TableDecision> decisions;
  decisions.reserve(tables.size());
  for (const std::string& table : tables) {
    TableDecision decision;
    decision.name = table;
    decision.metadata = MatchesAny(rules.metadata, table, nullptr);
    const std::string* exclude_pattern = nullptr;
    if (!MatchesAny(rules.include, table, nullptr)) {
      decision.reason =
          rules.include.empty()
              ? "not included by profile (its include list is empty)"
              : "not included by profile (patterns " + QuotedList(rules.include) + ")";
    } else if (MatchesAny(rules.exclude, table, &exclude_pattern)) {
      decision.reason = "excluded by profile (pattern '" + *exclude_pattern + "')";
    } else if (std::optional<std::string> reason =
                   rules.default_excludes ? DefaultExclusionReason(table) : std::nullopt;
               reason.has_value() && !NamedExactly(rules.include, table)) {
      decision.reason = std::move(*reason);
    } else {
      decision.included = true;
    }
    decisions.push_back(std::move(decision));
  }
  return decisions;
}

}  // namespace lifeboat
