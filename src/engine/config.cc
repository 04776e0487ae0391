#include "engine/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <span>
#include <utility>
#include <vector>

#include "engine/instance_url.h"

namespace lifeboat {
namespace {

constexpr std::string_view kTopLevelKeys[] = {"repository", "password_file", "restore_window",
                                              "profile", "instance"};
constexpr std::string_view kProfileKeys[] = {"version_query",    "include",  "exclude",
                                             "default_excludes", "metadata", "large_table_bytes",
                                             "large_tables"};
constexpr std::string_view kInstanceKeys[] = {"profile", "account", "database", "files"};

// A config file this large is not a config file; refusing keeps memory bounded.
constexpr size_t kMaxConfigBytes = 16 << 20;

// Optimal string alignment distance: Levenshtein plus swaps of neighbours ("inlcude").
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The closest candidate within two edits (case ignored), if any.
std::optional<std::string_view> Suggest(std::string_view key,
                                        std::span<const std::string_view> candidates) {
  std::optional<std::string_view> best;
  size_t best_distance = 3;
  for (std::string_view candidate : candidates) {
    size_t distance = EditDistance(Lower(key), candidate);
    if (distance < best_distance && distance < candidate.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

bool Contains(std::span<const std::string_view> keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::string JoinKeys(std::span<const std::string_view> keys) {
  std::string out;
  for (std::string_view key : keys) {
    if (!out.empty()) out += ", ";
    out += key;
  }
  return out;
}

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// Profile and instance names appear on the command line and in messages unquoted.
bool IsValidName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

struct Entry {
  const toml::key* key;
  const toml::node* node;
  std::string_view name() const { return key->str(); }
};

// A table's entries in the order they appear in the file, so the first error reported is the
// first one a reader meets.
std::vector<Entry> InFileOrder(const toml::table& table) {
  std::vector<Entry> entries;
  for (const auto& [key, node] : table) entries.push_back(Entry{&key, &node});
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    const toml::source_position& pa = a.key->source().begin;
    const toml::source_position& pb = b.key->source().begin;
    return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
  });
  return entries;
}

class ConfigParser {
 public:
  ConfigParser(const std::string& source_name, std::string base_dir)
      : source_name_(source_name), base_dir_(std::move(base_dir)) {}

  Result<Config> Parse(const toml::table& root) {
    Config config;
    config.path = source_name_;
    for (const Entry& e : InFileOrder(root)) {
      if (e.name() == "repository") {
        LB_ASSIGN_OR_RETURN(std::string repository, NonEmptyString(e));
        config.repository = HasUrlScheme(repository) ? repository : ResolvePath(repository);
      } else if (e.name() == "password_file") {
        LB_ASSIGN_OR_RETURN(std::string password_file, NonEmptyString(e));
        config.password_file = ResolvePath(password_file);
      } else if (e.name() == "restore_window") {
        LB_ASSIGN_OR_RETURN(config.restore_window_nanos, RestoreWindow(e));
      } else if (e.name() == "profile") {
        LB_RETURN_IF_ERROR(ParseSection(e, "profile", "tracker", &config));
      } else if (e.name() == "instance") {
        LB_RETURN_IF_ERROR(ParseSection(e, "instance", "prod", &config));
      } else {
        return UnknownKey(e, "at the top level", kTopLevelKeys);
      }
    }
    LB_RETURN_IF_ERROR(ResolveProfiles(&config));
    return config;
  }

 private:
  struct ProfileReference {
    std::string instance;
    std::string profile;
    toml::source_region where;
  };

  Status ErrorAt(const toml::source_region& where, std::string_view message) const {
    return InvalidArgumentError(source_name_ + ":" + std::to_string(where.begin.line) + ": " +
                                std::string(message));
  }

  Status UnknownKey(const Entry& e, std::string_view where,
                    std::span<const std::string_view> known) const {
    std::string message = "unknown key '" + std::string(e.name()) + "' " + std::string(where);
    if (Contains(kProfileKeys, e.name()) && known.data() != kProfileKeys) {
      message += " (it belongs in a [profile.NAME] table)";
    } else if (Contains(kInstanceKeys, e.name()) && known.data() != kInstanceKeys) {
      message += " (it belongs in an [instance.NAME] table)";
    } else if (std::optional<std::string_view> suggestion = Suggest(e.name(), known)) {
      message += " (did you mean '" + std::string(*suggestion) + "'?)";
    } else {
      message += " (known keys: " + JoinKeys(known) + ")";
    }
    return ErrorAt(e.key->source(), message);
  }

  Result<std::string> NonEmptyString(const Entry& e) const {
    const toml::value<std::string>* value = e.node->as_string();
    if (value == nullptr) {
      return ErrorAt(e.key->source(), std::string(e.name()) + " must be a string (found " +
                                          std::string(TypeName(*e.node)) + ")");
    }
    if (value->get().empty()) {
      return ErrorAt(e.key->source(), std::string(e.name()) + " must not be empty");
    }
    return value->get();
  }

  Result<bool> Boolean(const Entry& e) const {
    const toml::value<bool>* value = e.node->as_boolean();
    if (value == nullptr) {
      return ErrorAt(e.key->source(), std::string(e.name()) + " must be true or false (found " +
                                          std::string(TypeName(*e.node)) + ")");
    }
    return value->get();
  }

  Result<std::vector<std::string>> Patterns(const Entry& e) const {
    const std::string key(e.name());
    const toml::array* array = e.node->as_array();
    if (array == nullptr) {
      std::string hint;
      if (const toml::value<std::string>* single = e.node->as_string()) {
        hint = ": write " + key + " = [\"" + single->get() + "\"]";
      }
      return ErrorAt(e.key->source(), key + " must be an array of strings (found " +
                                          std::string(TypeName(*e.node)) + ")" + hint);
    }
    std::vector<std::string> patterns;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = *array->get(i);
      const toml::value<std::string>* value = element.as_string();
      const toml::source_region& where =
          element.source().begin.line != 0 ? element.source() : e.key->source();
      if (value == nullptr) {
        return ErrorAt(where, key + " must be an array of strings (element " +
                                  std::to_string(i + 1) + " is " + std::string(TypeName(element)) +
                                  ")");
      }
      Status valid = ValidateGlob(value->get());
      if (!valid.ok()) return ErrorAt(where, key + ": " + valid.message());
      patterns.push_back(value->get());
    }
    return patterns;
  }

  Result<int64_t> RestoreWindow(const Entry& e) const {
    const toml::value<std::string>* value = e.node->as_string();
    if (value == nullptr) {
      return ErrorAt(e.key->source(), "restore_window must be a duration such as \"7d\" (found " +
                                          std::string(TypeName(*e.node)) + ")");
    }
    Result<int64_t> nanos = ParseDuration(value->get());
    if (!nanos.ok()) {
      return ErrorAt(e.key->source(), "restore_window: " + nanos.status().message());
    }
    if (*nanos == 0) {
      return ErrorAt(e.key->source(),
                     "restore_window: a window of 0 would refuse every restore: write a duration "
                     "such as \"7d\"");
    }
    return *nanos;
  }

  Result<uint64_t> LargeTableBytes(const Entry& e) const {
    if (const toml::value<int64_t>* integer = e.node->as_integer()) {
      if (integer->get() < 0) {
        return ErrorAt(e.key->source(), "large_table_bytes must not be negative (found " +
                                            std::to_string(integer->get()) + ")");
      }
      return static_cast<uint64_t>(integer->get());
    }
    if (const toml::value<std::string>* text = e.node->as_string()) {
      Result<uint64_t> bytes = ParseByteSize(text->get());
      if (!bytes.ok()) {
        return ErrorAt(e.key->source(), "large_table_bytes: " + bytes.status().message());
      }
      return *bytes;
    }
    return ErrorAt(e.key->source(),
                   "large_table_bytes must be a size such as \"512MiB\" or a number of bytes "
                   "(found " +
                       std::string(TypeName(*e.node)) + ")");
  }

  Result<SelectionRules::LargeTablePolicy> LargeTables(const Entry& e) const {
    constexpr char kChoices[] = "large_tables must be one of include, exclude, ask";
    const toml::value<std::string>* value = e.node->as_string();
    if (value == nullptr) {
      return ErrorAt(e.key->source(),
                     std::string(kChoices) + " (found " + std::string(TypeName(*e.node)) + ")");
    }
    std::string choice = Lower(value->get());
    if (choice == "include") return SelectionRules::LargeTablePolicy::kInclude;
    if (choice == "exclude") return SelectionRules::LargeTablePolicy::kExclude;
    if (choice == "ask") return SelectionRules::LargeTablePolicy::kAsk;
    return ErrorAt(e.key->source(), std::string(kChoices) + " (found '" + value->get() + "')");
  }

  // [profile.NAME] and [instance.NAME]: a table of named tables.
  Status ParseSection(const Entry& section, std::string_view kind, std::string_view example,
                      Config* config) {
    const std::string k(kind);
    const toml::table* table = section.node->as_table();
    if (table == nullptr) {
      return ErrorAt(section.key->source(), k + " must be a table of named " + k + "s, such as [" +
                                                k + "." + std::string(example) + "] (found " +
                                                std::string(TypeName(*section.node)) + ")");
    }
    for (const Entry& e : InFileOrder(*table)) {
      const std::string name(e.name());
      const toml::table* body = e.node->as_table();
      if (body == nullptr) {
        return ErrorAt(e.key->source(), "'" + name + "' in [" + k + "] must be inside a named " +
                                            k + ", such as [" + k + "." + std::string(example) +
                                            "]");
      }
      if (!IsValidName(name)) {
        return ErrorAt(e.key->source(),
                       k + " name '" + name + "' may contain only letters, digits, '-' and '_'");
      }
      if (kind == "profile") {
        LB_RETURN_IF_ERROR(ParseProfile(name, *body, config));
      } else {
        LB_RETURN_IF_ERROR(ParseInstance(name, e, *body, config));
      }
    }
    return OkStatus();
  }

  Status ParseProfile(const std::string& name, const toml::table& body, Config* config) {
    ProfileConfig profile;
    profile.name = name;
    SelectionRules& rules = profile.rules;
    const std::string where = "in [profile." + name + "]";
    for (const Entry& e : InFileOrder(body)) {
      if (e.name() == "version_query") {
        LB_ASSIGN_OR_RETURN(profile.version_query, NonEmptyString(e));
      } else if (e.name() == "include") {
        LB_ASSIGN_OR_RETURN(rules.include, Patterns(e));
      } else if (e.name() == "exclude") {
        LB_ASSIGN_OR_RETURN(rules.exclude, Patterns(e));
      } else if (e.name() == "metadata") {
        LB_ASSIGN_OR_RETURN(rules.metadata, Patterns(e));
      } else if (e.name() == "default_excludes") {
        LB_ASSIGN_OR_RETURN(rules.default_excludes, Boolean(e));
      } else if (e.name() == "large_table_bytes") {
        LB_ASSIGN_OR_RETURN(rules.large_table_bytes, LargeTableBytes(e));
      } else if (e.name() == "large_tables") {
        LB_ASSIGN_OR_RETURN(rules.large_tables, LargeTables(e));
      } else {
        return UnknownKey(e, where, kProfileKeys);
      }
    }
    config->profiles[name] = std::move(profile);
    return OkStatus();
  }

  Status ParseInstance(const std::string& name, const Entry& header, const toml::table& body,
                       Config* config) {
    InstanceConfig instance;
    instance.name = name;
    const std::string where = "in [instance." + name + "]";
    std::optional<toml::source_region> profile_at;
    bool has_database = false;
    for (const Entry& e : InFileOrder(body)) {
      if (e.name() == "profile") {
        LB_ASSIGN_OR_RETURN(instance.profile, NonEmptyString(e));
        profile_at = e.key->source();
      } else if (e.name() == "account") {
        LB_ASSIGN_OR_RETURN(instance.account, NonEmptyString(e));
      } else if (e.name() == "database") {
        LB_ASSIGN_OR_RETURN(std::string text, NonEmptyString(e));
        Result<InstanceLocation> location = ParseInstanceUrl(text, base_dir_);
        if (!location.ok()) {
          return ErrorAt(e.key->source(), "database: " + location.status().message());
        }
        instance.database = NormalizedDatabase(*location);
        has_database = true;
      } else if (e.name() == "files") {
        LB_ASSIGN_OR_RETURN(std::string files, NonEmptyString(e));
        instance.files = ResolvePath(files);
      } else {
        return UnknownKey(e, where, kInstanceKeys);
      }
    }
    if (!has_database) {
      // A [instance.NAME] header is where the table starts; an inline table starts at its key.
      const toml::source_region& at =
          body.source().begin.line != 0 ? body.source() : header.key->source();
      return ErrorAt(at, "[instance." + name +
                             "] has no database: add database = \"sqlite:///path/to/app.db\" "
                             "or a postgresql:// URL");
    }
    if (instance.profile.empty()) instance.profile = kDefaultProfileName;
    if (instance.account.empty()) instance.account = kDefaultAccountName;
    if (profile_at.has_value()) {
      references_.push_back(ProfileReference{name, instance.profile, *profile_at});
    }
    config->instances[name] = std::move(instance);
    return OkStatus();
  }

  // Every instance's profile exists; the built-in default is added when one relies on it.
  Status ResolveProfiles(Config* config) const {
    for (const ProfileReference& ref : references_) {
      if (config->profiles.contains(ref.profile) || ref.profile == kDefaultProfileName) continue;
      std::string defined;
      for (const auto& [profile_name, profile] : config->profiles) {
        if (!defined.empty()) defined += ", ";
        defined += profile_name;
      }
      std::string message = "instance '" + ref.instance + "' uses profile '" + ref.profile +
                            "', which is not defined ";
      message += defined.empty() ? "(no profiles are defined: add [profile." + ref.profile +
                                       "], or remove the profile key to use the built-in default)"
                                 : "(profiles: " + defined + ")";
      return ErrorAt(ref.where, message);
    }
    bool uses_default = false;
    for (const auto& [instance_name, instance] : config->instances) {
      uses_default = uses_default || instance.profile == kDefaultProfileName;
    }
    if (uses_default && !config->profiles.contains(kDefaultProfileName)) {
      config->profiles[kDefaultProfileName] = DefaultProfile();
    }
    return OkStatus();
  }

  static bool HasUrlScheme(std::string_view text) {
    size_t sep = text.find("://");
    return sep != std::string_view::npos && sep > 0 &&
           std::all_of(text.begin(), text.begin() + static_cast<ptrdiff_t>(sep), [](char c) {
             return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
           });
  }

  std::string ResolvePath(std::string_view text) const {
    std::filesystem::path path(text);
    if (path.is_relative() && !base_dir_.empty()) path = std::filesystem::path(base_dir_) / path;
    return path.lexically_normal().string();
  }

  static std::string NormalizedDatabase(const InstanceLocation& location) {
    if (location.scheme != "sqlite") return location.url;
    return (location.path.starts_with('/') ? "sqlite://" : "sqlite:") + location.path;
  }

  std::string source_name_;
  std::string base_dir_;
  std::vector<ProfileReference> references_;
};

std::string SyntaxError(const std::string& source_name, std::string_view description,
                        const toml::source_region& where) {
  return source_name + ":" + std::to_string(where.begin.line) + ":" +
         std::to_string(where.begin.column) + ": TOML syntax error: " + std::string(description);
}

Result<Config> ParseConfigOrThrow(std::string_view text, const std::string& source_name,
                                  const std::string& base_dir) {
#if TOML_EXCEPTIONS
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(source_name));
  } catch (const toml::parse_error& e) {
    return InvalidArgumentError(SyntaxError(source_name, e.description(), e.source()));
  }
#else
  toml::parse_result parsed = toml::parse(text, std::string_view(source_name));
  if (!parsed) {
    return InvalidArgumentError(
        SyntaxError(source_name, parsed.error().description(), parsed.error().source()));
  }
  toml::table root = std::move(parsed).table();
#endif
  return ConfigParser(source_name, base_dir).Parse(root);
}

Result<Config> ParseConfigRelativeTo(std::string_view text, const std::string& source_name,
                                     const std::string& base_dir) {
  try {
    return ParseConfigOrThrow(text, source_name, base_dir);
  } catch (const std::exception& e) {
    return InternalError("reading config file " + source_name + ": " + e.what());
  }
}

}  // namespace

