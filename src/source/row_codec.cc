#include "source/row_codec.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

#include "base/encoding.h"

namespace lifeboat {
namespace {

constexpr size_t kMinBufferBytes = 16;
constexpr size_t kMaxVarintBytes = 10;

}  // namespace

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kNull: return "NULL";
    case ValueType::kInteger: return "INTEGER";
    case ValueType::kReal: return "REAL";
    case ValueType::kText: return "TEXT";
    case ValueType::kBlob: return "BLOB";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------
// RowEncoder

RowEncoder::RowEncoder(ByteSink* sink, size_t buffer_bytes)
    : sink_(sink),
      capacity_(std::max(buffer_bytes, kMinBufferBytes)),
      buffer_(new char[capacity_]) {}

RowEncoder::~RowEncoder() = default;

Status RowEncoder::Fail(Status status) {
  if (failed_.ok()) failed_ = status;
  return status;
}

Status RowEncoder::FlushBuffer() {
  if (used_ == 0) return OkStatus();
  Status status = sink_->Write(std::string_view(buffer_.get(), used_));
  used_ = 0;
  if (!status.ok()) return Fail(std::move(status));
  return OkStatus();
}

Status RowEncoder::Put(std::string_view bytes) {
  if (bytes.empty()) return OkStatus();  // an empty view's data() may be null
  bytes_written_ += bytes.size();
  // Small pieces are copied into the buffer; a piece of at least a buffer's size goes to the
  // sink directly in buffer-sized slices, so no Write is ever larger than the buffer.
  if (used_ + bytes.size() <= capacity_) {
    std::memcpy(buffer_.get() + used_, bytes.data(), bytes.size());
    used_ += bytes.size();
  } else if (bytes.size() < capacity_) {
    size_t head = capacity_ - used_;
    std::memcpy(buffer_.get() + used_, bytes.data(), head);
    used_ = capacity_;
    LB_RETURN_IF_ERROR(FlushBuffer());
    std::memcpy(buffer_.get(), bytes.data() + head, bytes.size() - head);
    used_ = bytes.size() - head;
  } else {
    LB_RETURN_IF_ERROR(FlushBuffer());
    while (bytes.size() >= capacity_) {
      Status status = sink_->Write(bytes.substr(0, capacity_));
      if (!status.ok()) return Fail(std::move(status));
      bytes.remove_prefix(capacity_);
    }
    std::memcpy(buffer_.get(), bytes.data(), bytes.size());
    used_ = bytes.size();
  }
  return OkStatus();
}

Status RowEncoder::PutVarint(uint64_t value) {
  char bytes[kMaxVarintBytes];
  size_t n = 0;
  while (value >= 0x80) {
    bytes[n++] = static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  bytes[n++] = static_cast<char>(value);
  return Put(std::string_view(bytes, n));
}

Status RowEncoder::StartValue(ValueType type) {
  LB_RETURN_IF_ERROR(failed_);
  if (pending_bytes_ != 0) {
    return Fail(InternalError("row stream: a new value was started while " +
                              std::to_string(pending_bytes_) +
                              " bytes of the previous TEXT or BLOB value were still owed"));
  }
  char tag = static_cast<char>(type);
  return Put(std::string_view(&tag, 1));
}

Status RowEncoder::BeginRow(std::optional<int64_t> rowid) {
  LB_RETURN_IF_ERROR(failed_);
  if (pending_bytes_ != 0) {
    return Fail(InternalError("row stream: a new row was started while " +
                              std::to_string(pending_bytes_) +
                              " bytes of the previous TEXT or BLOB value were still owed"));
  }
  ++rows_;
  if (rowid.has_value()) return PutVarint(ZigZagEncode(*rowid));
  return OkStatus();
}

Status RowEncoder::Null() {
  return StartValue(ValueType::kNull);
}

Status RowEncoder::Integer(int64_t value) {
  LB_RETURN_IF_ERROR(StartValue(ValueType::kInteger));
  return PutVarint(ZigZagEncode(value));
}

Status RowEncoder::Real(double value) {
  LB_RETURN_IF_ERROR(StartValue(ValueType::kReal));
  uint64_t bits = std::bit_cast<uint64_t>(value);
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
  return Put(std::string_view(bytes, 8));
}

Status RowEncoder::Text(std::string_view value) {
  LB_RETURN_IF_ERROR(BeginText(value.size()));
  return Append(value);
}

Status RowEncoder::Blob(std::string_view value) {
  LB_RETURN_IF_ERROR(BeginBlob(value.size()));
  return Append(value);
}

Status RowEncoder::BeginText(uint64_t size) {
  LB_RETURN_IF_ERROR(StartValue(ValueType::kText));
  LB_RETURN_IF_ERROR(PutVarint(size));
  pending_bytes_ = size;
  return OkStatus();
}

Status RowEncoder::BeginBlob(uint64_t size) {
  LB_RETURN_IF_ERROR(StartValue(ValueType::kBlob));
  LB_RETURN_IF_ERROR(PutVarint(size));
  pending_bytes_ = size;
  return OkStatus();
}

Status RowEncoder::Append(std::string_view piece) {
  LB_RETURN_IF_ERROR(failed_);
  if (piece.size() > pending_bytes_) {
    return Fail(InternalError("row stream: " + std::to_string(piece.size()) +
                              " bytes appended to a TEXT or BLOB value that expected " +
                              std::to_string(pending_bytes_) + " more"));
  }
  pending_bytes_ -= piece.size();
  return Put(piece);
}

Status RowEncoder::Flush() {
  LB_RETURN_IF_ERROR(failed_);
  if (pending_bytes_ != 0) {
    return Fail(InternalError("row stream: flushed while " + std::to_string(pending_bytes_) +
                              " bytes of a TEXT or BLOB value were still owed"));
  }
  return FlushBuffer();
}

// ---------------------------------------------------------------------------------------
// RowDecoder

RowDecoder::RowDecoder(ByteReader* reader, size_t buffer_bytes)
    : reader_(reader),
      capacity_(std::max(buffer_bytes, kMinBufferBytes)),
      buffer_(new char[capacity_]) {}

RowDecoder::~RowDecoder() = default;

Status RowDecoder::Fail(Status status) {
  if (failed_.ok()) failed_ = status;
  return status;
}

std::string RowDecoder::Where() const {
  std::string where = "row " + std::to_string(rows_);
  if (values_in_row_ > 0) where += ", value " + std::to_string(values_in_row_);
  return where;
}

Status RowDecoder::Truncated(std::string_view what) {
  return Fail(DataLossError("row stream is truncated: it ends inside " + std::string(what) + " (" +
                            Where() + ", after " + std::to_string(bytes_read_) + " bytes)"));
}

Result<bool> RowDecoder::Fill() {
  if (begin_ < end_) return true;
  begin_ = end_ = 0;
  Result<size_t> got = reader_->Read(buffer_.get(), capacity_);
  if (!got.ok()) return Fail(got.status());
  if (*got > capacity_) {
    return Fail(InternalError("row stream: the reader returned more bytes than asked for"));
  }
  end_ = *got;
  return end_ > 0;
}

Status RowDecoder::ReadByte(uint8_t* byte, std::string_view what) {
  if (begin_ == end_) {
    LB_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return Truncated(what);
  }
  *byte = static_cast<uint8_t>(buffer_[begin_++]);
  ++bytes_read_;
  return OkStatus();
}

Status RowDecoder::ReadVarint(uint64_t* value, std::string_view what) {
  uint64_t result = 0;
  for (size_t i = 0; i < kMaxVarintBytes; ++i) {
    uint8_t byte = 0;
    LB_RETURN_IF_ERROR(ReadByte(&byte, what));
    if (i == kMaxVarintBytes - 1 && byte > 1) break;  // more than 64 bits
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *value = result;
      return OkStatus();
    }
  }
  return Fail(DataLossError("row stream is damaged: malformed varint in " + std::string(what) +
                            " (" + Where() + ", at byte " + std::to_string(bytes_read_) + ")"));
}

Result<bool> RowDecoder::NextRow(bool has_rowid, int64_t* rowid) {
  LB_RETURN_IF_ERROR(failed_);
  LB_RETURN_IF_ERROR(SkipValueBytes());
  LB_ASSIGN_OR_RETURN(bool more, Fill());
  if (!more) return false;
  ++rows_;
  values_in_row_ = 0;
  if (has_rowid) {
    uint64_t zigzag = 0;
    LB_RETURN_IF_ERROR(ReadVarint(&zigzag, "a rowid"));
    if (rowid != nullptr) *rowid = ZigZagDecode(zigzag);
  }
  return true;
}

Result<ValueHeader> RowDecoder::NextValue() {
  LB_RETURN_IF_ERROR(failed_);
  LB_RETURN_IF_ERROR(SkipValueBytes());
  ++values_in_row_;
  uint8_t tag = 0;
  LB_RETURN_IF_ERROR(ReadByte(&tag, "a row (a value is missing)"));
  ValueHeader header;
  switch (tag) {
    case static_cast<uint8_t>(ValueType::kNull): header.type = ValueType::kNull; return header;
    case static_cast<uint8_t>(ValueType::kInteger): {
      header.type = ValueType::kInteger;
      uint64_t zigzag = 0;
      LB_RETURN_IF_ERROR(ReadVarint(&zigzag, "an INTEGER value"));
      header.integer = ZigZagDecode(zigzag);
      return header;
    }
    case static_cast<uint8_t>(ValueType::kReal): {
      header.type = ValueType::kReal;
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) {
        uint8_t byte = 0;
        LB_RETURN_IF_ERROR(ReadByte(&byte, "a REAL value"));
        bits |= static_cast<uint64_t>(byte) << (8 * i);
      }
      header.real = std::bit_cast<double>(bits);
      return header;
    }
    case static_cast<uint8_t>(ValueType::kText):
    case static_cast<uint8_t>(ValueType::kBlob): {
      header.type = static_cast<ValueType>(tag);
      LB_RETURN_IF_ERROR(ReadVarint(
          &header.size, tag == 0x03 ? "the length of a TEXT value" : "the length of a BLOB value"));
      value_type_ = header.type;
      value_size_ = header.size;
      value_left_ = header.size;
      return header;
    }
    default: {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02x", tag);
      return Fail(DataLossError("row stream is damaged: unknown value tag " + std::string(hex) +
                                " in " + Where() + " (at byte " + std::to_string(bytes_read_ - 1) +
                                ")"));
    }
  }
}

