// BufferPool: byte buffers handed back and forth between threads without reallocating them.
//
// A pipeline that fills many buffers of the same size (chunks waiting for a worker, packs being
// filled) would otherwise allocate and free one per item; for buffers of the size of a pack the
// allocator maps fresh pages each time, and touching them costs a page fault per 4 KiB. The
// pool keeps up to `max_spare` returned buffers, cleared but with their capacity, and gives
// them out again.
//
// Thread-safety: Take and Give may be called from any number of threads.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace lifeboat {

class BufferPool {
 public:
  // Buffers come out with at least `capacity` bytes reserved.
  BufferPool(size_t capacity, size_t max_spare) : capacity_(capacity), max_spare_(max_spare) {}

  // An empty buffer with at least capacity() bytes reserved.
  std::string Take();
  // Returns a buffer to the pool (dropped when the pool holds max_spare already, or when it
  // grew past twice the capacity).
  void Give(std::string buffer);

  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  const size_t max_spare_;
  std::mutex mu_;
  std::vector<std::string> spare_;
};

}  // namespace lifeboat
