#include "source/row_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

namespace lifeboat {
namespace {

using ::testing::HasSubstr;

// A value as a test sees it: NULL, INTEGER, REAL (compared by bit pattern), TEXT or BLOB.
struct Value {
  ValueType type = ValueType::kNull;
  int64_t integer = 0;
  uint64_t real_bits = 0;
  std::string bytes;

  static Value Null() { return {}; }
  static Value Int(int64_t v) { return {ValueType::kInteger, v, 0, ""}; }
  static Value Real(double v) { return {ValueType::kReal, 0, std::bit_cast<uint64_t>(v), ""}; }
  static Value Text(std::string v) { return {ValueType::kText, 0, 0, std::move(v)}; }
  static Value Blob(std::string v) { return {ValueType::kBlob, 0, 0, std::move(v)}; }
  bool operator==(const Value&) const = default;
};

struct Row {
  std::optional<int64_t> rowid;
  std::vector<Value> values;
  bool operator==(const Row&) const = default;
};

Status EncodeValue(RowEncoder* encoder, const Value& value, bool streamed) {
  switch (value.type) {
    case ValueType::kNull: return encoder->Null();
    case ValueType::kInteger: return encoder->Integer(value.integer);
    case ValueType::kReal: return encoder->Real(std::bit_cast<double>(value.real_bits));
    case ValueType::kText:
    case ValueType::kBlob: {
      if (!streamed) {
        return value.type == ValueType::kText ? encoder->Text(value.bytes)
                                              : encoder->Blob(value.bytes);
      }
      LB_RETURN_IF_ERROR(value.type == ValueType::kText ? encoder->BeginText(value.bytes.size())
                                                        : encoder->BeginBlob(value.bytes.size()));
      std::string_view rest = value.bytes;
      size_t step = 1;
      while (!rest.empty()) {
        size_t n = std::min(rest.size(), step);
        LB_RETURN_IF_ERROR(encoder->Append(rest.substr(0, n)));
        rest.remove_prefix(n);
        step = step * 3 + 1;
      }
      return OkStatus();
    }
  }
  return InternalError("unknown type");
}

std::string Encode(const std::vector<Row>& rows, bool streamed = false,
                   size_t buffer = RowEncoder::kDefaultBufferBytes) {
  std::string out;
  StringSink sink(&out);
  RowEncoder encoder(&sink, buffer);
  for (const Row& row : rows) {
    EXPECT_TRUE(encoder.BeginRow(row.rowid).ok());
    for (const Value& value : row.values) {
      EXPECT_TRUE(EncodeValue(&encoder, value, streamed).ok());
    }
  }
  EXPECT_TRUE(encoder.Flush().ok());
  EXPECT_EQ(encoder.bytes_written(), out.size());
  EXPECT_EQ(encoder.rows(), rows.size());
  return out;
}

// Reads rows of `columns` values; values are pulled in pieces of `max_piece` bytes.
Result<std::vector<Row>> Decode(ByteReader* reader, bool has_rowid, size_t columns,
                                size_t max_piece = 1 << 20, size_t buffer = 64 * 1024) {
  RowDecoder decoder(reader, buffer);
  std::vector<Row> rows;
  while (true) {
    int64_t rowid = 0;
    LB_ASSIGN_OR_RETURN(bool more, decoder.NextRow(has_rowid, &rowid));
    if (!more) break;
    Row row;
    if (has_rowid) row.rowid = rowid;
    for (size_t i = 0; i < columns; ++i) {
      LB_ASSIGN_OR_RETURN(ValueHeader header, decoder.NextValue());
      Value value;
      value.type = header.type;
      if (header.type == ValueType::kInteger) value.integer = header.integer;
      if (header.type == ValueType::kReal) value.real_bits = std::bit_cast<uint64_t>(header.real);
      if (header.type == ValueType::kText || header.type == ValueType::kBlob) {
        EXPECT_EQ(decoder.value_bytes_left(), header.size);
        while (true) {
          LB_ASSIGN_OR_RETURN(std::string_view piece, decoder.ReadValueBytes(max_piece));
          if (piece.empty()) break;
          EXPECT_LE(piece.size(), max_piece);
          value.bytes.append(piece);
        }
        EXPECT_EQ(value.bytes.size(), header.size);
      }
      row.values.push_back(std::move(value));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// Returns 1..7 bytes per call (a fixed pseudo-random sequence).
class TricklingReader : public ByteReader {
 public:
  explicit TricklingReader(std::string_view data, uint32_t seed = 7) : data_(data), rng_(seed) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t take = std::min({n, data_.size(), static_cast<size_t>(rng_() % 7 + 1)});
    std::memcpy(buf, data_.data(), take);
    data_.remove_prefix(take);
    return take;
  }

 private:
  std::string_view data_;
  std::minstd_rand rng_;
};

std::vector<Row> EveryKindOfValue() {
  const double nan_payload = std::bit_cast<double>(uint64_t{0x7ff8000000000123});
  std::string nul_text("a\0b\0", 4);
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  return {
      {1, {Value::Null(), Value::Int(0), Value::Int(-1), Value::Int(1)}},
      {-1,
       {Value::Int(std::numeric_limits<int64_t>::min()),
        Value::Int(std::numeric_limits<int64_t>::max()), Value::Int(63), Value::Int(-64)}},
      {std::numeric_limits<int64_t>::max(),
       {Value::Real(-0.0), Value::Real(0.0), Value::Real(1e308), Value::Real(5e-324)}},
      {std::numeric_limits<int64_t>::min(),
       {Value::Real(std::numeric_limits<double>::infinity()),
        Value::Real(-std::numeric_limits<double>::infinity()), Value::Real(nan_payload),
        Value::Real(0.1)}},
      {0,
       {Value::Text(""), Value::Blob(""), Value::Text("\xF0\x9F\x98\x80 \xE6\xBC\xA2 e\xCC\x81"),
        Value::Text(nul_text)}},
      {42,
       {Value::Blob(binary), Value::Blob(std::string(200000, 'x')), Value::Null(),
        Value::Text(std::string(70000, 'y'))}},
  };
}

TEST(RowCodecTest, RoundTripsEveryTypeAndBoundary) {
  std::vector<Row> rows = EveryKindOfValue();
  std::string stream = Encode(rows);
  StringReader reader(stream);
  Result<std::vector<Row>> decoded = Decode(&reader, true, 4);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, rows);
}

TEST(RowCodecTest, StreamedValuesEncodeLikeWholeValues) {
  std::vector<Row> rows = EveryKindOfValue();
  EXPECT_EQ(Encode(rows, /*streamed=*/true), Encode(rows, /*streamed=*/false));
  EXPECT_EQ(Encode(rows, false, /*buffer=*/16), Encode(rows, false));
}

TEST(RowCodecTest, MatchesTheDocumentedBytes) {
  std::vector<Row> rows = {{-2,
                            {Value::Null(), Value::Int(-1), Value::Real(1.0), Value::Text("hi"),
                             Value::Blob(std::string("\x00\xff", 2))}}};
  std::string expected = std::string("\x03", 1)        // rowid -2 zigzag
                         + std::string("\x00", 1)      // NULL
                         + std::string("\x01\x01", 2)  // INTEGER -1
                         + std::string("\x02\x00\x00\x00\x00\x00\x00\xf0\x3f", 9)  // REAL 1.0
                         + std::string("\x03\x02hi", 4)                            // TEXT
                         + std::string("\x04\x02\x00\xff", 4);                     // BLOB
  EXPECT_EQ(Encode(rows), expected);
}

TEST(RowCodecTest, RowsWithoutRowid) {
  std::vector<Row> rows = {{std::nullopt, {Value::Int(5), Value::Text("a")}},
                           {std::nullopt, {Value::Null(), Value::Blob("b")}}};
  std::string stream = Encode(rows);
  StringReader reader(stream);
  Result<std::vector<Row>> decoded = Decode(&reader, false, 2);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, rows);
}

TEST(RowCodecTest, EmptyStreamHasNoRows) {
  StringReader reader("");
  Result<std::vector<Row>> decoded = Decode(&reader, true, 3);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
}

TEST(RowCodecTest, DecodesAcrossArbitraryReaderPieces) {
  std::vector<Row> rows = EveryKindOfValue();
  std::string stream = Encode(rows);
  for (uint32_t seed : {1u, 2u, 3u, 99u}) {
    for (size_t max_piece : {size_t{1}, size_t{5}, size_t{4096}}) {
      for (size_t buffer : {size_t{16}, size_t{64 * 1024}}) {
        TricklingReader reader(stream, seed);
        Result<std::vector<Row>> decoded = Decode(&reader, true, 4, max_piece, buffer);
        ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
        EXPECT_EQ(*decoded, rows) << "seed " << seed << " piece " << max_piece;
      }
    }
  }
}

TEST(RowCodecTest, EncoderNeverWritesMoreThanItsBuffer) {
  class MaxSink : public ByteSink {
   public:
    Status Write(std::string_view data) override {
      largest = std::max(largest, data.size());
      total += data.size();
      return OkStatus();
    }
    size_t largest = 0;
    size_t total = 0;
  } sink;
  RowEncoder encoder(&sink, 1024);
  ASSERT_TRUE(encoder.BeginRow(1).ok());
  ASSERT_TRUE(encoder.Blob(std::string(100000, 'z')).ok());
  ASSERT_TRUE(encoder.BeginText(5000).ok());
  ASSERT_TRUE(encoder.Append(std::string(5000, 't')).ok());
  ASSERT_TRUE(encoder.Flush().ok());
  EXPECT_LE(sink.largest, 1024u);
  EXPECT_EQ(sink.total, encoder.bytes_written());
}

TEST(RowCodecTest, ReadValueReadsWholeSmallValues) {
  std::vector<Row> rows = {{7, {Value::Text("hello"), Value::Blob(std::string(70000, 'q'))}}};
  std::string stream = Encode(rows);
  TricklingReader reader(stream);
  RowDecoder decoder(&reader);
  int64_t rowid = 0;
  Result<bool> more = decoder.NextRow(true, &rowid);
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_EQ(rowid, 7);
  std::string value;
  ASSERT_TRUE(decoder.NextValue().ok());
  ASSERT_TRUE(decoder.ReadValue(&value).ok());
  EXPECT_EQ(value, "hello");
  Result<ValueHeader> header = decoder.NextValue();
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->size, 70000u);
  ASSERT_TRUE(decoder.ReadValue(&value).ok());
  EXPECT_EQ(value, std::string(70000, 'q'));
  more = decoder.NextRow(true, &rowid);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  EXPECT_EQ(decoder.bytes_read(), stream.size());
}

TEST(RowCodecTest, UnreadValueBytesAreSkipped) {
  std::vector<Row> rows = {{1, {Value::Blob("abcdef"), Value::Int(9)}},
                           {2, {Value::Text("xyz"), Value::Int(10)}}};
  std::string stream = Encode(rows);
  StringReader reader(stream);
  RowDecoder decoder(&reader);
  int64_t rowid = 0;
  ASSERT_TRUE(decoder.NextRow(true, &rowid).ok());
  ASSERT_TRUE(decoder.NextValue().ok());  // the blob, left unread
  Result<ValueHeader> next = decoder.NextValue();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->integer, 9);
  ASSERT_TRUE(decoder.NextRow(true, &rowid).ok());
  EXPECT_EQ(rowid, 2);
  ASSERT_TRUE(decoder.NextValue().ok());  // the text, left unread: NextRow skips it
  ASSERT_TRUE(decoder.NextValue().ok());
  Result<bool> more = decoder.NextRow(true, &rowid);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

TEST(RowCodecTest, TruncatedStreamIsDataLossAtEveryCut) {
  std::vector<Row> rows = {
      {300,
       {Value::Int(-123456789), Value::Real(2.5), Value::Text("hello"), Value::Blob("world")}}};
  std::string stream = Encode(rows);
  for (size_t cut = 1; cut < stream.size(); ++cut) {
    StringReader reader(std::string_view(stream).substr(0, cut));
    Result<std::vector<Row>> decoded = Decode(&reader, true, 4);
    ASSERT_FALSE(decoded.ok()) << "cut at " << cut;
    EXPECT_EQ(decoded.status().code(), StatusCode::kDataLoss) << decoded.status().ToString();
    EXPECT_THAT(decoded.status().message(), HasSubstr("truncated"));
    EXPECT_THAT(decoded.status().message(), HasSubstr("row 1"));
  }
}

TEST(RowCodecTest, MissingValueIsDataLossNamingTheRow) {
  std::vector<Row> rows = {{1, {Value::Int(1), Value::Int(2)}}, {2, {Value::Int(3)}}};
  std::string stream = Encode(rows);
  StringReader reader(stream);
  Result<std::vector<Row>> decoded = Decode(&reader, true, 2);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(decoded.status().message(), HasSubstr("row 2, value 2"));
}

TEST(RowCodecTest, UnknownTagIsDataLossNamingTagAndRow) {
  std::vector<Row> rows = {{1, {Value::Int(1)}}, {2, {Value::Int(2)}}};
  std::string stream = Encode(rows);
  stream[stream.size() - 2] = 0x07;  // the tag of row 2's value
  StringReader reader(stream);
  Result<std::vector<Row>> decoded = Decode(&reader, true, 1);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(decoded.status().message(), HasSubstr("unknown value tag 0x07"));
  EXPECT_THAT(decoded.status().message(), HasSubstr("row 2"));
}

TEST(RowCodecTest, OverlongVarintIsDataLoss) {
  std::string stream = std::string("\x01", 1) + std::string(10, '\xff') + "\x01";
  StringReader reader(stream);
  Result<std::vector<Row>> decoded = Decode(&reader, false, 1);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(decoded.status().message(), HasSubstr("malformed varint"));
}

TEST(RowCodecTest, DecoderStaysFailed) {
  std::string stream("\x09", 1);
  StringReader reader(stream);
  RowDecoder decoder(&reader);
  ASSERT_TRUE(decoder.NextRow(false, nullptr).ok());
  Result<ValueHeader> first = decoder.NextValue();
  ASSERT_FALSE(first.ok());
  Result<bool> again = decoder.NextRow(false, nullptr);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message(), first.status().message());
}

