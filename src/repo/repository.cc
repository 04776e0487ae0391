#include "repo/repository.h"

#include <algorithm>

#include "base/encoding.h"
#include "codec/random.h"

namespace lifeboat {
namespace {

constexpr char kConfigKey[] = "config";
constexpr char kKeysPrefix[] = "keys/";
constexpr char kIndexPrefix[] = "index/";
constexpr char kSnapshotsPrefix[] = "snapshots/";
// Delta references kept in memory (at most 3 per delta, 512 KiB each).
constexpr size_t kReferenceCacheBlobs = 8;
// Finished packs that may wait for the pack writer: beyond them, a worker that finishes a pack
// waits, so memory stays bounded when the store is slower than sealing.
constexpr size_t kMaxFinishedPacks = 2;

bool IsHexId(std::string_view s) {
  return s.size() == 64 && FromHex(s).has_value();
}

}  // namespace

Status ValidateZstdLevel(int level) {
  if (level >= kMinZstdLevel && level <= kMaxZstdLevel) return OkStatus();
  return InvalidArgumentError("compression level " + std::to_string(level) +
                              " is out of range: give " + std::to_string(kMinZstdLevel) +
                              " (fastest) to " + std::to_string(kMaxZstdLevel) + " (smallest)");
}

Result<CompressionMethod> ParseCompressionMethod(std::string_view name) {
  if (name == "zstd") return CompressionMethod::kZstd;
  if (name == "lz4") return CompressionMethod::kLz4;
  return InvalidArgumentError("compression \"" + std::string(name) +
                              "\" is not known: give lz4 (fastest) or zstd (smaller)");
}

const char* CompressionMethodName(CompressionMethod method) {
  return method == CompressionMethod::kLz4 ? "lz4" : "zstd";
}

Result<std::optional<CompressionSettings>> ChooseCompression(
    const std::optional<std::string>& method, std::optional<int> level,
    const CompressionSettings& base) {
  if (!method && !level) return std::optional<CompressionSettings>();
  CompressionSettings chosen = base;
  if (level) {
    LB_RETURN_IF_ERROR(ValidateZstdLevel(*level));
    chosen = {CompressionMethod::kZstd, *level};
  }
  if (method) {
    LB_ASSIGN_OR_RETURN(chosen.method, ParseCompressionMethod(*method));
  }
  return std::optional<CompressionSettings>(chosen);
}

Status Repository::Init(ObjectStore* store, std::string_view password,
                        const RepositoryOptions& options, const KeySlotInfo& info) {
  const std::string where = store->Describe();
  Result<uint64_t> existing = store->Size(kConfigKey);
  if (existing.ok()) {
    return AlreadyExistsError("a repository exists already at " + where +
                              ": use it, or choose another location");
  }
  if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status().WithContext("creating a repository at " + where);
  }
  // Without its config a repository's objects are unreadable, and an init over them would hide
  // them behind new keys: a store that holds any is damaged, not empty.
  for (const char* prefix : {kKeysPrefix, kSnapshotsPrefix, kIndexPrefix, "data/"}) {
    std::string found;
    Status listed = store->List(prefix, [&](const ObjectInfo& object) {
      found = object.key;
      return CancelledError("stop at the first object");
    });
    if (!found.empty()) {
      return FailedPreconditionError("the repository at " + where + " has no config but holds " +
                                     found +
                                     " (and maybe more): it is damaged, not empty; put its config "
                                     "back from a copy, or create the repository elsewhere");
    }
    if (!listed.ok()) return listed.WithContext("creating a repository at " + where);
  }
  LB_RETURN_IF_ERROR(ValidateChunkerParams(options.chunker));
  LB_RETURN_IF_ERROR(ValidateZstdLevel(options.compression.zstd_level));
  if (password.empty()) return InvalidArgumentError("the repository password is empty");

