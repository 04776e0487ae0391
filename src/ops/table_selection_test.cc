#include "ops/table_selection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lifeboat {
namespace {

using ::testing::HasSubstr;

const TableDecision& Find(const std::vector<TableDecision>& decisions, std::string_view name) {
  for (const TableDecision& d : decisions) {
    if (d.name == name) return d;
  }
  ADD_FAILURE() << "no decision for " << name;
  static const TableDecision kMissing;
  return kMissing;
}

TEST(GlobMatchesTest, SupportsStarQuestionMarkAndSets) {
  EXPECT_TRUE(GlobMatches("trk_*", "trk_projects"));
  EXPECT_TRUE(GlobMatches("trk_*", "trk_"));
  EXPECT_FALSE(GlobMatches("trk_*", "xtrk_projects"));
  EXPECT_TRUE(GlobMatches("trk_?", "trk_a"));
  EXPECT_FALSE(GlobMatches("trk_?", "trk_ab"));
  EXPECT_TRUE(GlobMatches("trk_[ab]*", "trk_business_areas"));
  EXPECT_FALSE(GlobMatches("trk_[ab]*", "trk_fields"));
  EXPECT_TRUE(GlobMatches("trk_[!ab]*", "trk_fields"));
  EXPECT_TRUE(GlobMatches("v[0-9]", "v7"));
}

TEST(GlobMatchesTest, IsCaseInsensitive) {
  EXPECT_TRUE(GlobMatches("TRK_*", "trk_projects"));
  EXPECT_TRUE(GlobMatches("trk_*", "TRK_Projects"));
  EXPECT_TRUE(GlobMatches("trk_projects", "Trk_Projects"));
}

TEST(GlobMatchesTest, StarCrossesSlashesInSapStyleNames) {
  EXPECT_TRUE(GlobMatches("/NEPTUNE/*", "/NEPTUNE/LOG"));
  EXPECT_TRUE(GlobMatches("*LOG", "/NEPTUNE/LOG"));
  EXPECT_TRUE(GlobMatches("*", "/NEPTUNE/APP/SUB"));
  EXPECT_TRUE(GlobMatches("/neptune/?og", "/NEPTUNE/LOG"));
}

TEST(ValidateGlobTest, AcceptsUsablePatterns) {
  for (std::string_view p : {"*", "trk_*", "trk_[ab]*", "trk_[]]", "trk_[!x]", "[[]x",
                             "x[[:digit:]]", "/NEPTUNE/*", "a\\*b"}) {
    EXPECT_TRUE(ValidateGlob(p).ok()) << p << ": " << ValidateGlob(p).ToString();
  }
}

TEST(ValidateGlobTest, RefusesUnbalancedBracket) {
  Status s = ValidateGlob("trk_[abc");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "pattern 'trk_[abc' has a '[' without a closing ']': close the set, as in "
            "'trk_[ab]*', or write '[[]' to match a literal '['");
  EXPECT_FALSE(ValidateGlob("x[[:digit:").ok());
  EXPECT_FALSE(ValidateGlob("[").ok());
  EXPECT_FALSE(ValidateGlob("a[]").ok());  // ']' right after '[' is a member, not the end
}

TEST(ValidateGlobTest, RefusesEmptyPatternAndTrailingBackslash) {
  EXPECT_THAT(ValidateGlob("").message(), HasSubstr("pattern is empty"));
  EXPECT_THAT(ValidateGlob("trk\\").message(), HasSubstr("ends with a backslash"));
}

TEST(DefaultExclusionReasonTest, ExcludesLogAndDebugTables) {
  for (std::string_view t : {"trk_log", "trk_log_api", "trk_logs", "trk_debug_trace", "trk_dbg",
                             "TRK_LOG", "/NEPTUNE/DBG_TRC", "/NEPTUNE/LOG", "app.trace"}) {
    EXPECT_EQ(DefaultExclusionReason(t), "excluded by default: log or debug table") << t;
  }
}

TEST(DefaultExclusionReasonTest, ExcludesSearchCaches) {
  for (std::string_view t : {"trk_search_cache", "trk_searchcache", "/NEPTUNE/SRCHSCR",
                             "TRK_SEARCH_RESULT_CACHE", "srch_index"}) {
    EXPECT_EQ(DefaultExclusionReason(t), "excluded by default: search cache") << t;
  }
}

TEST(DefaultExclusionReasonTest, KeepsTablesThatOnlyContainTheLetters) {
  for (std::string_view t : {"trk_login_attempts", "trk_catalog", "trk_blog", "trk_search",
                             "trk_cache", "trk_debugger_settings", "trk_projects", "logbook"}) {
    EXPECT_EQ(DefaultExclusionReason(t), std::nullopt) << t;
  }
}

