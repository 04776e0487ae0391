// ByteSink and ByteReader: the streaming seams between a source (rows, file contents) and
// the repository (chunks, blobs). Data flows in pieces of any size so that memory never
// grows with the size of a table, a file or one value.
//
// Thread-safety: none; one producer and one consumer on the same thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "lifeboat/status.h"

namespace lifeboat {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Write(std::string_view data) = 0;
};

class ByteReader {
 public:
  virtual ~ByteReader() = default;
  // Reads up to `n` bytes into `buf`; returns 0 only at the end of the stream.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;

  // Reads exactly `n` bytes or fails with DataLoss ("truncated") naming `what`.
  Status ReadExactly(char* buf, size_t n, const char* what);
};

// A sink that appends to a string; for tests and small metadata.
class StringSink : public ByteSink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  Status Write(std::string_view data) override {
    out_->append(data);
    return OkStatus();
  }

 private:
  std::string* out_;
};

// A reader over a string it does not own.
class StringReader : public ByteReader {
 public:
  explicit StringReader(std::string_view data) : data_(data) {}
  Result<size_t> Read(char* buf, size_t n) override;

 private:
  std::string_view data_;
};

}  // namespace lifeboat
