// Streams: a byte sequence of any length (a table's rows, the files list) stored as data
// blobs plus the list of their ids, itself chunked into tree blobs (FORMAT.md §9).
//
// StreamWriter is a ByteSink: write the stream in pieces of any size, then Finish() returns
// the StreamRef a manifest records. StreamReader is a ByteReader over a StreamRef. Both hold
// at most one chunk of data and one chunk of ids in memory, whatever the stream's length.
//
// Thread-safety: none (one thread per stream). Ownership: the BlobStore is not owned and must
// outlive the stream.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/byte_stream.h"
#include "repo/blob_store.h"

namespace lifeboat {

struct StreamRef {
  std::vector<std::string> trees;  // tree blob ids (32 raw bytes each), in order
  uint64_t bytes = 0;              // length of the stream
  uint64_t blobs = 0;              // number of data blobs
};

struct StreamWriteStats {
  uint64_t new_blobs = 0;     // blobs (data and tree) the repository did not have
  uint64_t new_bytes = 0;     // plaintext bytes of those blobs
  uint64_t stored_bytes = 0;  // sealed bytes they take in packs
};

class StreamWriter : public ByteSink {
 public:
  explicit StreamWriter(BlobStore* store);
  ~StreamWriter() override;
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;

  Status Write(std::string_view data) override;
  // Flushes the last chunks and returns the reference. The writer is spent afterwards.
  Result<StreamRef> Finish();
  const StreamWriteStats& stats() const { return stats_; }

 private:
  Status SaveData(std::string_view chunk);
  Status SaveTree(std::string_view chunk);
  Status Count(const SaveResult& result, size_t plaintext_size);

  BlobStore* store_;
  StreamRef ref_;
  StreamWriteStats stats_;
  std::unique_ptr<StreamChunker> data_chunker_;
  std::unique_ptr<StreamChunker> tree_chunker_;
};

class StreamReader : public ByteReader {
 public:
  StreamReader(BlobStore* store, StreamRef ref);
  Result<size_t> Read(char* buf, size_t n) override;

 private:
  // Loads the next data blob into current_; false at the end of the stream.
  Result<bool> Advance();

  BlobStore* store_;
  StreamRef ref_;
  size_t next_tree_ = 0;
  std::string tree_;     // ids of the current tree blob
  size_t tree_pos_ = 0;  // next id in tree_
  std::string current_;  // current data blob
  size_t current_pos_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t blobs_read_ = 0;
};

// A small stream written or read whole (a schema script).
Result<StreamRef> SaveStream(BlobStore* store, std::string_view data);
Result<std::string> LoadStream(BlobStore* store, const StreamRef& ref);

}  // namespace lifeboat
