#include "source/postgres/pg_dump_script.h"

#include <utility>

namespace lifeboat {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The Name and Type of an entry header line; an empty type when `line` is not one.
std::pair<std::string, std::string> Header(std::string_view line) {
  if (!StartsWith(line, "-- Name: ")) return {};
  const size_t type = line.rfind("; Type: ");
  if (type == std::string_view::npos) return {};
  std::string_view rest = line.substr(type + 8);
  return {std::string(line.substr(9, type - 9)),
          std::string(rest.substr(0, rest.find("; Schema: ")))};
}

// A session setting on a line of its own, as pg_dump writes them between entries.
bool IsSetting(std::string_view line) {
  return (StartsWith(line, "SET ") || StartsWith(line, "SELECT pg_catalog.set_config(")) &&
         line.find(";") != std::string_view::npos;
}

}  // namespace

PgDumpScript SplitPgDumpScript(std::string_view script) {
  PgDumpScript out;
  std::string settings;
  std::string* current = &out.preamble;
  bool in_statement = false;
  size_t pos = 0;
  while (pos < script.size()) {
    size_t end = script.find('\n', pos);
    end = end == std::string_view::npos ? script.size() : end + 1;
    std::string_view line = script.substr(pos, end - pos);
    pos = end;
    if (StartsWith(line, "\\restrict ") || StartsWith(line, "\\unrestrict ")) continue;
    std::string_view text = line;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    if (!in_statement) {
      if (auto [name, type] = Header(text); !type.empty()) {
        out.entries.push_back({std::move(name), std::move(type), settings, ""});
        current = &out.entries.back().sql;
      } else if (IsSetting(text)) {
        settings += line;
      }
    }
    *current += line;
    if (!text.empty() && !StartsWith(text, "--")) in_statement = text.back() != ';';
  }
  return out;
}

bool PgDumpEntryRunsInParallel(const std::string& type) {
  return type == "CONSTRAINT" || type == "INDEX";
}

}  // namespace lifeboat
