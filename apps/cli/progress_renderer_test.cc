#include "progress_renderer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace lifeboat::cli {
namespace {

// The plain lines a renderer writes (stderr is not a terminal here) for the given updates.
std::string Render(const std::vector<Progress>& updates) {
  char* buffer = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&buffer, &size);
  {
    ProgressRenderer renderer(out, /*quiet=*/false);
    for (const Progress& p : updates) renderer.OnProgress(p);
  }
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

Progress At(double seconds, uint64_t done, uint64_t total, uint64_t items_done) {
  Progress p;
  p.operation = "restore";
  p.bytes_done = done;
  p.bytes_total = total;
  p.items_done = items_done;
  p.items_total = 9;
  p.elapsed_nanos = static_cast<int64_t>(seconds * 1e9);
  return p;
}

constexpr uint64_t kGiB = uint64_t{1} << 30;

TEST(ProgressRendererTest, ShowsNoRateOrEstimateFromTheFirstBytes) {
  // A tiny first table done in 80 ms once gave "476 B/s, ETA 77d14h".
  const std::string text = Render({At(0.08, 38, 3 * kGiB, 1)});
  EXPECT_NE(text.find("restore: 1/9 items"), std::string::npos) << text;
  EXPECT_EQ(text.find("/s"), std::string::npos) << text;
  EXPECT_EQ(text.find("ETA"), std::string::npos) << text;
}

TEST(ProgressRendererTest, ShowsTheRateAfterASecondAndTheEstimateAfterOnePercent) {
  const std::string text = Render({At(2, 10 << 20, 3 * kGiB, 1), At(8, 1 * kGiB, 3 * kGiB, 2)});
  const size_t second_line = text.find('\n') + 1;
  const std::string first = text.substr(0, second_line);
  const std::string second = text.substr(second_line);
  EXPECT_NE(first.find("5 MiB/s"), std::string::npos) << first;
  EXPECT_EQ(first.find("ETA"), std::string::npos) << first;  // 0.3 % done
  EXPECT_NE(second.find("ETA 16s"), std::string::npos) << second;
}

TEST(ProgressRendererTest, EstimatesASlowStartAfterTenSeconds) {
  const std::string text = Render({At(12, 12 << 20, 3 * kGiB, 1)});
  EXPECT_NE(text.find("ETA "), std::string::npos) << text;
}

}  // namespace
}  // namespace lifeboat::cli
