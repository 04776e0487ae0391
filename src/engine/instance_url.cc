#include "engine/instance_url.h"

#include <cctype>
#include <filesystem>

namespace lifeboat {
namespace {

constexpr char kAcceptedForms[] =
    "write sqlite:///absolute/path.db, sqlite:relative/path.db, a file path ending in .db, "
    ".sqlite or .sqlite3, or postgresql://user@host/dbname";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && Lower(text.substr(0, prefix.size())) == prefix;
}

bool EndsWithNoCase(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && Lower(text.substr(text.size() - suffix.size())) == suffix;
}

// The scheme of "scheme:..." if `text` starts with one (RFC 3986: a letter, then letters,
// digits, '+', '-' or '.'), else empty.
std::string_view SchemeOf(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return {};
  if (!std::isalpha(static_cast<unsigned char>(text[0]))) return {};
  for (size_t i = 1; i < colon; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return {};
  }
  return text.substr(0, colon);
}

Result<InstanceLocation> SqliteLocation(std::string_view text, std::string_view path,
                                        const std::string& base_dir) {
  const std::string shown = "'" + std::string(text) + "'";
  if (path.empty()) {
    return InvalidArgumentError(shown +
                                " names no SQLite file: write sqlite:///absolute/path.db or "
                                "sqlite:relative/path.db");
  }
  if (path.front() == '~') {
    return InvalidArgumentError(shown +
                                ": '~' is not expanded: write the full path, such as "
                                "sqlite:///home/me/app.db");
  }
  std::filesystem::path p(path);
  if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
  InstanceLocation location;
  location.scheme = "sqlite";
  location.path = p.lexically_normal().string();
  location.url = std::string(text);
  return location;
}

// Replaces the value of every "password=" parameter with "***".
void RedactPasswordParameters(std::string* text) {
  static constexpr std::string_view kKey = "password=";
  size_t pos = 0;
  while ((pos = Lower(*text).find(kKey, pos)) != std::string::npos) {
    bool at_boundary =
        pos == 0 || (*text)[pos - 1] == '?' || (*text)[pos - 1] == '&' || (*text)[pos - 1] == ' ';
    size_t value = pos + kKey.size();
    if (!at_boundary) {
      pos = value;
      continue;
    }
    size_t end = text->find_first_of("& ", value);
    if (end == std::string::npos) end = text->size();
    text->replace(value, end - value, "***");
    pos = value + 3;
  }
}

}  // namespace

Result<InstanceLocation> ParseInstanceUrl(std::string_view text, const std::string& base_dir) {
  if (text.empty()) {
    return InvalidArgumentError(std::string("database location is empty: ") + kAcceptedForms);
  }
  if (StartsWithNoCase(text, "postgresql://") || StartsWithNoCase(text, "postgres://")) {
    InstanceLocation location;
    location.scheme = "postgresql";
    location.url = std::string(text);
    return location;
  }
  if (StartsWithNoCase(text, "sqlite://")) {
    // "sqlite:///abs" keeps its leading '/'; "sqlite://rel" is read as a relative path.
    return SqliteLocation(text, text.substr(9), base_dir);
  }
  if (StartsWithNoCase(text, "sqlite:")) return SqliteLocation(text, text.substr(7), base_dir);

  std::string_view scheme = SchemeOf(text);
  if (!scheme.empty() && text.substr(scheme.size()).starts_with("://")) {
    return InvalidArgumentError("'" + RedactUrl(text) + "' uses the unsupported scheme '" +
                                std::string(scheme) + "': " + kAcceptedForms);
  }
  if (text.find('/') != std::string_view::npos || EndsWithNoCase(text, ".db") ||
      EndsWithNoCase(text, ".sqlite") || EndsWithNoCase(text, ".sqlite3")) {
    return SqliteLocation(text, text, base_dir);
  }
  return InvalidArgumentError("'" + RedactUrl(text) +
                              "' is not a database location: " + kAcceptedForms);
}

std::string RedactUrl(std::string_view url) {
  std::string out(url);
  size_t authority = out.find("://");
  if (authority != std::string::npos) {
    authority += 3;
    // The last '@' ends the user information: a password may contain '/', '?' or '@' that
    // were not percent-encoded, and hiding too much is better than showing a password.
    size_t at = out.rfind('@');
    if (at != std::string::npos && at > authority) {
      size_t colon = out.find(':', authority);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  RedactPasswordParameters(&out);
  return out;
}

}  // namespace lifeboat
