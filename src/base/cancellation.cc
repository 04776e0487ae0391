#include "base/cancellation.h"

namespace lifeboat {

void CancellationToken::Cancel(Status reason) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_.load()) return;
  if (reason.ok()) reason = CancelledError("operation cancelled");
  reason_ = std::move(reason);
  cancelled_.store(true, std::memory_order_release);
}

Status CancellationToken::Check() const {
  if (!cancelled()) return OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  return reason_;
}

}  // namespace lifeboat