  MasterKey key = MasterKey::Generate();
  std::string slot = CreateKeySlot(key, password, options.kdf, info);
  LB_RETURN_IF_ERROR(store->Put(kKeysPrefix + ToHex(RandomBytes(16)), slot));

  nlohmann::json config = {
      {"format", kRepositoryFormat},
      {"id", ToHex(RandomBytes(32))},
      {"created", FormatRfc3339(info.created_nanos)},
      {"chunker",
       {{"algorithm", "fastcdc"},
        {"min", options.chunker.min_size},
        {"avg", options.chunker.avg_size},
        {"max", options.chunker.max_size}}},
      {"pack_size", options.pack_size},
      {"compression", CompressionMethodName(options.compression.method)},
      {"zstd_level", options.compression.zstd_level},
  };
  DocumentSealer sealer(key.encryption_key);
  return store->Put(kConfigKey, sealer.Seal("config", config));
}

Result<std::unique_ptr<Repository>> Repository::Open(ObjectStore* store, std::string_view password,
                                                     Clock* clock, const OpenOptions& options) {
  const std::string where = store->Describe();
  std::vector<std::string> slots;
  LB_RETURN_IF_ERROR(store->List(kKeysPrefix, [&](const ObjectInfo& info) {
    slots.push_back(info.key);
    return OkStatus();
  }));
  if (slots.empty()) {
    if (store->Size(kConfigKey).ok()) {
      return DataLossError("the repository at " + where +
                           " has a config but no key slot (keys/ is empty): put its key slots "
                           "back from a copy; no password can open it without them");
    }
    return NotFoundError("there is no repository at " + where +
                         ": create one with `lifeboat init`");
  }
  std::sort(slots.begin(), slots.end());
  std::optional<MasterKey> key;
  for (const std::string& slot_key : slots) {
    LB_ASSIGN_OR_RETURN(std::string slot, store->Get(slot_key));
    Result<MasterKey> opened = OpenKeySlot(slot, password, slot_key);
    if (opened.ok()) {
      key = std::move(opened).value();
      break;
    }
    if (opened.status().code() != StatusCode::kUnauthenticated) return opened.status();
  }
  if (!key) {
    return UnauthenticatedError("wrong password for repository " + where +
                                ": check --password-file or LIFEBOAT_PASSWORD");
  }
  std::unique_ptr<Repository> repo(new Repository(store, clock, *key, options));
  LB_RETURN_IF_ERROR(repo->LoadConfig());
  LB_RETURN_IF_ERROR(repo->LoadIndex());
  const size_t workers = static_cast<size_t>(std::max(1, options.workers));
  const size_t max_chunk = repo->chunker_params_.max_size;
  repo->chunk_buffers_ = std::make_unique<BufferPool>(max_chunk, options.queue_blobs + workers);
  // A pack passes pack_size by at most one sealed blob, then takes its header and trailer.
  // In use at once: the pack being filled, the finished ones waiting, the one being written
  // and one per worker waiting for room among the finished.
  repo->pack_buffers_ = std::make_unique<PackBufferPool>(
      repo->pack_size_ + max_chunk + Aead::kOverhead + (size_t{1} << 20),
      workers + kMaxFinishedPacks + 2);
  repo->pack_writer_ = PackWriter(&repo->aead_, repo->pack_buffers_.get());
  for (int i = 0; i < std::max(1, options.workers); ++i) {
    repo->workers_.emplace_back([r = repo.get()] { r->WorkerLoop(); });
  }
  repo->pack_thread_ = std::thread([r = repo.get()] { r->PackWriterLoop(); });
  return repo;
}

Repository::Repository(ObjectStore* store, Clock* clock, const MasterKey& key,
                       const OpenOptions& options)
    : store_(store),
      clock_(clock),
      options_(options),
      key_(key),
      aead_(key.encryption_key),
      id_hasher_(key.id_key),
      gear_(GearTable::FromKey(key.chunker_key)),
      sealer_(key.encryption_key),
      block_cache_(options.block_cache_bytes),
      pack_writer_(&aead_) {}

