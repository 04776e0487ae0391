// CancellationToken: how a caller (a signal handler, a lost lease, the server) asks a running
// operation to stop. Long loops in the engine poll Check() and return its status.
//
// Thread-safety: Cancel() and Check() may be called concurrently from any thread.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "lifeboat/status.h"

namespace lifeboat {

class CancellationToken {
 public:
  // The first reason wins; later calls are ignored.
  void Cancel(Status reason);
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  // OK while not cancelled, else the reason given to Cancel().
  Status Check() const;

 private:
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  Status reason_;
};

}  // namespace lifeboat
