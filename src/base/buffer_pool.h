// BufferPool: byte buffers handed back and forth between threads without reallocating them.
//
// A pipeline that fills many buffers of the same size (chunks waiting for a worker, packs being
// filled) would otherwise allocate and free one per item; for buffers of the size of a pack the
// allocator maps fresh pages each time, and touching them costs a page fault per 4 KiB. The
// pool keeps up to `max_spare` returned buffers, cleared but with their capacity, and gives
// them out again. `Buffer` is std::string, or AlignedString for packs.
//
// Thread-safety: Take and Give may be called from any number of threads.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace lifeboat {

template <class Buffer>
class BasicBufferPool {
 public:
  // Buffers come out with at least `capacity` bytes reserved.
  BasicBufferPool(size_t capacity, size_t max_spare) : capacity_(capacity), max_spare_(max_spare) {}

  // An empty buffer with at least capacity() bytes reserved.
  Buffer Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!spare_.empty()) {
        Buffer buffer = std::move(spare_.back());
        spare_.pop_back();
        return buffer;
      }
    }
    Buffer buffer;
    buffer.reserve(capacity_);
    return buffer;
  }
  // Returns a buffer to the pool (dropped when the pool holds max_spare already, or when it
  // grew past twice the capacity).
  void Give(Buffer buffer) {
    if (buffer.capacity() < capacity_ || buffer.capacity() > 2 * capacity_) return;
    buffer.clear();
    std::lock_guard<std::mutex> lock(mu_);
    if (spare_.size() < max_spare_) spare_.push_back(std::move(buffer));
  }

  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  const size_t max_spare_;
  std::mutex mu_;
  std::vector<Buffer> spare_;
};

using BufferPool = BasicBufferPool<std::string>;

}  // namespace lifeboat
