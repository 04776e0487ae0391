#include "base/subprocess.h"

#include <gtest/gtest.h>

namespace lifeboat {
namespace {

TEST(SubprocessTest, StreamsStdoutAndPassesTheEnvironment) {
  std::string out;
  Status status = RunProcess(
      {"sh", "-c", "printf '%s' \"$LIFEBOAT_TEST_VALUE\"; printf ' done'"},
      {"LIFEBOAT_TEST_VALUE=secret value"},
      [&](std::string_view data) {
        out.append(data);
        return OkStatus();
      },
      nullptr);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(out, "secret value done");
}

TEST(SubprocessTest, AFailingProgramReportsItsExitStatusAndStderr) {
  Status status = RunProcess(
      {"sh", "-c", "echo 'no such table' >&2; exit 3"}, {},
      [](std::string_view) { return OkStatus(); }, nullptr);
  ASSERT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_NE(status.message().find("exit status 3"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("no such table"), std::string::npos) << status.message();
}

TEST(SubprocessTest, AMissingProgramIsNotFound) {
  Status status = RunProcess(
      {"lifeboat-no-such-program"}, {}, [](std::string_view) { return OkStatus(); }, nullptr);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
}

TEST(SubprocessTest, ACallbackErrorStopsTheProgram) {
  Status status = RunProcess(
      {"sh", "-c", "while :; do echo line; done"}, {},
      [](std::string_view) { return DataLossError("stop here"); }, nullptr);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.ToString();
}

}  // namespace
}  // namespace lifeboat