Repository::~Repository() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  space_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  finished_cv_.notify_all();
  if (pack_thread_.joinable()) pack_thread_.join();  // not started when Open failed
}

Status Repository::LoadConfig() {
  LB_ASSIGN_OR_RETURN(std::string sealed, store_->Get(kConfigKey));
  LB_ASSIGN_OR_RETURN(nlohmann::json config, sealer_.Open("config", sealed, kConfigKey));
  int format = config.value("format", 0);
  if (format != kRepositoryFormat) {
    return FailedPreconditionError("repository format " + std::to_string(format) +
                                   " is not supported by this Lifeboat (format " +
                                   std::to_string(kRepositoryFormat) + "): upgrade Lifeboat");
  }
  if (!config.contains("chunker") || !config["chunker"].is_object()) {
    return DataLossError("repository config has no chunker parameters");
  }
  const nlohmann::json& c = config["chunker"];
  chunker_params_.min_size = c.value("min", 0u);
  chunker_params_.avg_size = c.value("avg", 0u);
  chunker_params_.max_size = c.value("max", 0u);
  LB_RETURN_IF_ERROR(ValidateChunkerParams(chunker_params_).WithContext("repository config"));
  pack_size_ = config.value("pack_size", 16u << 20);
  const std::string method_name = config.value("compression", std::string("zstd"));
  Result<CompressionMethod> method = ParseCompressionMethod(method_name);
  if (!method.ok()) {
    return FailedPreconditionError("repository config asks for compression \"" + method_name +
                                   "\", which this Lifeboat does not know: upgrade Lifeboat");
  }
  config_compression_ = {*method, config.value("zstd_level", kDefaultZstdLevel)};
  LB_RETURN_IF_ERROR(
      ValidateZstdLevel(config_compression_.zstd_level).WithContext("repository config"));
  compression_ = config_compression_;
  repository_id_ = config.value("id", "");
  return OkStatus();
}

Status Repository::LoadIndex() {
  std::vector<std::string> keys;
  LB_RETURN_IF_ERROR(store_->List(kIndexPrefix, [&](const ObjectInfo& info) {
    keys.push_back(info.key);
    return OkStatus();
  }));
  std::sort(keys.begin(), keys.end());
  for (std::string& key : keys) {
    LB_ASSIGN_OR_RETURN(std::unique_ptr<IndexRun> run,
                        IndexRun::Open(store_, std::move(key), &aead_, &block_cache_));
    runs_.push_back(std::move(run));
  }
  return OkStatus();
}

Status Repository::UseCompression(std::optional<CompressionSettings> settings) {
  if (settings) LB_RETURN_IF_ERROR(ValidateZstdLevel(settings->zstd_level));
  compression_ = settings.value_or(config_compression_);
  return OkStatus();
}

Result<std::optional<BlobLocation>> Repository::FindInRuns(std::string_view id) {
  std::shared_lock<std::shared_mutex> lock(runs_mu_);
  for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
    LB_ASSIGN_OR_RETURN(std::optional<BlobLocation> found, (*it)->Find(id));
    if (found) return found;
  }
  return std::optional<BlobLocation>();
}

Result<std::optional<BlobLocation>> Repository::Locate(std::string_view id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(std::string(id));
    if (it != pending_.end()) {
      if (!it->second) {
        return FailedPreconditionError("blob " + ToHex(id) + " is not flushed yet");
      }
      return it->second;
    }
  }
  return FindInRuns(id);
}

