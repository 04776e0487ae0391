// Streams: a byte sequence of any length (a table's rows, the files list) stored as data
// blobs plus the list of their ids, itself chunked into tree blobs (FORMAT.md §9).
//
// StreamWriter is a ByteSink: write the stream in pieces of any size, then Finish() returns
// the StreamRef a manifest records. StreamReader is a ByteReader over a StreamRef. Both hold
// at most one chunk of data and one chunk of ids in memory, whatever the stream's length; a
// writer of a part of a stream (PartOptions) also keeps the part's ids, 32 bytes a chunk, and
// a reader with read-ahead holds up to its budget of data more.
//
// Thread-safety: none (one thread per stream; a reader's read-ahead thread is its own).
// Ownership: the BlobStore is not owned and must outlive the stream.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
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

// The data blob ids of a stream, in order, read one tree blob at a time.
class StreamIds {
 public:
  StreamIds(BlobStore* store, const StreamRef& ref) : store_(store), trees_(ref.trees) {}
  // The next id (32 raw bytes), or nullopt at the end.
  Result<std::optional<std::string>> Next();

 private:
  BlobStore* store_;
  std::vector<std::string> trees_;
  size_t next_tree_ = 0;
  std::string tree_;     // ids of the current tree blob
  size_t tree_pos_ = 0;  // next id in tree_
};

class StreamWriter : public ByteSink {
 public:
  // With `reference` (the same stream in an earlier backup), every new chunk is offered to the
  // store with the reference chunks it most likely replaces, as bases for a delta blob
  // (BlobStore). The writer keeps a position in the reference alongside the stream: a chunk
  // the reference has puts it right after that chunk; for a new chunk, its first (or middle)
  // 64 bytes are looked up in the reference's content within 256 KiB of the position, which
  // finds where its bytes came from however many rows were removed or added before it, and
  // the bases are the reference chunks that overlap those bytes. Only new chunks cost reads of
  // the reference.
  explicit StreamWriter(BlobStore* store, const StreamRef* reference = nullptr);

  // A part of a stream, written on its own (one range of a table read beside the others):
  // `reference_offset` is where in the reference the part's first byte belongs (where the same
  // part began in the earlier backup), and the data blobs' ids are kept for TakeIds instead of
  // being written into trees. Another writer joins the parts with AppendIds.
  struct PartOptions {
    const StreamRef* reference = nullptr;
    uint64_t reference_offset = 0;
  };
  StreamWriter(BlobStore* store, const PartOptions& part);
  ~StreamWriter() override;
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;

  Status Write(std::string_view data) override;
  // Adds the data blobs of a part written by another writer (TakeIds) and its length: a
  // writer given parts this way takes no Write.
  Status AppendIds(const std::vector<std::string>& ids, uint64_t bytes);
  // Flushes the last chunks and returns the reference (a part's has no trees). The writer is
  // spent afterwards.
  Result<StreamRef> Finish();
  // A part's data blob ids, in order, after Finish.
  std::vector<std::string> TakeIds() { return std::move(ids_); }
  const StreamWriteStats& stats() const { return stats_; }

 private:
  Status SaveData(std::string_view chunk);
  Status SaveTree(std::string_view chunk);
  Status Count(const SaveResult& result, size_t plaintext_size);
  struct ReferenceChunk {
    std::string id;
    uint64_t start = 0;  // offset in the reference stream
    uint64_t size = 0;
    std::optional<std::string> content;  // read when a new chunk is looked up near it
    uint64_t end() const { return start + size; }
  };
  // Reads reference chunk ids until the window reaches `offset`.
  void FillWindow(uint64_t offset);
  // The reference's bytes in [lo, hi) that the window still holds into *out, and the offset
  // they start at; nullopt when they cannot be read.
  std::optional<uint64_t> ReadReference(uint64_t lo, uint64_t hi, std::string* out);
  // Where in the reference `chunk` starts, from its content; nullopt when not found.
  std::optional<uint64_t> Locate(std::string_view chunk);
  // The bases of a new chunk (and where it starts, for Step).
  std::vector<std::string> Bases(std::string_view chunk);
  // Moves the position past a chunk just saved.
  void Step(const SaveResult& saved, uint64_t length);

  BlobStore* store_;
  std::unique_ptr<StreamIds> reference_;
  std::deque<ReferenceChunk> window_;  // reference chunks around position_
  uint64_t window_end_ = 0;            // where the last chunk in the window ends
  uint64_t skip_to_ = 0;               // reference chunks that end before this are not kept
  uint64_t position_ = 0;              // where in the reference the next byte belongs
  std::optional<uint64_t> located_;    // where the chunk being saved starts, if it is new
  StreamRef ref_;
  bool part_ = false;             // keeps ids_ instead of writing trees
  std::vector<std::string> ids_;  // a part's data blob ids
  StreamWriteStats stats_;
  std::unique_ptr<StreamChunker> data_chunker_;
  std::unique_ptr<StreamChunker> tree_chunker_;
};

// With a read-ahead budget, a thread of the reader's own loads the next blobs (fetching,
// checking and decompressing them) while the caller works on the bytes already read, until the
// blobs loaded and not yet read hold `read_ahead_bytes` (at least one blob). It starts on the
// first Read and stops when the reader is destroyed. A restore uses it, so that the database
// never waits for the repository between two pieces of a table.
class StreamReader : public ByteReader {
 public:
  StreamReader(BlobStore* store, StreamRef ref, size_t read_ahead_bytes = 0);
  ~StreamReader() override;
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;

  Result<size_t> Read(char* buf, size_t n) override;

 private:
  using Loaded = Result<std::optional<std::string>>;  // a data blob, or nullopt at the end
  struct ReadAhead;

  // Loads the next data blob into current_; false at the end of the stream.
  Result<bool> Advance();
  // The next data blob, loaded on this thread.
  Loaded LoadNext();
  // The next data blob, from the read-ahead thread (started on the first call).
  Loaded TakeAhead();
  // The read-ahead thread's loop.
  void LoadAhead();

  BlobStore* store_;
  StreamRef ref_;
  StreamIds ids_;
  std::string current_;  // current data blob
  size_t current_pos_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t blobs_read_ = 0;
  size_t read_ahead_bytes_;
  std::unique_ptr<ReadAhead> ahead_;
};

// A small stream written or read whole (a schema script).
Result<StreamRef> SaveStream(BlobStore* store, std::string_view data);
Result<std::string> LoadStream(BlobStore* store, const StreamRef& ref);

}  // namespace lifeboat
