// Repository: the content-addressed, deduplicated, compressed and encrypted store of
// backups (FORMAT.md §1-§7, §10). It owns the master key, the pack writers and the index.
//
// Writing: SaveBlob hashes the chunk on the caller's thread, skips it when any index run or
// this session already has it, and hands new chunks to worker threads that compress, seal
// and append them to packs; one more thread writes the full packs while the workers go on,
// then index runs for their blobs.
// Flush() waits for all of that: only after it returns may a manifest name the blobs.
// A repository that is destroyed without Flush leaves unreferenced packs, never damage.
//
// Reading: LoadBlob finds the blob through the index runs (footers only in memory, blocks by
// range read, FORMAT.md §7) and reads just that blob's bytes from its pack.
//
// Thread-safety: SaveBlob, LoadBlob and the snapshot functions are safe to call from several
// threads. Flush must not race with SaveBlob. Ownership: the ObjectStore and the Clock are
// not owned and must outlive the repository.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/buffer_pool.h"
#include "base/clock.h"
#include "codec/aead.h"
#include "codec/chunker.h"
#include "codec/hash.h"
#include "codec/kdf.h"
#include "repo/blob_store.h"
#include "repo/document_sealer.h"
#include "repo/index_run.h"
#include "repo/key_slot.h"
#include "repo/pack.h"
#include "storage/object_store.h"

namespace lifeboat {

inline constexpr int kRepositoryFormat = 1;

// Readers need neither the zstd level (pack.h) nor the method (each blob's entry names its
// compression), so both may differ from blob to blob.
// InvalidArgument unless kMinZstdLevel <= level <= kMaxZstdLevel.
Status ValidateZstdLevel(int level);
// "lz4" or "zstd", as the config and the command line spell them; InvalidArgument otherwise.
Result<CompressionMethod> ParseCompressionMethod(std::string_view name);
const char* CompressionMethodName(CompressionMethod method);
// What a command's --compression and --compression-level ask for on top of `base`: nullopt
// when neither is given. A level without a method asks for zstd at that level; a method
// without a level keeps base's level. InvalidArgument for an unknown method or a bad level.
Result<std::optional<CompressionSettings>> ChooseCompression(
    const std::optional<std::string>& method, std::optional<int> level,
    const CompressionSettings& base);

struct RepositoryOptions {
  ScryptParams kdf;
  ChunkerParams chunker;
  uint32_t pack_size = 16u << 20;
  CompressionSettings compression{CompressionMethod::kLz4, kDefaultZstdLevel};
};

struct OpenOptions {
  int workers = 2;  // threads that compress and seal blobs (one more writes the packs)
  size_t block_cache_bytes = size_t{32} << 20;
  size_t queue_blobs = 16;  // chunks waiting for a worker, at most
};

// What this process added to the repository since it opened it.
struct SessionStats {
  uint64_t new_blobs = 0;
  uint64_t new_bytes = 0;     // plaintext
  uint64_t stored_bytes = 0;  // sealed bytes in packs written
  uint64_t packs = 0;
  uint64_t index_runs = 0;
};

class Repository : public BlobStore {
 public:
  // Creates a repository in an empty store. AlreadyExists when one is there.
  static Status Init(ObjectStore* store, std::string_view password,
                     const RepositoryOptions& options, const KeySlotInfo& info);
  // Unauthenticated for a wrong password, NotFound when the store holds no repository.
  static Result<std::unique_ptr<Repository>> Open(ObjectStore* store, std::string_view password,
                                                  Clock* clock, const OpenOptions& options = {});
  ~Repository() override;

  Result<SaveResult> SaveBlob(BlobType type, std::string_view plaintext) override {
    return SaveBlob(type, plaintext, BasesFn());
  }
  // A new chunk is compressed against the blobs `bases` names (at most kMaxDeltaReferences, a
  // delta base standing for its own references) by the worker, and kept as a delta blob when
  // that is less than an eighth of its size.
  Result<SaveResult> SaveBlob(BlobType type, std::string_view plaintext,
                              const BasesFn& bases) override;
  Result<std::string> LoadBlob(std::string_view id) override;
  Result<uint64_t> BlobSize(std::string_view id) override;
  // LoadBlob of a blob a delta refers to: refuses a delta (DataLoss); the last few are cached.
  Result<std::string> LoadReference(std::string_view id);
  // The blobs that can stand for `id` as a delta's references: itself, or its references
  // when it is a delta (read from its sealed header; check uses it too).
  Result<std::vector<std::string>> ReferenceCandidates(std::string_view id);
  const ChunkerParams& chunker_params() const override { return chunker_params_; }
  const GearTable* gear_table() const override { return &gear_; }
  // How new blobs are compressed: as the repository's config says (`compression`,
  // `zstd_level`) unless UseCompression chose otherwise. Called between sessions of writing,
  // not during one.
  const CompressionSettings& compression() const { return compression_; }
  const CompressionSettings& config_compression() const { return config_compression_; }
  Status UseCompression(std::optional<CompressionSettings> settings);  // nullopt: the config's

