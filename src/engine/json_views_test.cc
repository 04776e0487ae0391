#include "engine/json_views.h"

#include <gtest/gtest.h>

namespace lifeboat {
namespace {

TEST(ManifestDetailsTest, EachTableSaysHowManyPartsItWasReadIn) {
  Manifest m;
  m.id = std::string(64, 'a');
  TableEntry whole;
  whole.name = "public.settings";
  whole.kind = "metadata";
  whole.rows = 12;
  whole.bytes = 900;
  TableEntry parted;
  parted.name = "public.comments";
  parted.kind = "data";
  parted.rows = 30'000;
  parted.bytes = 200'000'000;
  parted.parts = {{0, 0}, {8192, 67'000'000}, {16384, 134'000'000}};
  m.tables = {whole, parted};

  const nlohmann::json details = ManifestDetails(m, /*restore_window_nanos=*/0);
  ASSERT_EQ(details["tables"].size(), 2u);
  EXPECT_EQ(details["tables"][0]["name"], "public.settings");
  EXPECT_EQ(details["tables"][0]["parts"], 1);
  EXPECT_EQ(details["tables"][1]["parts"], 3);
  EXPECT_EQ(details["tables"][1]["bytes"], 200'000'000);
  EXPECT_EQ(details["rows"], 30'012);
}

}  // namespace
}  // namespace lifeboat