TEST(SelectTablesTest, IncludesWhatMatchesAndSaysWhyOthersAreLeftOut) {
  SelectionRules rules;
  rules.include = {"trk_*"};
  rules.exclude = {"trk_tmp_*"};
  rules.metadata = {"trk_projects", "trk_layout*"};
  std::vector<TableDecision> d = SelectTables(
      {"trk_projects", "trk_items", "trk_tmp_import", "trk_log", "other", "trk_layouts"}, rules);
  ASSERT_EQ(d.size(), 6u);
  EXPECT_EQ(d[0].name, "trk_projects");  // order is kept

  EXPECT_TRUE(Find(d, "trk_projects").included);
  EXPECT_TRUE(Find(d, "trk_projects").metadata);
  EXPECT_EQ(Find(d, "trk_projects").reason, "");

  EXPECT_TRUE(Find(d, "trk_items").included);
  EXPECT_FALSE(Find(d, "trk_items").metadata);

  EXPECT_FALSE(Find(d, "trk_tmp_import").included);
  EXPECT_EQ(Find(d, "trk_tmp_import").reason, "excluded by profile (pattern 'trk_tmp_*')");

  EXPECT_FALSE(Find(d, "trk_log").included);
  EXPECT_EQ(Find(d, "trk_log").reason, "excluded by default: log or debug table");

  EXPECT_FALSE(Find(d, "other").included);
  EXPECT_EQ(Find(d, "other").reason, "not included by profile (patterns 'trk_*')");

  EXPECT_TRUE(Find(d, "trk_layouts").metadata);
}

TEST(SelectTablesTest, DefaultRulesTakeEverythingButLogsAndCaches) {
  std::vector<TableDecision> d =
      SelectTables({"a", "b_log", "/NEPTUNE/SRCHSCR", "trk_login_attempts"}, SelectionRules{});
  EXPECT_TRUE(Find(d, "a").included);
  EXPECT_FALSE(Find(d, "b_log").included);
  EXPECT_FALSE(Find(d, "/NEPTUNE/SRCHSCR").included);
  EXPECT_EQ(Find(d, "/NEPTUNE/SRCHSCR").reason, "excluded by default: search cache");
  EXPECT_TRUE(Find(d, "trk_login_attempts").included);
}

TEST(SelectTablesTest, ExactIncludeOverridesDefaultExclusion) {
  SelectionRules rules;
  rules.include = {"trk_*", "TRK_AUDIT_LOG"};
  std::vector<TableDecision> d = SelectTables({"trk_audit_log", "trk_api_log"}, rules);
  EXPECT_TRUE(Find(d, "trk_audit_log").included);
  EXPECT_FALSE(Find(d, "trk_api_log").included);  // matched by a glob only
}

TEST(SelectTablesTest, ExcludePatternWinsOverExactInclude) {
  SelectionRules rules;
  rules.include = {"trk_audit_log"};
  rules.exclude = {"*_log"};
  std::vector<TableDecision> d = SelectTables({"trk_audit_log"}, rules);
  EXPECT_FALSE(d[0].included);
  EXPECT_EQ(d[0].reason, "excluded by profile (pattern '*_log')");
}

TEST(SelectTablesTest, DefaultExcludesCanBeTurnedOff) {
  SelectionRules rules;
  rules.default_excludes = false;
  std::vector<TableDecision> d = SelectTables({"trk_log", "trk_search_cache"}, rules);
  EXPECT_TRUE(d[0].included);
  EXPECT_TRUE(d[1].included);
}

TEST(SelectTablesTest, EmptyIncludeSelectsNothing) {
  SelectionRules rules;
  rules.include = {};
  std::vector<TableDecision> d = SelectTables({"trk_items"}, rules);
  EXPECT_FALSE(d[0].included);
  EXPECT_EQ(d[0].reason, "not included by profile (its include list is empty)");
}

TEST(SelectTablesTest, MetadataIsMarkedEvenWhenLeftOut) {
  SelectionRules rules;
  rules.include = {"trk_*"};
  rules.metadata = {"cfg_*"};
  std::vector<TableDecision> d = SelectTables({"cfg_layouts"}, rules);
  EXPECT_FALSE(d[0].included);
  EXPECT_TRUE(d[0].metadata);
}

TEST(SelectionRulesTest, DefaultsAskAboutTablesOf512MiB) {
  SelectionRules rules;
  EXPECT_EQ(rules.include, std::vector<std::string>{"*"});
  EXPECT_TRUE(rules.default_excludes);
  EXPECT_EQ(rules.large_table_bytes, uint64_t{512} * 1024 * 1024);
  EXPECT_EQ(rules.large_tables, SelectionRules::LargeTablePolicy::kAsk);
}

}  // namespace
}  // namespace lifeboat