Result<SaveResult> Repository::SaveBlob(BlobType type, std::string_view plaintext,
                                        const BasesFn& bases) {
  SaveResult result;
  result.id = id_hasher_.Compute(plaintext);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!first_error_.ok()) return first_error_;
    if (pending_.count(result.id) != 0) return result;
  }
  LB_ASSIGN_OR_RETURN(std::optional<BlobLocation> known, FindInRuns(result.id));
  if (known) return result;

  std::vector<std::string> base_ids = bases ? bases() : std::vector<std::string>();
  std::string buffer = chunk_buffers_->Take();
  buffer.assign(plaintext);
  std::unique_lock<std::mutex> lock(mu_);
  if (!pending_.try_emplace(result.id, std::nullopt).second) return result;
  space_cv_.wait(lock, [&] { return queue_.size() < options_.queue_blobs || stopping_; });
  if (!first_error_.ok()) return first_error_;
  queue_.push_back(Job{result.id, type, std::move(buffer), std::move(base_ids)});
  ++stats_.new_blobs;
  stats_.new_bytes += plaintext.size();
  lock.unlock();
  queue_cv_.notify_one();
  result.added = true;
  return result;
}

void Repository::WorkerLoop() {
  std::string sealed;
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      queue_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      ++busy_workers_;
    }
    space_cv_.notify_all();

    sealed.clear();
    Compression compression = Seal(job, &sealed);
    AlignedString pack;
    std::vector<PackedBlob> entries;
    {
      std::lock_guard<std::mutex> lock(pack_mu_);
      pack_writer_.Add(job.id, job.type, compression, static_cast<uint32_t>(job.plaintext.size()),
                       sealed);
      chunk_buffers_->Give(std::move(job.plaintext));
      if (pack_writer_.size() >= pack_size_) {
        entries = pack_writer_.entries();
        pack = pack_writer_.Finish();
      }
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!pack.empty()) {
        space_cv_.wait(lock, [&] { return finished_.size() < kMaxFinishedPacks || stopping_; });
        finished_.push_back(FinishedPack{std::move(pack), std::move(entries)});
        finished_cv_.notify_one();
      }
      --busy_workers_;
    }
    space_cv_.notify_all();
  }
}

void Repository::PackWriterLoop() {
  for (;;) {
    FinishedPack pack;
    {
      std::unique_lock<std::mutex> lock(mu_);
      finished_cv_.wait(lock, [&] { return !finished_.empty() || stopping_; });
      if (finished_.empty()) return;
      pack = std::move(finished_.front());
      finished_.pop_front();
      writing_pack_ = true;
    }
    space_cv_.notify_all();
    Status status = WritePack(std::move(pack.bytes), std::move(pack.entries));
    if (!status.ok()) RecordError(status);
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_pack_ = false;
    }
    space_cv_.notify_all();
  }
}

Compression Repository::Seal(const Job& job, std::string* out) {
  if (!job.bases.empty()) {
    std::vector<std::string> refs;
    for (const std::string& base : job.bases) {
      Result<std::vector<std::string>> candidates = ReferenceCandidates(base);
      if (!candidates.ok()) continue;  // a base that cannot be read is no base
      for (std::string& c : *candidates) {
        if (refs.size() < kMaxDeltaReferences &&
            std::find(refs.begin(), refs.end(), c) == refs.end()) {
          refs.push_back(std::move(c));
        }
      }
    }
    std::string prefix;
    bool loaded = !refs.empty();
    for (const std::string& ref : refs) {
      Result<std::string> content = LoadReference(ref);
      if (!content.ok()) {
        loaded = false;
        break;
      }
      prefix.append(*content);
    }
    if (loaded &&
        SealDeltaBlob(aead_, job.id, job.plaintext, refs, prefix, compression_.zstd_level, out)) {
      return Compression::kZstdDelta;
    }
  }
  return SealBlob(aead_, job.id, job.plaintext, compression_, out);
}

Result<std::vector<std::string>> Repository::ReferenceCandidates(std::string_view id) {
  LB_ASSIGN_OR_RETURN(std::optional<BlobLocation> location, Locate(id));
  if (!location) return NotFoundError("blob " + ToHex(id) + " is not indexed");
  if (location->compression != Compression::kZstdDelta)
    return std::vector<std::string>{std::string(id)};
  LB_ASSIGN_OR_RETURN(
      std::string sealed,
      store_->GetRange(PackKey(location->pack_id), location->offset, location->sealed_length));
  return ReadDeltaReferences(aead_, id, sealed);
}

