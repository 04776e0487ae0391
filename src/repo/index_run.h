// Index runs: immutable sorted maps from blob id to the blob's place in a pack
// (FORMAT.md §7), read without ever loading a whole run.
//
// BuildIndexRun serialises sorted records into blocks of 256 entries, a footer with the
// pack table, the first id of each block (fences) and a Bloom filter. IndexRun::Open reads
// only the footer; Find tests the filter, then reads and caches the one block that can hold
// the id. Memory per blob in an open repository: about 1.4 bytes.
//
// Thread-safety: IndexRun and BlockCache are safe for concurrent use.
// Errors: DataLoss naming the run for bad magic, failed authentication or a malformed footer
// or block.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "codec/aead.h"
#include "lifeboat/status.h"
#include "repo/pack.h"
#include "storage/object_store.h"

namespace lifeboat {

inline constexpr char kIndexMagic[] = "LBX1";
inline constexpr size_t kIndexEntrySize = 50;
inline constexpr size_t kIndexBlockEntries = 256;
inline constexpr size_t kIndexRunMaxEntries = 65536;

struct BlobLocation {
  std::string pack_id;  // 32 raw bytes
  uint32_t offset = 0;
  uint32_t sealed_length = 0;
  uint32_t raw_length = 0;
  BlobType type = BlobType::kData;
  Compression compression = Compression::kNone;
};

struct IndexRecord {
  std::string id;  // 32 raw bytes
  BlobLocation location;
};

// `records` must be sorted by id with no duplicates. Returns the run's bytes.
std::string BuildIndexRun(const std::vector<IndexRecord>& records, const Aead& aead);

// A byte-bounded LRU cache of decrypted index blocks shared by all runs.
class BlockCache {
 public:
  explicit BlockCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}
  std::shared_ptr<const std::string> Get(const std::string& key);
  void Put(const std::string& key, std::shared_ptr<const std::string> block);

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const std::string>>;
  std::mutex mu_;
  size_t capacity_;
  size_t used_ = 0;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> map_;
};

class IndexRun {
 public:
  static Result<std::unique_ptr<IndexRun>> Open(ObjectStore* store, std::string key,
                                                const Aead* aead, BlockCache* cache);

  const std::string& key() const { return key_; }
  uint64_t entry_count() const { return entry_count_; }
  const std::vector<std::string>& packs() const { return packs_; }

  bool MayContain(std::string_view id) const;
  Result<std::optional<BlobLocation>> Find(std::string_view id);
  // Calls `fn` for every record in id order, one block in memory at a time.
  Status ForEach(const std::function<Status(const IndexRecord&)>& fn);

 private:
  struct Block {
    std::array<char, 32> first_id;
    uint64_t offset;
    uint64_t length;
    uint32_t entries;
  };

  IndexRun(ObjectStore* store, std::string key, const Aead* aead, BlockCache* cache)
      : store_(store), key_(std::move(key)), aead_(aead), cache_(cache) {}
  Status ParseFooter(std::string_view footer);
  Result<std::shared_ptr<const std::string>> LoadBlock(size_t index);
  Status DecodeEntry(std::string_view entry, IndexRecord* record) const;

  ObjectStore* store_;
  std::string key_;
  const Aead* aead_;
  BlockCache* cache_;
  uint64_t entry_count_ = 0;
  std::vector<std::string> packs_;
  std::vector<Block> blocks_;
  uint8_t bloom_hashes_ = 0;
  std::string bloom_bits_;
};

}  // namespace lifeboat
