// RowEncoder and RowDecoder: the canonical row stream of docs/FORMAT.md section 8.
//
//   row   := [rowid zigzag] value{column count}
//   value := 0x00 | 0x01 zigzag | 0x02 u64 | 0x03 lp | 0x04 lp
//            NULL   INTEGER       REAL       TEXT     BLOB
//
// Neither side holds a whole value: the encoder takes a large TEXT or BLOB as a declared size
// followed by pieces, and the decoder hands out a value's header first and then its bytes in
// pieces of bounded size. Both buffer internally (64 KiB by default), so a caller may write
// or read one small value at a time without a call into the sink or reader per value.
//
// The stream carries no framing beyond the values: the column count and whether rows start
// with a rowid come from the manifest (section 10), so the decoder is told `has_rowid` per
// row and the caller reads as many values as the table has stored columns.
//
// Thread-safety: none; an encoder or decoder belongs to one thread.
// Ownership: the encoder borrows its ByteSink and the decoder its ByteReader; both must
// outlive it. Views returned by the decoder point into its buffer and stay valid until the
// next call on it.
// Errors: the encoder passes on the sink's errors and reports a streamed value whose pieces
// do not add up to its declared size as Internal (a broken invariant of the caller). The
// decoder reports a stream that ends inside a row, a malformed varint and an unknown value
// tag as DataLoss naming the row (1-based) and the value; it passes on the reader's errors.
// After an error both stay failed: every later call returns the same status.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/byte_stream.h"
#include "lifeboat/status.h"

namespace lifeboat {

// The value tags of FORMAT.md section 8. The numbers are persistent: never renumber.
enum class ValueType : uint8_t {
  kNull = 0x00,
  kInteger = 0x01,
  kReal = 0x02,
  kText = 0x03,
  kBlob = 0x04,
};

// "NULL", "INTEGER", "REAL", "TEXT", "BLOB".
std::string_view ValueTypeName(ValueType type);

class RowEncoder {
 public:
  static constexpr size_t kDefaultBufferBytes = 64 * 1024;

  // Buffers up to `buffer_bytes` (at least 16) before writing to `sink`; no single Write to
  // the sink is larger than that.
  explicit RowEncoder(ByteSink* sink, size_t buffer_bytes = kDefaultBufferBytes);
  RowEncoder(const RowEncoder&) = delete;
  RowEncoder& operator=(const RowEncoder&) = delete;
  // Does not flush: a caller that wants the buffered bytes calls Flush().
  ~RowEncoder();

  // Starts a row; `rowid` is written when present (tables with "rowid": true).
  Status BeginRow(std::optional<int64_t> rowid);

  Status Null();
  Status Integer(int64_t value);
  // Writes the bit pattern, so -0.0, infinities and NaN payloads survive.
  Status Real(double value);
  Status Text(std::string_view value);
  Status Blob(std::string_view value);

  // A TEXT or BLOB of `size` bytes given in pieces: Append() must then be called until
  // exactly `size` bytes have been given, before the next value or row.
  Status BeginText(uint64_t size);
  Status BeginBlob(uint64_t size);
  Status Append(std::string_view piece);

  // Writes what is buffered to the sink. Fails if a streamed value is incomplete.
  Status Flush();

  // Bytes of row stream produced so far (written to the sink or still buffered).
  uint64_t bytes_written() const { return bytes_written_; }
  // Rows begun so far.
  uint64_t rows() const { return rows_; }

 private:
  Status Put(std::string_view bytes);
  Status PutVarint(uint64_t value);
  Status StartValue(ValueType type);
  Status FlushBuffer();
  Status Fail(Status status);

  ByteSink* sink_;
  size_t capacity_;
  std::unique_ptr<char[]> buffer_;
  size_t used_ = 0;
  uint64_t pending_bytes_ = 0;  // bytes still owed to a value begun with BeginText/BeginBlob
  uint64_t bytes_written_ = 0;
  uint64_t rows_ = 0;
  Status failed_;
};

// What NextValue() found. For TEXT and BLOB only the length is known at this point: the
// bytes follow through ReadValueBytes() or ReadValue().
struct ValueHeader {
  ValueType type = ValueType::kNull;
  int64_t integer = 0;  // kInteger
  double real = 0;      // kReal
  uint64_t size = 0;    // kText, kBlob: the value's length in bytes
};

class RowDecoder {
 public:
  static constexpr size_t kDefaultBufferBytes = 64 * 1024;

  // Reads from `reader` through a buffer of `buffer_bytes` (at least 16).
  explicit RowDecoder(ByteReader* reader, size_t buffer_bytes = kDefaultBufferBytes);
  RowDecoder(const RowDecoder&) = delete;
  RowDecoder& operator=(const RowDecoder&) = delete;
  ~RowDecoder();

  // Starts the next row and reads its rowid when `has_rowid`. Returns false at the clean end
  // of the stream (no byte left where a row would start). Unread bytes of the previous
  // row's last value are skipped.
  Result<bool> NextRow(bool has_rowid, int64_t* rowid);

  // Reads the next value's header. Unread bytes of the previous value are skipped. A stream
  // that ends here is DataLoss: the row is incomplete.
  Result<ValueHeader> NextValue();

  // Returns the next piece of the current TEXT or BLOB value: at least one byte and at most
  // `max_piece` bytes (and at most the buffer size) while bytes remain, an empty view once
  // the value is complete. DataLoss if the stream ends inside the value.
  Result<std::string_view> ReadValueBytes(size_t max_piece);

  // Replaces `*out` with the remaining bytes of the current TEXT or BLOB value. For values
  // whose size the caller has checked (small values): memory grows with the value.
  Status ReadValue(std::string* out);

  // Skips the remaining bytes of the current value.
  Status SkipValueBytes();

  // Bytes of the current TEXT or BLOB value not read yet.
  uint64_t value_bytes_left() const { return value_left_; }
  // Rows begun so far; the current row's number (1-based) in messages.
  uint64_t rows() const { return rows_; }
  // Bytes of the stream consumed so far.
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  // Makes at least one byte available; false at the end of the stream.
  Result<bool> Fill();
  // Reads one byte that must be there; DataLoss mentioning `what` otherwise.
  Status ReadByte(uint8_t* byte, std::string_view what);
  Status ReadVarint(uint64_t* value, std::string_view what);
  std::string Where() const;
  Status Truncated(std::string_view what);
  Status Fail(Status status);

  ByteReader* reader_;
  size_t capacity_;
  std::unique_ptr<char[]> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
  uint64_t value_left_ = 0;
  uint64_t value_size_ = 0;
  ValueType value_type_ = ValueType::kNull;
  uint64_t rows_ = 0;
  uint64_t values_in_row_ = 0;
  uint64_t bytes_read_ = 0;
  Status failed_;
};

}  // namespace lifeboat