Result<std::string_view> RowDecoder::ReadValueBytes(size_t max_piece) {
  LB_RETURN_IF_ERROR(failed_);
  if (value_left_ == 0) return std::string_view();
  if (max_piece == 0) max_piece = 1;
  if (begin_ == end_) {
    LB_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) {
      std::string what = "a " + std::string(ValueTypeName(value_type_)) + " value of " +
                         std::to_string(value_size_) + " bytes, " +
                         std::to_string(value_size_ - value_left_) + " of them present";
      return Truncated(what);
    }
  }
  size_t take = std::min<uint64_t>({end_ - begin_, value_left_, max_piece});
  std::string_view piece(buffer_.get() + begin_, take);
  begin_ += take;
  value_left_ -= take;
  bytes_read_ += take;
  return piece;
}

Status RowDecoder::ReadValue(std::string* out) {
  out->clear();
  // Reserve up to what the buffer can prove is there, so a damaged length cannot make the
  // string allocate far more than the stream holds.
  out->reserve(std::min<uint64_t>(value_left_, capacity_));
  while (value_left_ > 0) {
    LB_ASSIGN_OR_RETURN(std::string_view piece, ReadValueBytes(capacity_));
    out->append(piece.data(), piece.size());
  }
  return OkStatus();
}

Status RowDecoder::SkipValueBytes() {
  while (value_left_ > 0) {
    LB_ASSIGN_OR_RETURN(std::string_view piece, ReadValueBytes(capacity_));
    (void)piece;
  }
  return OkStatus();
}

}  // namespace lifeboat
