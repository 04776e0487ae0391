#include "codec/compression.h"

#include <lz4.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace lifeboat {
namespace {

[[noreturn]] void Die(const char* what, size_t code) {
  std::fprintf(stderr, "lifeboat: fatal: zstd %s failed: %s\n", what, ZSTD_getErrorName(code));
  std::abort();
}

[[noreturn]] void DieLz4(const char* what) {
  std::fprintf(stderr, "lifeboat: fatal: lz4 %s\n", what);
  std::abort();
}

struct CompressContext {
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  ~CompressContext() { ZSTD_freeCCtx(ctx); }
};

struct DecompressContext {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  ~DecompressContext() { ZSTD_freeDCtx(ctx); }
};

thread_local CompressContext compress_context;
thread_local DecompressContext decompress_context;

// The first allocation when the frame does not state its size (grown by doubling).
constexpr size_t kInitialGuess = 64 * 1024;
// A stated content size is trusted for the first allocation only up to this much.
constexpr size_t kMaxUpfront = 64 * 1024 * 1024;

Status TooLarge(size_t max_size) {
  return DataLossError("zstd frame decompresses to more than the expected " +
                       std::to_string(max_size) + " bytes");
}

Status Corrupt(size_t code) {
  return DataLossError(std::string("zstd frame is damaged: ") + ZSTD_getErrorName(code));
}

// The smallest window log that covers `bytes` (at least zstd's minimum, at most 2^27).
int WindowLogFor(size_t bytes) {
  int log = 10;  // ZSTD_WINDOWLOG_MIN
  while (log < 27 && (size_t{1} << log) < bytes) ++log;
  return log;
}

// This thread's compression context, reset to `level` and nothing else.
ZSTD_CCtx* CompressionContext(int level) {
  ZSTD_CCtx* ctx = compress_context.ctx;
  if (ctx == nullptr) Die("context allocation", 0);
  size_t rc = ZSTD_CCtx_reset(ctx, ZSTD_reset_session_and_parameters);
  if (ZSTD_isError(rc)) Die("reset", rc);
  rc = ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level);
  if (ZSTD_isError(rc)) Die("level", rc);
  return ctx;
}

// One frame of `input` into *out, with `ctx` as set up.
void CompressFrame(ZSTD_CCtx* ctx, std::string_view input, std::string* out) {
  out->resize(ZSTD_compressBound(input.size()));
  const size_t rc = ZSTD_compress2(ctx, out->data(), out->size(), input.data(), input.size());
  if (ZSTD_isError(rc)) Die("compression", rc);
  out->resize(rc);
}

// This thread's decompression context, reset as `how` says.
ZSTD_DCtx* DecompressionContext(ZSTD_ResetDirective how) {
  ZSTD_DCtx* ctx = decompress_context.ctx;
  if (ctx == nullptr) Die("context allocation", 0);
  const size_t rc = ZSTD_DCtx_reset(ctx, how);
  if (ZSTD_isError(rc)) Die("reset", rc);
  return ctx;
}

}  // namespace

void ZstdCompress(std::string_view input, int level, std::string* out) {
  CompressFrame(CompressionContext(level), input, out);
}

Status ZstdDecompress(std::string_view input, size_t max_size, std::string* out) {
  out->clear();
  ZSTD_DCtx* ctx = DecompressionContext(ZSTD_reset_session_only);
  size_t rc = 0;
  unsigned long long stated = ZSTD_getFrameContentSize(input.data(), input.size());
  if (stated == ZSTD_CONTENTSIZE_ERROR) {
    return DataLossError("not a zstd frame (" + std::to_string(input.size()) + " bytes)");
  }
  if (stated != ZSTD_CONTENTSIZE_UNKNOWN) {
    if (stated > max_size) return TooLarge(max_size);
    if (stated <= kMaxUpfront) {
      // The common case: one frame of known size, decoded straight into place.
      out->resize(static_cast<size_t>(stated));
      rc = ZSTD_decompressDCtx(ctx, out->data(), out->size(), input.data(), input.size());
      if (!ZSTD_isError(rc) && rc == stated) return OkStatus();
      out->clear();
      // More frames than the first states: decode as a stream below, within max_size.
      if (!ZSTD_isError(rc) || ZSTD_getErrorCode(rc) != ZSTD_error_dstSize_tooSmall) {
        return ZSTD_isError(rc) ? Corrupt(rc) : DataLossError("zstd frame size mismatch");
      }
      DecompressionContext(ZSTD_reset_session_only);
    }
  }

  // One byte beyond max_size is room enough to notice an oversized value.
  const size_t limit = max_size == SIZE_MAX ? max_size : max_size + 1;
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  size_t pos = 0;
  out->resize(std::min(limit, std::max(kInitialGuess, input.size() * 4)));
  while (true) {
    ZSTD_outBuffer buffer{out->data(), out->size(), pos};
    rc = ZSTD_decompressStream(ctx, &buffer, &in);
    pos = buffer.pos;
    if (ZSTD_isError(rc)) {
      out->clear();
      return Corrupt(rc);
    }
    if (pos > max_size) {
      out->clear();
      return TooLarge(max_size);
    }
    if (rc == 0 && in.pos == in.size) break;  // the last frame is complete
    if (pos < out->size()) {
      if (in.pos == in.size) {
        out->clear();
        return DataLossError("zstd frame is truncated");
      }
      continue;
    }
    if (out->size() >= limit) {
      out->clear();
      return TooLarge(max_size);
    }
    out->resize(std::min(limit, out->size() * 2));
  }
  out->resize(pos);
  return OkStatus();
}