TEST(RowCodecTest, ReaderErrorsPassThrough) {
  class FailingReader : public ByteReader {
   public:
    Result<size_t> Read(char*, size_t) override { return UnavailableError("disk gone"); }
  } reader;
  RowDecoder decoder(&reader);
  Result<bool> more = decoder.NextRow(true, nullptr);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), StatusCode::kUnavailable);
}

TEST(RowCodecTest, EncoderRejectsMisuseOfStreamedValues) {
  std::string out;
  StringSink sink(&out);
  {
    RowEncoder encoder(&sink);
    ASSERT_TRUE(encoder.BeginRow(1).ok());
    ASSERT_TRUE(encoder.BeginBlob(3).ok());
    Status status = encoder.Append("abcd");
    EXPECT_EQ(status.code(), StatusCode::kInternal);
  }
  {
    RowEncoder encoder(&sink);
    ASSERT_TRUE(encoder.BeginRow(1).ok());
    ASSERT_TRUE(encoder.BeginText(3).ok());
    ASSERT_TRUE(encoder.Append("ab").ok());
    EXPECT_EQ(encoder.Null().code(), StatusCode::kInternal);
  }
  {
    RowEncoder encoder(&sink);
    ASSERT_TRUE(encoder.BeginRow(1).ok());
    ASSERT_TRUE(encoder.BeginText(3).ok());
    EXPECT_EQ(encoder.Flush().code(), StatusCode::kInternal);
  }
}

TEST(RowCodecTest, SinkErrorsPassThroughAndStick) {
  class FailingSink : public ByteSink {
   public:
    Status Write(std::string_view) override { return UnavailableError("store down"); }
  } sink;
  RowEncoder encoder(&sink, 16);
  ASSERT_TRUE(encoder.BeginRow(1).ok());
  Status status = encoder.Blob(std::string(100, 'x'));
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(encoder.Null().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace lifeboat
