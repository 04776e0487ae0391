#include "engine/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/instance_url.h"

namespace lifeboat {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using LargeTablePolicy = SelectionRules::LargeTablePolicy;

// Raw strings below start with a newline for readability; line 1 is the line after R"(.
std::string Toml(std::string_view text) {
  if (!text.empty() && text.front() == '\n') text.remove_prefix(1);
  return std::string(text);
}

Config Parse(std::string_view text, const std::string& source = "lifeboat.toml") {
  Result<Config> r = ParseConfig(Toml(text), source);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Config{};
}

std::string Error(std::string_view text) {
  Result<Config> r = ParseConfig(Toml(text), "lifeboat.toml");
  EXPECT_FALSE(r.ok()) << "parsed without error:\n" << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

constexpr std::string_view kDesignExample = R"(
repository = "/var/backups/lifeboat"          # later: "s3://bucket/prefix"
password_file = "/etc/lifeboat/key"
restore_window = "7d"

[profile.tracker]
version_query = "SELECT value FROM trk_app_settings WHERE key = 'schema_version'"
include  = ["trk_*"]
exclude  = ["trk_log*", "trk_debug_*", "trk_search_cache"]
metadata = ["trk_business_areas", "trk_projects", "trk_fields", "trk_layouts", "trk_rules", "trk_reports"]
large_table_bytes = "512MiB"
large_tables = "ask"                          # include | exclude | ask

[instance.prod]
profile  = "tracker"
account  = "acme"
database = "postgresql://backup@127.0.0.1/tracker_prod"   # or sqlite:///srv/tracker/app.db
files    = "/srv/tracker/prod/attachments"

[instance.dev]
database = "sqlite:dev/app.db"
files = "dev/files"
)";

TEST(ParseConfigTest, ReadsTheDesignExample) {
  Config config = Parse(kDesignExample, "/etc/lifeboat/lifeboat.toml");
  EXPECT_EQ(config.path, "/etc/lifeboat/lifeboat.toml");
  EXPECT_EQ(config.repository, "/var/backups/lifeboat");
  EXPECT_EQ(config.password_file, "/etc/lifeboat/key");
  EXPECT_EQ(config.restore_window_nanos, 7 * kNanosPerDay);

  ASSERT_EQ(config.profiles.size(), 2u);  // tracker, and the built-in default for dev
  const ProfileConfig& tracker = config.profiles.at("tracker");
  EXPECT_EQ(tracker.name, "tracker");
  EXPECT_EQ(tracker.version_query,
            "SELECT value FROM trk_app_settings WHERE key = 'schema_version'");
  EXPECT_EQ(tracker.rules.include, std::vector<std::string>{"trk_*"});
  EXPECT_EQ(tracker.rules.exclude,
            (std::vector<std::string>{"trk_log*", "trk_debug_*", "trk_search_cache"}));
  EXPECT_EQ(tracker.rules.metadata.size(), 6u);
  EXPECT_EQ(tracker.rules.metadata.back(), "trk_reports");
  EXPECT_TRUE(tracker.rules.default_excludes);
  EXPECT_EQ(tracker.rules.large_table_bytes, 512 * kMiB);
  EXPECT_EQ(tracker.rules.large_tables, LargeTablePolicy::kAsk);

  ASSERT_EQ(config.instances.size(), 2u);
  const InstanceConfig& prod = config.instances.at("prod");
  EXPECT_EQ(prod.name, "prod");
  EXPECT_EQ(prod.profile, "tracker");
  EXPECT_EQ(prod.account, "acme");
  EXPECT_EQ(prod.database, "postgresql://backup@127.0.0.1/tracker_prod");
  EXPECT_EQ(prod.files, "/srv/tracker/prod/attachments");

  const InstanceConfig& dev = config.instances.at("dev");
  EXPECT_EQ(dev.profile, "default");
  EXPECT_EQ(dev.account, "default");
  EXPECT_EQ(dev.database, "sqlite:///etc/lifeboat/dev/app.db");
  EXPECT_EQ(dev.files, "/etc/lifeboat/dev/files");
  const ProfileConfig& builtin = config.profiles.at("default");
  EXPECT_EQ(builtin.name, "default");
  EXPECT_EQ(builtin.rules.include, std::vector<std::string>{"*"});
  EXPECT_TRUE(builtin.rules.default_excludes);
  EXPECT_FALSE(builtin.version_query.has_value());
}

TEST(ParseConfigTest, EmptyFileGivesDefaults) {
  Config config = Parse("");
  EXPECT_FALSE(config.repository.has_value());
  EXPECT_FALSE(config.password_file.has_value());
  EXPECT_EQ(config.restore_window_nanos, 7 * kNanosPerDay);
  EXPECT_TRUE(config.profiles.empty());
  EXPECT_TRUE(config.instances.empty());
}

TEST(ParseConfigTest, RelativePathsResolveAgainstTheConfigDirectory) {
  Config config = Parse(R"(
repository = "backups"
password_file = "../secrets/key"
[instance.a]
database = "app.db"
files = "./files/"
[instance.b]
database = "/srv/b.sqlite3"
)",
                        "conf/lifeboat.toml");
  EXPECT_EQ(config.repository, "conf/backups");
  EXPECT_EQ(config.password_file, "secrets/key");
  EXPECT_EQ(config.instances.at("a").database, "sqlite:conf/app.db");
  EXPECT_EQ(config.instances.at("a").files, "conf/files/");
  EXPECT_EQ(config.instances.at("b").database, "sqlite:///srv/b.sqlite3");
}

