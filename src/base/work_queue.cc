#include "base/work_queue.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace lifeboat {

Status RunOnWorkers(size_t workers, size_t items,
                    const std::function<Status(size_t worker, size_t item)>& work) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  Status first_error;
  auto run = [&](size_t worker) {
    for (size_t item = next++; item < items && !failed; item = next++) {
      Status status = work(worker, item);
      if (status.ok()) continue;
      std::lock_guard<std::mutex> lock(error_mu);
      if (first_error.ok()) first_error = std::move(status);
      failed = true;
    }
  };
  {
    std::vector<std::jthread> threads;
    for (size_t w = 1; w < std::min(workers, items); ++w) threads.emplace_back(run, w);
    run(0);
  }
  return first_error;
}

}  // namespace lifeboat
