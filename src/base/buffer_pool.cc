#include "base/buffer_pool.h"

namespace lifeboat {

std::string BufferPool::Take() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!spare_.empty()) {
      std::string buffer = std::move(spare_.back());
      spare_.pop_back();
      return buffer;
    }
  }
  std::string buffer;
  buffer.reserve(capacity_);
  return buffer;
}

void BufferPool::Give(std::string buffer) {
  if (buffer.capacity() < capacity_ || buffer.capacity() > 2 * capacity_) return;
  buffer.clear();
  std::lock_guard<std::mutex> lock(mu_);
  if (spare_.size() < max_spare_) spare_.push_back(std::move(buffer));
}

}  // namespace lifeboat
