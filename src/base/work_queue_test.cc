#include "base/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace lifeboat {
namespace {

TEST(RunOnWorkersTest, RunsEveryItemOnceOnTheGivenWorkers) {
  constexpr size_t kItems = 1000;
  std::vector<std::atomic<int>> runs(kItems);
  std::mutex mu;
  std::set<size_t> workers_seen;
  std::set<std::thread::id> threads_seen;
  const std::thread::id caller = std::this_thread::get_id();
  bool worker0_on_caller = true;
  Status status = RunOnWorkers(3, kItems, [&](size_t worker, size_t item) {
    ++runs[item];
    std::lock_guard<std::mutex> lock(mu);
    workers_seen.insert(worker);
    threads_seen.insert(std::this_thread::get_id());
    if (worker == 0 && std::this_thread::get_id() != caller) worker0_on_caller = false;
    return OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  for (size_t i = 0; i < kItems; ++i) EXPECT_EQ(runs[i].load(), 1) << "item " << i;
  for (size_t w : workers_seen) EXPECT_LT(w, 3u);
  EXPECT_TRUE(worker0_on_caller);
  EXPECT_LE(threads_seen.size(), 3u);
}

TEST(RunOnWorkersTest, WorkersRunAtTheSameTime) {
  // Each of two items waits until the other has started: only two threads can finish this.
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  Status status = RunOnWorkers(2, 2, [&](size_t, size_t) {
    std::unique_lock<std::mutex> lock(mu);
    ++started;
    cv.notify_all();
    if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return started == 2; })) {
      return InternalError("the other worker never started");
    }
    return OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST(RunOnWorkersTest, TheFirstErrorStopsFurtherItemsAndIsReturned) {
  std::vector<size_t> ran;
  Status status = RunOnWorkers(1, 10, [&](size_t, size_t item) {
    ran.push_back(item);
    return item == 3 ? NotFoundError("item 3 is missing") : OkStatus();
  });
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "item 3 is missing");
  EXPECT_EQ(ran, (std::vector<size_t>{0, 1, 2, 3}));
}

TEST(RunOnWorkersTest, NoItemsRunsNothingAndMoreWorkersThanItemsIsFine) {
  int calls = 0;
  EXPECT_TRUE(RunOnWorkers(4, 0, [&](size_t, size_t) {
                ++calls;
                return OkStatus();
              }).ok());
  EXPECT_EQ(calls, 0);
  std::atomic<int> runs{0};
  EXPECT_TRUE(RunOnWorkers(8, 2, [&](size_t worker, size_t) {
                EXPECT_LT(worker, 2u);
                ++runs;
                return OkStatus();
              }).ok());
  EXPECT_EQ(runs.load(), 2);
}

}  // namespace
}  // namespace lifeboat