void ZstdCompressWithPrefix(std::string_view input, std::string_view prefix, int level,
                            std::string* out) {
  ZSTD_CCtx* ctx = CompressionContext(level);
  size_t rc =
      ZSTD_CCtx_setParameter(ctx, ZSTD_c_windowLog, WindowLogFor(prefix.size() + input.size()));
  if (ZSTD_isError(rc)) Die("window", rc);
  rc = ZSTD_CCtx_refPrefix(ctx, prefix.data(), prefix.size());
  if (ZSTD_isError(rc)) Die("prefix", rc);
  CompressFrame(ctx, input, out);
}

Status ZstdDecompressWithPrefix(std::string_view input, std::string_view prefix, size_t max_size,
                                std::string* out) {
  out->clear();
  ZSTD_DCtx* ctx = DecompressionContext(ZSTD_reset_session_and_parameters);
  unsigned long long stated = ZSTD_getFrameContentSize(input.data(), input.size());
  if (stated == ZSTD_CONTENTSIZE_ERROR || stated == ZSTD_CONTENTSIZE_UNKNOWN) {
    return DataLossError("not a zstd frame of known size (" + std::to_string(input.size()) +
                         " bytes)");
  }
  if (stated > max_size) return TooLarge(max_size);
  size_t rc = ZSTD_DCtx_setParameter(ctx, ZSTD_d_windowLogMax, 27);
  if (ZSTD_isError(rc)) Die("window", rc);
  rc = ZSTD_DCtx_refPrefix(ctx, prefix.data(), prefix.size());
  if (ZSTD_isError(rc)) Die("prefix", rc);
  out->resize(static_cast<size_t>(stated));
  rc = ZSTD_decompressDCtx(ctx, out->data(), out->size(), input.data(), input.size());
  if (ZSTD_isError(rc) || rc != stated) {
    out->clear();
    return ZSTD_isError(rc) ? Corrupt(rc) : DataLossError("zstd frame size mismatch");
  }
  return OkStatus();
}

void Lz4Compress(std::string_view input, std::string* out) {
  constexpr size_t kMaxInput = size_t{1} << 30;  // below LZ4_MAX_INPUT_SIZE
  if (input.size() > kMaxInput) DieLz4("input exceeds 1 GiB");
  const int size = static_cast<int>(input.size());
  out->resize(static_cast<size_t>(LZ4_compressBound(size)));
  const int n =
      LZ4_compress_default(input.data(), out->data(), size, static_cast<int>(out->size()));
  if (n <= 0 && size > 0) DieLz4("compression failed");
  out->resize(static_cast<size_t>(n));
}

Status Lz4Decompress(std::string_view input, size_t raw_length, std::string* out) {
  out->clear();
  if (input.size() > INT32_MAX || raw_length > INT32_MAX) {
    return DataLossError("lz4 block of " + std::to_string(input.size()) + " bytes for " +
                         std::to_string(raw_length) + " is larger than any Lifeboat writes");
  }
  out->resize(raw_length);
  const int n = LZ4_decompress_safe(input.data(), out->data(), static_cast<int>(input.size()),
                                    static_cast<int>(raw_length));
  if (n < 0 || static_cast<size_t>(n) != raw_length) {
    out->clear();
    return DataLossError(n < 0 ? "lz4 block is damaged"
                               : "lz4 block holds " + std::to_string(n) + " bytes, not the " +
                                     std::to_string(raw_length) + " expected");
  }
  return OkStatus();
}

}  // namespace lifeboat