Result<uint64_t> Repository::BlobSize(std::string_view id) {
  LB_ASSIGN_OR_RETURN(std::optional<BlobLocation> location, Locate(id));
  if (!location) return NotFoundError("blob " + ToHex(id) + " is not in any index");
  return uint64_t{location->raw_length};
}

Result<std::string> Repository::LoadReference(std::string_view id) {
  {
    std::lock_guard<std::mutex> lock(reference_mu_);
    for (const auto& [cached_id, content] : reference_cache_) {
      if (cached_id == id) return content;
    }
  }
  LB_ASSIGN_OR_RETURN(std::string plaintext, ReadBlob(id, /*as_reference=*/true));
  std::lock_guard<std::mutex> lock(reference_mu_);
  reference_cache_.emplace_back(std::string(id), plaintext);
  if (reference_cache_.size() > kReferenceCacheBlobs) reference_cache_.pop_front();
  return plaintext;
}

Result<std::string> Repository::ReadBlob(std::string_view id, bool as_reference) {
  LB_ASSIGN_OR_RETURN(std::optional<BlobLocation> location, Locate(id));
  if (!location) {
    return NotFoundError("blob " + ToHex(id) + " is not in any index of repository " +
                         store_->Describe() + ": run `lifeboat check`");
  }
  if (as_reference && location->compression == Compression::kZstdDelta) {
    return DataLossError("blob " + ToHex(id) + " is a delta, and a delta's reference may not be");
  }
  const std::string pack_key = PackKey(location->pack_id);
  LB_ASSIGN_OR_RETURN(std::string sealed,
                      store_->GetRange(pack_key, location->offset, location->sealed_length));
  std::string plaintext;
  const ReferenceLoader references = [this](std::string_view ref) { return LoadReference(ref); };
  LB_RETURN_IF_ERROR(OpenBlob(aead_, id, location->compression, location->raw_length, sealed,
                              &plaintext, &references)
                         .WithContext("reading blob " + ToHex(id) + " from pack " + pack_key));
  return plaintext;
}

Status Repository::WritePack(AlignedString pack, std::vector<PackedBlob> entries) {
  std::string pack_id = Sha256(pack);
  Status put = store_->Put(PackKey(pack_id), pack);
  const uint64_t pack_bytes = pack.size();
  pack_buffers_->Give(std::move(pack));
  LB_RETURN_IF_ERROR(put);
  bool run_due = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.packs;
    stats_.stored_bytes += pack_bytes;
    for (PackedBlob& blob : entries) {
      BlobLocation location{pack_id,         blob.offset, blob.sealed_length,
                            blob.raw_length, blob.type,   blob.compression};
      pending_[blob.id] = location;
      written_.push_back(IndexRecord{std::move(blob.id), std::move(location)});
    }
    run_due = written_.size() >= kIndexRunMaxEntries;
  }
  if (run_due) return WriteIndexRun();
  return OkStatus();
}

