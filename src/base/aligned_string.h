// AlignedString: a byte string whose storage starts on a 4 KiB boundary.
//
// Writes that bypass the page cache (O_DIRECT) need the buffer's address aligned to the
// device's block size; a pack is filled in an AlignedString so that LocalObjectStore can hand
// its bytes to the device as they are, without copying them into an aligned buffer first.
// It is a std::basic_string in every other way, and converts to std::string_view.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>

namespace lifeboat {

inline constexpr size_t kStorageAlignment = 4096;

template <class T>
struct StorageAlignedAllocator {
  using value_type = T;

  StorageAlignedAllocator() = default;
  template <class U>
  StorageAlignedAllocator(const StorageAlignedAllocator<U>& /*other*/) {}

  T* allocate(size_t n) {
    // aligned_alloc wants a size that is a multiple of the alignment.
    const size_t bytes =
        (n * sizeof(T) + kStorageAlignment - 1) / kStorageAlignment * kStorageAlignment;
    void* p = std::aligned_alloc(kStorageAlignment, bytes);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t /*n*/) { std::free(p); }

  template <class U>
  bool operator==(const StorageAlignedAllocator<U>& /*other*/) const {
    return true;
  }
};

using AlignedString =
    std::basic_string<char, std::char_traits<char>, StorageAlignedAllocator<char>>;

}  // namespace lifeboat
