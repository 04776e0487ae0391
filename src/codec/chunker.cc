#include "codec/chunker.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <string>

#include "base/encoding.h"
#include "codec/hash.h"

namespace lifeboat {
namespace {

constexpr uint32_t kMinMinSize = 64;
constexpr uint32_t kMinAvgSize = 256;
constexpr uint32_t kMaxAvgSize = 16u << 20;
constexpr uint32_t kMaxMaxSize = 64u << 20;

// `bits` one-bits spread evenly over the high 32 bits of the word, from the top:
// bit 63 - floor(i * 32 / bits) for i = 0 .. bits - 1 (FORMAT.md §5). High bits are used
// because bit k of a gear hash depends on the last k + 1 bytes, so every tested bit depends on
// at least 33 bytes of content.
constexpr uint64_t SpreadMask(int bits) {
  uint64_t mask = 0;
  for (int i = 0; i < bits; ++i) mask |= uint64_t{1} << (63 - (i * 32) / bits);
  return mask;
}

// The masks of the default average size (2^16), as FORMAT.md §5 lists them.
static_assert(SpreadMask(18) == 0xd5aad5aa00000000);  // mask_s, 18 bits
static_assert(SpreadMask(14) == 0xaa54aa5400000000);  // mask_l, 14 bits

}  // namespace

Status ValidateChunkerParams(const ChunkerParams& params) {
  auto describe = [&] {
    return "chunker sizes min " + std::to_string(params.min_size) + ", avg " +
           std::to_string(params.avg_size) + ", max " + std::to_string(params.max_size);
  };
  if (!std::has_single_bit(params.avg_size) || params.avg_size < kMinAvgSize ||
      params.avg_size > kMaxAvgSize) {
    return InvalidArgumentError(describe() + ": avg must be a power of two from " +
                                std::to_string(kMinAvgSize) + " to " + std::to_string(kMaxAvgSize));
  }
  if (params.min_size < kMinMinSize) {
    return InvalidArgumentError(describe() + ": min must be at least " +
                                std::to_string(kMinMinSize));
  }
  if (params.max_size > kMaxMaxSize) {
    return InvalidArgumentError(describe() + ": max must be at most " +
                                std::to_string(kMaxMaxSize));
  }
  if (!(params.min_size < params.avg_size && params.avg_size < params.max_size)) {
    return InvalidArgumentError(describe() + ": need min < avg < max");
  }
  return OkStatus();
}

GearTable GearTable::FromKey(std::string_view chunker_key) {
  Hmac256 hmac(chunker_key);
  GearTable table;
  std::string message = "gear";
  message.push_back('\0');
  for (int i = 0; i < 256; ++i) {
    message.back() = static_cast<char>(i);
    table.t_[i] = DecodeFixed64(hmac.Compute(message).data());
  }
  return table;
}

Chunker::Chunker(const ChunkerParams& params, const GearTable* gear)
    : gear_(gear),
      min_size_(params.min_size),
      avg_size_(params.avg_size),
      max_size_(params.max_size) {
  assert(ValidateChunkerParams(params).ok());
  assert(gear != nullptr);
  int avg_bits = std::countr_zero(params.avg_size);
  mask_s_ = MaskS(avg_bits);
  mask_l_ = MaskL(avg_bits);
}

uint64_t Chunker::MaskS(int avg_bits) {
  return SpreadMask(avg_bits + 2);
}
uint64_t Chunker::MaskL(int avg_bits) {
  return SpreadMask(avg_bits - 2);
}

void Chunker::Reset() {
  pos_ = 0;
  hash_ = 0;
}

size_t Chunker::Next(std::string_view data, bool* cut) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const size_t n = data.size();
  const size_t start = pos_;  // chunk offset of data[0]
  const GearTable& gear = *gear_;
  uint64_t h = hash_;
  size_t i = 0;

  // Offsets below min_size are never hashed: no cut can fall there.
  if (start < min_size_) i = std::min<size_t>(n, min_size_ - start);

  // Offsets min_size .. avg_size - 1: the stricter mask, so few chunks end early.
  if (start < avg_size_) {
    const size_t end = std::min<size_t>(n, avg_size_ - start);
    const uint64_t mask = mask_s_;
    for (; i < end; ++i) {
      h = (h << 1) + gear[p[i]];
      if ((h & mask) == 0) {
        Reset();
        *cut = true;
        return i + 1;
      }
    }
  }

  // Offsets avg_size .. max_size - 1: the looser mask, so few chunks reach max_size.
  const size_t end = std::min<size_t>(n, max_size_ - start);
  const uint64_t mask = mask_l_;
  for (; i < end; ++i) {
    h = (h << 1) + gear[p[i]];
    if ((h & mask) == 0) {
      Reset();
      *cut = true;
      return i + 1;
    }
  }

  if (start + i == max_size_) {  // always a cut at max_size
    Reset();
    *cut = true;
    return i;
  }
  pos_ = static_cast<uint32_t>(start + n);
  hash_ = h;
  *cut = false;
  return n;
}

StreamChunker::StreamChunker(const ChunkerParams& params, const GearTable* gear, ChunkFn on_chunk)
    : chunker_(params, gear), on_chunk_(std::move(on_chunk)), max_size_(params.max_size) {}

Status StreamChunker::Emit(std::string_view chunk) {
  Status status = on_chunk_(chunk);
  if (!status.ok()) error_ = status;
  return status;
}

Status StreamChunker::Write(std::string_view data) {
  if (!error_.ok()) return error_;
  bytes_written_ += data.size();
  while (!data.empty()) {
    bool cut = false;
    size_t n = chunker_.Next(data, &cut);
    if (!cut) {
      if (buffer_.capacity() < max_size_) buffer_.reserve(max_size_);
      buffer_.append(data);
      return OkStatus();
    }
    if (buffer_.empty()) {
      LB_RETURN_IF_ERROR(Emit(data.substr(0, n)));  // the whole chunk is in this write
    } else {
      buffer_.append(data.data(), n);
      Status status = Emit(buffer_);
      buffer_.clear();
      LB_RETURN_IF_ERROR(status);
    }
    data.remove_prefix(n);
  }
  return OkStatus();
}

Status StreamChunker::Finish() {
  if (!error_.ok()) return error_;
  Status status;
  if (!buffer_.empty()) status = Emit(buffer_);
  buffer_.clear();
  chunker_.Reset();
  return status;
}

}  // namespace lifeboat