Status Repository::WriteIndexRun() {
  std::lock_guard<std::mutex> run_lock(run_write_mu_);
  std::vector<IndexRecord> records;
  {
    std::lock_guard<std::mutex> lock(mu_);
    records.swap(written_);
  }
  if (records.empty()) return OkStatus();
  std::sort(records.begin(), records.end(),
            [](const IndexRecord& a, const IndexRecord& b) { return a.id < b.id; });
  records.erase(
      std::unique(records.begin(), records.end(),
                  [](const IndexRecord& a, const IndexRecord& b) { return a.id == b.id; }),
      records.end());
  std::string run = BuildIndexRun(records, aead_);
  std::string key = kIndexPrefix + ToHex(Sha256(run));
  Status put = store_->Put(key, run);
  if (!put.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    written_.insert(written_.end(), std::make_move_iterator(records.begin()),
                    std::make_move_iterator(records.end()));
    return put;
  }
  LB_ASSIGN_OR_RETURN(std::unique_ptr<IndexRun> opened,
                      IndexRun::Open(store_, key, &aead_, &block_cache_));
  {
    std::unique_lock<std::shared_mutex> lock(runs_mu_);
    runs_.push_back(std::move(opened));
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.index_runs;
  for (const IndexRecord& record : records) pending_.erase(record.id);
  return OkStatus();
}

void Repository::RecordError(const Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (first_error_.ok()) first_error_ = status;
}

Status Repository::FirstError() {
  std::lock_guard<std::mutex> lock(mu_);
  return first_error_;
}

Status Repository::Flush() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    space_cv_.wait(lock, [&] {
      return queue_.empty() && busy_workers_ == 0 && finished_.empty() && !writing_pack_;
    });
  }
  LB_RETURN_IF_ERROR(FirstError());
  AlignedString pack;
  std::vector<PackedBlob> entries;
  {
    std::lock_guard<std::mutex> lock(pack_mu_);
    if (!pack_writer_.empty()) {
      entries = pack_writer_.entries();
      pack = pack_writer_.Finish();
    }
  }
  if (!pack.empty()) {
    Status status = WritePack(std::move(pack), std::move(entries));
    if (!status.ok()) {
      RecordError(status);
      return status;
    }
  }
  Status status = WriteIndexRun();
  if (!status.ok()) RecordError(status);
  return status;
}

SessionStats Repository::session_stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Result<std::string> Repository::LoadBlob(std::string_view id) {
  return ReadBlob(id, /*as_reference=*/false);
}

Result<std::string> Repository::SaveSnapshot(const nlohmann::json& manifest) {
  std::string sealed = sealer_.Seal("snapshot", manifest);
  std::string id = ToHex(Sha256(sealed));
  LB_RETURN_IF_ERROR(store_->Put(kSnapshotsPrefix + id, sealed));
  return id;
}

Result<nlohmann::json> Repository::LoadSnapshot(std::string_view id) {
  if (!IsHexId(id)) return InvalidArgumentError("'" + std::string(id) + "' is not a snapshot id");
  const std::string key = kSnapshotsPrefix + std::string(id);
  Result<std::string> sealed = store_->Get(key);
  if (!sealed.ok()) {
    if (sealed.status().code() == StatusCode::kNotFound) {
      return NotFoundError("backup " + std::string(id.substr(0, 8)) + " does not exist");
    }
    return sealed.status();
  }
  if (ToHex(Sha256(*sealed)) != id) {
    return DataLossError("manifest " + key + " does not match its name: it was altered");
  }
  return sealer_.Open("snapshot", *sealed, key);
}

Status Repository::ListSnapshotIds(const std::function<Status(const std::string& id)>& fn) {
  return store_->List(kSnapshotsPrefix, [&](const ObjectInfo& info) {
    std::string id = info.key.substr(sizeof(kSnapshotsPrefix) - 1);
    if (!IsHexId(id)) return OkStatus();
    return fn(id);
  });
}

Status Repository::AddPassword(std::string_view password, const ScryptParams& params,
                               const KeySlotInfo& info) {
  if (password.empty()) return InvalidArgumentError("the new password is empty");
  return store_->Put(kKeysPrefix + ToHex(RandomBytes(16)),
                     CreateKeySlot(key_, password, params, info));
}

Status Repository::ForEachIndexRun(const std::function<Status(IndexRun&)>& fn) {
  std::shared_lock<std::shared_mutex> lock(runs_mu_);
  for (auto& run : runs_) LB_RETURN_IF_ERROR(fn(*run));
  return OkStatus();
}

}  // namespace lifeboat