ProfileConfig DefaultProfile() {
  ProfileConfig profile;
  profile.name = kDefaultProfileName;
  return profile;
}

Result<Config> ParseConfig(std::string_view text, const std::string& source_name) {
  return ParseConfigRelativeTo(text, source_name,
                               std::filesystem::path(source_name).parent_path().string());
}

Result<Config> LoadConfig(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    int err = errno;
    if (err == ENOENT) {
      return NotFoundError("config file " + path +
                           " does not exist: create it, or name another file with --config");
    }
    std::string message = "cannot open config file " + path + ": " + std::strerror(err);
    if (err == EACCES || err == EPERM) {
      return PermissionDeniedError(message + ": make it readable by this user");
    }
    return UnavailableError(message);
  }
  std::string text;
  char buffer[1 << 14];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    text.append(buffer, n);
    if (text.size() > kMaxConfigBytes) break;
  }
  const bool failed = std::ferror(file) != 0;
  const int err = errno;
  std::fclose(file);
  if (failed) {
    if (err == EISDIR) {
      return InvalidArgumentError("config file " + path +
                                  " is a directory: name the lifeboat.toml file inside it");
    }
    return UnavailableError("cannot read config file " + path + ": " + std::strerror(err));
  }
  if (text.size() > kMaxConfigBytes) {
    return InvalidArgumentError("config file " + path +
                                " is larger than 16 MiB: name the lifeboat.toml file instead");
  }
  // An absolute base makes every resolved path absolute, so callers can hand them to other
  // processes or resolve them again without depending on the working directory.
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) {
    return UnavailableError("cannot resolve the directory of config file " + path + ": " +
                            ec.message());
  }
  return ParseConfigRelativeTo(text, path, absolute.parent_path().lexically_normal().string());
}

}  // namespace lifeboat