TEST(ParseConfigTest, NameWithoutDirectoryKeepsPathsRelative) {
  Config config = Parse(R"(
repository = "backups"
[instance.a]
database = "sqlite://data/app.db"
)");
  EXPECT_EQ(config.repository, "backups");
  EXPECT_EQ(config.instances.at("a").database, "sqlite:data/app.db");
}

TEST(ParseConfigTest, RepositoryUrlsStayAsGiven) {
  Config config = Parse(R"(repository = "s3://bucket/prefix")", "/etc/lifeboat/lifeboat.toml");
  EXPECT_EQ(config.repository, "s3://bucket/prefix");
}

TEST(ParseConfigTest, ReadsEveryProfileSetting) {
  Config config = Parse(R"(
restore_window = "1d12h"
[profile.app]
include = []
default_excludes = false
large_table_bytes = 1048576
large_tables = "EXCLUDE"
[profile.other]
large_table_bytes = "1.5GiB"
large_tables = "include"
)");
  EXPECT_EQ(config.restore_window_nanos, kNanosPerDay + 12 * kNanosPerHour);
  const SelectionRules& app = config.profiles.at("app").rules;
  EXPECT_TRUE(app.include.empty());
  EXPECT_FALSE(app.default_excludes);
  EXPECT_EQ(app.large_table_bytes, kMiB);
  EXPECT_EQ(app.large_tables, LargeTablePolicy::kExclude);
  const SelectionRules& other = config.profiles.at("other").rules;
  EXPECT_EQ(other.include, std::vector<std::string>{"*"});
  EXPECT_EQ(other.large_table_bytes, kGiB + kGiB / 2);
  EXPECT_EQ(other.large_tables, LargeTablePolicy::kInclude);
}

TEST(ParseConfigTest, InlineTablesWork) {
  Config config = Parse(R"(
profile.app = { include = ["app_*"] }
instance.prod = { profile = "app", database = "/srv/app.db" }
)");
  EXPECT_EQ(config.instances.at("prod").profile, "app");
  EXPECT_EQ(config.profiles.at("app").rules.include, std::vector<std::string>{"app_*"});
}

TEST(ParseConfigTest, ExplicitDefaultProfileIsTheBuiltInOne) {
  Config config = Parse(R"(
[instance.a]
profile = "default"
database = "a.db"
)");
  EXPECT_EQ(config.profiles.at("default").rules.include, std::vector<std::string>{"*"});
}

TEST(ParseConfigTest, UserDefinedDefaultProfileWins) {
  Config config = Parse(R"(
[profile.default]
include = ["app_*"]
[instance.a]
database = "a.db"
)");
  EXPECT_EQ(config.profiles.at("default").rules.include, std::vector<std::string>{"app_*"});
}

TEST(ParseConfigTest, UnusedBuiltInProfileIsNotAdded) {
  Config config = Parse(R"(
[profile.app]
[instance.a]
profile = "app"
database = "a.db"
)");
  EXPECT_FALSE(config.profiles.contains("default"));
}

TEST(ParseConfigErrorTest, UnknownProfileKeySuggestsTheClosest) {
  EXPECT_EQ(Error(R"(
repository = "/var/backups/lifeboat"
password_file = "/etc/lifeboat/key"
restore_window = "7d"

[instance.prod]
profile = "tracker"
database = "/srv/app.db"

[profile.tracker]
version_query = "SELECT 1"

includes = ["trk_*"]
)"),
            "lifeboat.toml:12: unknown key 'includes' in [profile.tracker] (did you mean "
            "'include'?)");
}

TEST(ParseConfigErrorTest, SuggestionsCatchSwapsAndCase) {
  EXPECT_EQ(Error(R"(
[profile.t]
inlcude = ["x"]
)"),
            "lifeboat.toml:2: unknown key 'inlcude' in [profile.t] (did you mean 'include'?)");
  EXPECT_EQ(Error("Repository = \"/r\"\n"),
            "lifeboat.toml:1: unknown key 'Repository' at the top level (did you mean "
            "'repository'?)");
  EXPECT_EQ(Error(R"(
[instance.prod]
databse = "/srv/app.db"
)"),
            "lifeboat.toml:2: unknown key 'databse' in [instance.prod] (did you mean "
            "'database'?)");
}

TEST(ParseConfigErrorTest, UnknownKeyWithoutSuggestionListsKnownKeys) {
  EXPECT_EQ(Error(R"(
[instance.prod]
database = "/srv/app.db"
url = "x"
)"),
            "lifeboat.toml:3: unknown key 'url' in [instance.prod] (known keys: profile, "
            "account, database, files)");
  EXPECT_EQ(Error("compression = \"zstd\"\n"),
            "lifeboat.toml:1: unknown key 'compression' at the top level (known keys: "
            "repository, password_file, restore_window, profile, instance)");
}

TEST(ParseConfigErrorTest, KeyInTheWrongTableSaysWhereItBelongs) {
  EXPECT_EQ(Error("include = [\"trk_*\"]\n"),
            "lifeboat.toml:1: unknown key 'include' at the top level (it belongs in a "
            "[profile.NAME] table)");
  EXPECT_EQ(Error(R"(
[profile.t]
database = "x.db"
)"),
            "lifeboat.toml:2: unknown key 'database' in [profile.t] (it belongs in an "
            "[instance.NAME] table)");
}

TEST(ParseConfigErrorTest, LargeTablesMustBeAKnownPolicy) {
  EXPECT_EQ(Error(R"(
repository = "/r"

[profile.tracker]
include = ["trk_*"]
large_table_bytes = "512MiB"

large_tables = "maybe"
)"),
            "lifeboat.toml:7: large_tables must be one of include, exclude, ask (found "
            "'maybe')");
  EXPECT_EQ(Error("[profile.t]\nlarge_tables = true\n"),
            "lifeboat.toml:2: large_tables must be one of include, exclude, ask (found a "
            "boolean)");
}

TEST(ParseConfigErrorTest, RestoreWindowMustBeADuration) {
  EXPECT_EQ(Error(R"(
repository = "/r"
password_file = "/k"
restore_window = "7x"
)"),
            "lifeboat.toml:3: restore_window: duration '7x': unknown unit 'x' (use w, d, h, m, "
            "s, ms, us or ns), such as \"7d\", \"12h\", \"30m\" or \"1d12h\"");
  EXPECT_EQ(Error("restore_window = 7\n"),
            "lifeboat.toml:1: restore_window must be a duration such as \"7d\" (found an "
            "integer)");
  EXPECT_THAT(Error("restore_window = \"0\"\n"),
              StartsWith("lifeboat.toml:1: restore_window: a window of 0 would refuse"));
}

TEST(ParseConfigErrorTest, SyntaxErrorsGiveLineAndColumn) {
  std::string message = Error(R"(
repository = "/r"
[profile.t]
include = ["trk_*"
[instance.prod]
)");
  EXPECT_THAT(message, StartsWith("lifeboat.toml:4:1: TOML syntax error: ")) << message;

  message = Error("repository = /var/backups\n");
  EXPECT_THAT(message, StartsWith("lifeboat.toml:1:14: TOML syntax error: ")) << message;
}

TEST(ParseConfigErrorTest, DuplicateKeyIsASyntaxError) {
  std::string message = Error(R"(
repository = "/a"
repository = "/b"
)");
  EXPECT_THAT(message, StartsWith("lifeboat.toml:2:")) << message;
  EXPECT_THAT(message, HasSubstr("TOML syntax error")) << message;
}

TEST(ParseConfigErrorTest, InstanceNamingAnUndefinedProfile) {
  EXPECT_EQ(Error(R"(
repository = "/var/backups/lifeboat"
password_file = "/etc/lifeboat/key"
restore_window = "7d"

[profile.tracker]
version_query = "SELECT value FROM trk_app_settings WHERE key = 'schema_version'"
include  = ["trk_*"]
exclude  = ["trk_log*", "trk_debug_*", "trk_search_cache"]
metadata = ["trk_business_areas", "trk_projects"]
large_table_bytes = "512MiB"
large_tables = "ask"

# Production

[instance.prod]
account  = "acme"
database = "postgresql://backup@127.0.0.1/tracker_prod"
files    = "/srv/tracker/prod/attachments"

profile  = "trackr"
)"),
            "lifeboat.toml:20: instance 'prod' uses profile 'trackr', which is not defined "
            "(profiles: tracker)");
}

TEST(ParseConfigErrorTest, InstanceNamingAProfileWhenNoneAreDefined) {
  EXPECT_EQ(Error(R"(
[instance.prod]
profile = "tracker"
database = "/srv/app.db"
)"),
            "lifeboat.toml:2: instance 'prod' uses profile 'tracker', which is not defined (no "
            "profiles are defined: add [profile.tracker], or remove the profile key to use the "
            "built-in default)");
}

TEST(ParseConfigErrorTest, MissingDatabaseNamesTheTablesLine) {
  EXPECT_EQ(Error(R"(
repository = "/r"

[instance.prod]
account = "acme"
files = "/srv/files"
)"),
            "lifeboat.toml:3: [instance.prod] has no database: add database = "
            "\"sqlite:///path/to/app.db\" or a postgresql:// URL");
  EXPECT_THAT(Error("\ninstance.dev = { account = \"a\" }\n"),
              StartsWith("lifeboat.toml:1: [instance.dev] has no database"));
}

TEST(ParseConfigErrorTest, BadDatabaseLocation) {
  EXPECT_EQ(Error(R"(
[instance.prod]
database = "prod"
)"),
            "lifeboat.toml:2: database: 'prod' is not a database location: write "
            "sqlite:///absolute/path.db, sqlite:relative/path.db, a file path ending in .db, "
            ".sqlite or .sqlite3, or postgresql://user@host/dbname");
  EXPECT_THAT(Error("[instance.p]\ndatabase = \"mysql://root:pw@h/db\"\n"),
              StartsWith("lifeboat.toml:2: database: 'mysql://root:***@h/db' uses the "
                         "unsupported scheme 'mysql'"));
}

TEST(ParseConfigErrorTest, PatternListsMustBeArraysOfStrings) {
  EXPECT_EQ(Error(R"(
[profile.t]
include = "trk_*"
)"),
            "lifeboat.toml:2: include must be an array of strings (found a string): write "
            "include = [\"trk_*\"]");
  EXPECT_EQ(Error(R"(
[profile.t]
metadata = [
  "trk_projects",
  42,
]
)"),
            "lifeboat.toml:4: metadata must be an array of strings (element 2 is an integer)");
  EXPECT_EQ(Error("[profile.t]\nexclude = { a = 1 }\n"),
            "lifeboat.toml:2: exclude must be an array of strings (found a table)");
}

TEST(ParseConfigErrorTest, BadGlobNamesTheElementsLine) {
  EXPECT_EQ(Error(R"(
[profile.t]
exclude = [
  "trk_tmp_*",
  "trk_[abc",
]
)"),
            "lifeboat.toml:4: exclude: pattern 'trk_[abc' has a '[' without a closing ']': "
            "close the set, as in 'trk_[ab]*', or write '[[]' to match a literal '['");
  EXPECT_THAT(Error("[profile.t]\ninclude = [\"\"]\n"),
              StartsWith("lifeboat.toml:2: include: pattern is empty"));
}

TEST(ParseConfigErrorTest, WrongTypes) {
  EXPECT_EQ(Error("[profile.t]\ndefault_excludes = \"no\"\n"),
            "lifeboat.toml:2: default_excludes must be true or false (found a string)");
  EXPECT_EQ(Error("[profile.t]\nlarge_table_bytes = 1.5\n"),
            "lifeboat.toml:2: large_table_bytes must be a size such as \"512MiB\" or a number "
            "of bytes (found a floating-point number)");
  EXPECT_EQ(Error("[profile.t]\nlarge_table_bytes = -1\n"),
            "lifeboat.toml:2: large_table_bytes must not be negative (found -1)");
  EXPECT_THAT(Error("[profile.t]\nlarge_table_bytes = \"512M\"\n"),
              StartsWith("lifeboat.toml:2: large_table_bytes: byte size '512M': unit 'M' is "
                         "ambiguous"));
  EXPECT_EQ(Error("repository = 5\n"),
            "lifeboat.toml:1: repository must be a string (found an integer)");
  EXPECT_EQ(Error("[instance.p]\ndatabase = \"/a.db\"\naccount = [\"a\"]\n"),
            "lifeboat.toml:3: account must be a string (found an array)");
  EXPECT_EQ(Error("[profile.t]\nversion_query = 1979-05-27\n"),
            "lifeboat.toml:2: version_query must be a string (found a date)");
}

TEST(ParseConfigErrorTest, EmptyStrings) {
  EXPECT_EQ(Error("password_file = \"\"\n"), "lifeboat.toml:1: password_file must not be empty");
  EXPECT_EQ(Error("[instance.p]\naccount = \"\"\ndatabase = \"/a.db\"\n"),
            "lifeboat.toml:2: account must not be empty");
}

TEST(ParseConfigErrorTest, SectionsMustHoldNamedTables) {
  EXPECT_EQ(Error("profile = \"tracker\"\n"),
            "lifeboat.toml:1: profile must be a table of named profiles, such as "
            "[profile.tracker] (found a string)");
  EXPECT_EQ(Error("[profile]\ninclude = [\"trk_*\"]\n"),
            "lifeboat.toml:2: 'include' in [profile] must be inside a named profile, such as "
            "[profile.tracker]");
  EXPECT_EQ(Error("[[instance]]\ndatabase = \"/a.db\"\n"),
            "lifeboat.toml:1: instance must be a table of named instances, such as "
            "[instance.prod] (found an array)");
}

TEST(ParseConfigErrorTest, NamesMustBePlain) {
  EXPECT_EQ(Error("[instance.\"my prod\"]\ndatabase = \"/a.db\"\n"),
            "lifeboat.toml:1: instance name 'my prod' may contain only letters, digits, '-' "
            "and '_'");
}

class LoadConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("lifeboat_config_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, std::string_view text) {
    std::filesystem::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  std::filesystem::path dir_;
};

TEST_F(LoadConfigTest, ReadsTheFileAndResolvesAgainstItsDirectory) {
  std::string path = Write("lifeboat.toml",
                           "repository = \"repo\"\n[instance.a]\ndatabase = "
                           "\"sqlite:a.db\"\n");
  Result<Config> config = LoadConfig(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->path, path);
  EXPECT_EQ(config->repository, (dir_ / "repo").string());
  EXPECT_EQ(config->instances.at("a").database, "sqlite://" + (dir_ / "a.db").string());
}

TEST_F(LoadConfigTest, RelativeConfigPathStillGivesAbsolutePaths) {
  std::string path = Write("lifeboat.toml",
                           "password_file = \"key\"\n[instance.a]\n"
                           "database = \"data/a.db\"\nfiles = \"files\"\n");
  std::string relative = std::filesystem::relative(path).string();
  Result<Config> config = LoadConfig(relative);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->path, relative);
  EXPECT_EQ(config->password_file, (dir_ / "key").string());
  EXPECT_EQ(config->instances.at("a").files, (dir_ / "files").string());
  const std::string& database = config->instances.at("a").database;
  EXPECT_EQ(database, "sqlite://" + (dir_ / "data/a.db").string());
  // Resolving the stored location again does not depend on the base directory.
  Result<InstanceLocation> location = ParseInstanceUrl(database, "/elsewhere");
  ASSERT_TRUE(location.ok());
  EXPECT_EQ(location->path, (dir_ / "data/a.db").string());
}

TEST_F(LoadConfigTest, ErrorsNameTheFileAsGiven) {
  std::string path = Write("bad.toml", "[profile.t]\nincludes = []\n");
  Result<Config> config = LoadConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            path + ":2: unknown key 'includes' in [profile.t] (did you mean 'include'?)");
}

TEST_F(LoadConfigTest, MissingFileIsNotFound) {
  std::string path = (dir_ / "missing.toml").string();
  Result<Config> config = LoadConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(
      config.status().message(),
      "config file " + path + " does not exist: create it, or name another file with --config");
}

TEST_F(LoadConfigTest, DirectoryIsRefused) {
  Result<Config> config = LoadConfig(dir_.string());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("is a directory"));
}

}  // namespace
}  // namespace lifeboat
