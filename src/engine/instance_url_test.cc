#include "engine/instance_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lifeboat {
namespace {

using ::testing::HasSubstr;

InstanceLocation Parse(std::string_view text, const std::string& base_dir = "") {
  Result<InstanceLocation> r = ParseInstanceUrl(text, base_dir);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : InstanceLocation{};
}

std::string Error(std::string_view text) {
  Result<InstanceLocation> r = ParseInstanceUrl(text, "/etc/lifeboat");
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? r->path : "");
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ParseInstanceUrlTest, SqliteWithThreeSlashesIsAbsolute) {
  InstanceLocation l = Parse("sqlite:///srv/tracker/app.db", "/etc/lifeboat");
  EXPECT_EQ(l.scheme, "sqlite");
  EXPECT_EQ(l.path, "/srv/tracker/app.db");
  EXPECT_EQ(l.url, "sqlite:///srv/tracker/app.db");
}

TEST(ParseInstanceUrlTest, SqliteRelativeFormsResolveAgainstBaseDir) {
  EXPECT_EQ(Parse("sqlite:app.db", "/etc/lifeboat").path, "/etc/lifeboat/app.db");
  EXPECT_EQ(Parse("sqlite://data/app.db", "/etc/lifeboat").path, "/etc/lifeboat/data/app.db");
  EXPECT_EQ(Parse("sqlite:../srv/app.db", "/etc/lifeboat").path, "/etc/srv/app.db");
  EXPECT_EQ(Parse("sqlite:/abs/app.db", "/etc/lifeboat").path, "/abs/app.db");
  EXPECT_EQ(Parse("sqlite:app.db", "conf").path, "conf/app.db");
}

TEST(ParseInstanceUrlTest, EmptyBaseDirKeepsRelativePaths) {
  EXPECT_EQ(Parse("sqlite:app.db").path, "app.db");
  EXPECT_EQ(Parse("./data/app.db").path, "data/app.db");
}

TEST(ParseInstanceUrlTest, SchemeIsCaseInsensitive) {
  EXPECT_EQ(Parse("SQLite:///a.db").path, "/a.db");
  EXPECT_EQ(Parse("PostgreSQL://h/db").scheme, "postgresql");
}

TEST(ParseInstanceUrlTest, PlainPathsAreSqlite) {
  EXPECT_EQ(Parse("/srv/app.db").path, "/srv/app.db");
  EXPECT_EQ(Parse("/srv/data/app", "/x").path, "/srv/data/app");
  EXPECT_EQ(Parse("app.sqlite", "/etc/lifeboat").path, "/etc/lifeboat/app.sqlite");
  EXPECT_EQ(Parse("APP.SQLITE3", "/b").path, "/b/APP.SQLITE3");
  EXPECT_EQ(Parse("data/app", "/b").path, "/b/data/app");
  EXPECT_EQ(Parse("data/app", "/b").scheme, "sqlite");
  EXPECT_EQ(Parse("/srv/./x/../app.db").path, "/srv/app.db");
}

TEST(ParseInstanceUrlTest, PostgresUrlsAreKeptAsGiven) {
  InstanceLocation l = Parse("postgresql://backup@127.0.0.1/tracker_prod", "/etc/lifeboat");
  EXPECT_EQ(l.scheme, "postgresql");
  EXPECT_EQ(l.url, "postgresql://backup@127.0.0.1/tracker_prod");
  EXPECT_EQ(l.path, "");
  InstanceLocation alias = Parse("postgres://u:p@h:5433/db?sslmode=require");
  EXPECT_EQ(alias.scheme, "postgresql");
  EXPECT_EQ(alias.url, "postgres://u:p@h:5433/db?sslmode=require");
}

TEST(ParseInstanceUrlTest, RefusesWhatIsNotALocation) {
  EXPECT_EQ(Error("prod"),
            "'prod' is not a database location: write sqlite:///absolute/path.db, "
            "sqlite:relative/path.db, a file path ending in .db, .sqlite or .sqlite3, or "
            "postgresql://user@host/dbname");
  EXPECT_THAT(Error(""), HasSubstr("database location is empty"));
  EXPECT_THAT(Error("sqlite:"), HasSubstr("names no SQLite file"));
  EXPECT_THAT(Error("sqlite://"), HasSubstr("names no SQLite file"));
  EXPECT_THAT(Error("~/app.db"), HasSubstr("'~' is not expanded"));
}

TEST(ParseInstanceUrlTest, UnsupportedSchemeIsNamedWithoutItsPassword) {
  std::string message = Error("mysql://root:hunter2@db/app");
  EXPECT_THAT(message, HasSubstr("'mysql://root:***@db/app' uses the unsupported scheme 'mysql'"));
  EXPECT_THAT(message, HasSubstr("postgresql://user@host/dbname"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("hunter2")));
}

TEST(RedactUrlTest, HidesThePasswordInUserInformation) {
  EXPECT_EQ(RedactUrl("postgresql://app:s3cret@db.example/tracker"),
            "postgresql://app:***@db.example/tracker");
  EXPECT_EQ(RedactUrl("postgres://app:p@ss/w?rd@db:5432/x"), "postgres://app:***@db:5432/x");
}

TEST(RedactUrlTest, HidesPasswordParameters) {
  EXPECT_EQ(RedactUrl("postgresql://db/x?user=app&password=s3cret&sslmode=require"),
            "postgresql://db/x?user=app&password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("host=db PASSWORD=s3cret dbname=x"), "host=db PASSWORD=*** dbname=x");
}

TEST(RedactUrlTest, LeavesTextWithoutPasswordsAlone) {
  EXPECT_EQ(RedactUrl("postgresql://backup@127.0.0.1/tracker_prod"),
            "postgresql://backup@127.0.0.1/tracker_prod");
  EXPECT_EQ(RedactUrl("postgresql://db:5432/x"), "postgresql://db:5432/x");
  EXPECT_EQ(RedactUrl("sqlite:///srv/app.db"), "sqlite:///srv/app.db");
  EXPECT_EQ(RedactUrl("postgresql://db/x?oldpassword=y"), "postgresql://db/x?oldpassword=y");
}

}  // namespace
}  // namespace lifeboat