  // Where a blob is, or nullopt when no index knows it.
  Result<std::optional<BlobLocation>> Locate(std::string_view id);
  // Makes every saved blob durable and indexed. Returns the first error any worker met.
  Status Flush();
  SessionStats session_stats() const;

  // Manifests (FORMAT.md §10). Ids are 64 hex characters.
  Result<std::string> SaveSnapshot(const nlohmann::json& manifest);
  Result<nlohmann::json> LoadSnapshot(std::string_view id);
  Status ListSnapshotIds(const std::function<Status(const std::string& id)>& fn);

  // Adds a password slot sealing the same master key.
  Status AddPassword(std::string_view password, const ScryptParams& params,
                     const KeySlotInfo& info);

  // For check and repair: every index run, and the store.
  Status ForEachIndexRun(const std::function<Status(IndexRun&)>& fn);
  ObjectStore* store() const { return store_; }
  const Aead& aead() const { return aead_; }
  const Hmac256& id_hasher() const { return id_hasher_; }
  const DocumentSealer& sealer() const { return sealer_; }
  Clock* clock() const { return clock_; }
  const std::string& id() const { return repository_id_; }

 private:
  struct Job {
    std::string id;
    BlobType type;
    std::string plaintext;
    std::vector<std::string> bases;
  };

  Repository(ObjectStore* store, Clock* clock, const MasterKey& key, const OpenOptions& options);
  Status LoadConfig();
  Status LoadIndex();
  Result<std::optional<BlobLocation>> FindInRuns(std::string_view id);
  // Locates, reads and opens blob `id` (a delta through LoadReference); `as_reference`
  // refuses a delta, which may not stand as another delta's reference.
  Result<std::string> ReadBlob(std::string_view id, bool as_reference);
  // Seals `job` into `out`, as a delta against its bases when that pays.
  Compression Seal(const Job& job, std::string* out);
  void WorkerLoop();
  // Writes the finished packs handed over by the workers, one at a time, so that sealing
  // goes on while a pack is written and synced.
  void PackWriterLoop();
  // Writes `pack` and records its blobs; called without holding mu_.
  Status WritePack(AlignedString pack, std::vector<PackedBlob> entries);
  // Writes an index run for the blobs written so far (all of them when `all`).
  Status WriteIndexRun();
  void RecordError(const Status& status);
  Status FirstError();

  ObjectStore* store_;
  Clock* clock_;
  OpenOptions options_;
  MasterKey key_;
  Aead aead_;
  Hmac256 id_hasher_;
  GearTable gear_;
  DocumentSealer sealer_;
  ChunkerParams chunker_params_;
  uint32_t pack_size_ = 16u << 20;
  CompressionSettings config_compression_;
  CompressionSettings compression_;
  std::string repository_id_;

  BlockCache block_cache_;
  // The last few delta references read: consecutive deltas of a stream share them.
  std::mutex reference_mu_;
  std::deque<std::pair<std::string, std::string>> reference_cache_;  // (id, plaintext), newest last
  std::shared_mutex runs_mu_;
  std::vector<std::unique_ptr<IndexRun>> runs_;  // oldest first

  // Blobs saved in this session that no index run holds yet: nullopt while being sealed.
  mutable std::mutex mu_;
  std::condition_variable queue_cv_;  // workers wait for jobs
  // SaveBlob waits for queue space, a worker for room among the finished packs, Flush for idle.
  std::condition_variable space_cv_;
  std::deque<Job> queue_;
  int busy_workers_ = 0;
  bool stopping_ = false;
  Status first_error_;
  std::unordered_map<std::string, std::optional<BlobLocation>> pending_;
  std::vector<IndexRecord> written_;  // blobs in written packs, not yet in an index run
  SessionStats stats_;

  // Reused buffers: chunks waiting for a worker, and packs being filled or written.
  std::unique_ptr<BufferPool> chunk_buffers_;
  std::unique_ptr<PackBufferPool> pack_buffers_;
  std::mutex pack_mu_;
  PackWriter pack_writer_;
  std::mutex run_write_mu_;  // one index run written at a time

  // Packs finished by the workers, waiting for the pack writer (guarded by mu_).
  struct FinishedPack {
    AlignedString bytes;
    std::vector<PackedBlob> entries;
  };
  std::condition_variable finished_cv_;  // the pack writer waits for finished packs
  std::deque<FinishedPack> finished_;
  bool writing_pack_ = false;

  std::vector<std::thread> workers_;
  std::thread pack_thread_;
};

}  // namespace lifeboat
