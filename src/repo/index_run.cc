#include "repo/index_run.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "base/encoding.h"

namespace lifeboat {
namespace {

constexpr char kBlockAssociatedData[] = "lifeboat:index-block";
constexpr char kFooterAssociatedData[] = "lifeboat:index-footer";
constexpr size_t kIdSize = 32;
constexpr size_t kTrailerSize = 8;
constexpr uint8_t kIndexVersion = 1;
constexpr uint8_t kBloomHashes = 7;
constexpr size_t kBloomBitsPerEntry = 10;

std::string BlockAssociatedData(uint32_t block) {
  std::string ad = kBlockAssociatedData;
  PutFixed32(&ad, block);
  return ad;
}

void BloomProbes(std::string_view id, uint64_t* h1, uint64_t* h2) {
  *h1 = DecodeFixed64(id.data());
  *h2 = DecodeFixed64(id.data() + 8) | 1;
}

}  // namespace

std::string BuildIndexRun(const std::vector<IndexRecord>& records, const Aead& aead) {
  // Pack table: each pack once, numbered in order of first appearance.
  std::map<std::string, uint32_t> pack_numbers;
  std::vector<const std::string*> packs;
  for (const IndexRecord& r : records) {
    auto [it, inserted] =
        pack_numbers.try_emplace(r.location.pack_id, static_cast<uint32_t>(packs.size()));
    if (inserted) packs.push_back(&it->first);
  }

  std::string out;
  std::string footer_blocks;
  uint32_t block_count = 0;
  for (size_t start = 0; start < records.size(); start += kIndexBlockEntries) {
    size_t end = std::min(records.size(), start + kIndexBlockEntries);
    std::string block;
    block.reserve((end - start) * kIndexEntrySize);
    for (size_t i = start; i < end; ++i) {
      const IndexRecord& r = records[i];
      assert(r.id.size() == kIdSize);
      assert(i == 0 || records[i - 1].id < r.id);
      block.append(r.id);
      PutFixed32(&block, pack_numbers[r.location.pack_id]);
      PutFixed32(&block, r.location.offset);
      PutFixed32(&block, r.location.sealed_length);
      PutFixed32(&block, r.location.raw_length);
      block.push_back(static_cast<char>(r.location.type));
      block.push_back(static_cast<char>(r.location.compression));
    }
    size_t offset = out.size();
    aead.Seal(block, BlockAssociatedData(block_count), &out);
    footer_blocks.append(records[start].id);
    PutVarint64(&footer_blocks, offset);
    PutVarint64(&footer_blocks, out.size() - offset);
    PutVarint64(&footer_blocks, end - start);
    ++block_count;
  }

  uint64_t bits = std::max<uint64_t>(64, records.size() * kBloomBitsPerEntry);
  bits = (bits + 7) / 8 * 8;
  std::string bloom(bits / 8, '\0');
  for (const IndexRecord& r : records) {
    uint64_t h1, h2;
    BloomProbes(r.id, &h1, &h2);
    for (uint64_t i = 0; i < kBloomHashes; ++i) {
      uint64_t bit = (h1 + i * h2) % bits;
      bloom[bit / 8] = static_cast<char>(bloom[bit / 8] | (1 << (bit % 8)));
    }
  }

  std::string footer;
  footer.push_back(static_cast<char>(kIndexVersion));
  PutVarint64(&footer, records.size());
  PutVarint64(&footer, packs.size());
  for (const std::string* pack : packs) footer.append(*pack);
  PutVarint64(&footer, block_count);
  footer.append(footer_blocks);
  footer.push_back(static_cast<char>(kBloomHashes));
  PutLengthPrefixed(&footer, bloom);

  size_t before = out.size();
  aead.Seal(footer, kFooterAssociatedData, &out);
  PutFixed32(&out, static_cast<uint32_t>(out.size() - before));
  out.append(kIndexMagic, 4);
  return out;
}

std::shared_ptr<const std::string> BlockCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void BlockCache::Put(const std::string& key, std::shared_ptr<const std::string> block) {
  std::lock_guard<std::mutex> lock(mu_);
  if (map_.count(key) != 0) return;
  used_ += block->size();
  lru_.emplace_front(key, std::move(block));
  map_[key] = lru_.begin();
  while (used_ > capacity_ && lru_.size() > 1) {
    used_ -= lru_.back().second->size();
    map_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

Result<std::unique_ptr<IndexRun>> IndexRun::Open(ObjectStore* store, std::string key,
                                                 const Aead* aead, BlockCache* cache) {
  std::unique_ptr<IndexRun> run(new IndexRun(store, std::move(key), aead, cache));
  const std::string what = "index " + run->key_;
  LB_ASSIGN_OR_RETURN(uint64_t size, store->Size(run->key_));
  if (size < kTrailerSize) return DataLossError(what + " is too short");
  LB_ASSIGN_OR_RETURN(std::string trailer,
                      store->GetRange(run->key_, size - kTrailerSize, kTrailerSize));
  if (std::memcmp(trailer.data() + 4, kIndexMagic, 4) != 0) {
    return DataLossError(what + " does not end with the index magic");
  }
  uint32_t footer_length = DecodeFixed32(trailer.data());
  if (footer_length < Aead::kOverhead || footer_length > size - kTrailerSize) {
    return DataLossError(what + " has an impossible footer length");
  }
  LB_ASSIGN_OR_RETURN(
      std::string sealed,
      store->GetRange(run->key_, size - kTrailerSize - footer_length, footer_length));
  std::string footer;
  LB_RETURN_IF_ERROR(aead->Open(sealed, kFooterAssociatedData, &footer).WithContext(what));
  LB_RETURN_IF_ERROR(run->ParseFooter(footer).WithContext(what));
  return run;
}

Status IndexRun::ParseFooter(std::string_view in) {
  uint64_t pack_count = 0, block_count = 0;
  if (in.empty() || static_cast<uint8_t>(in[0]) != kIndexVersion) {
    return DataLossError("unknown index version");
  }
  in.remove_prefix(1);
  if (!GetVarint64(&in, &entry_count_) || !GetVarint64(&in, &pack_count) ||
      pack_count > in.size() / kIdSize) {
    return DataLossError("footer is truncated");
  }
  for (uint64_t i = 0; i < pack_count; ++i) {
    std::string_view id;
    GetBytes(&in, kIdSize, &id);
    packs_.emplace_back(id);
  }
  if (!GetVarint64(&in, &block_count) || block_count > in.size() / kIdSize) {
    return DataLossError("footer is truncated");
  }
  uint64_t total = 0;
  for (uint64_t i = 0; i < block_count; ++i) {
    Block block{};
    std::string_view first;
    uint64_t entries = 0;
    if (!GetBytes(&in, kIdSize, &first) || !GetVarint64(&in, &block.offset) ||
        !GetVarint64(&in, &block.length) || !GetVarint64(&in, &entries) || entries == 0 ||
        entries > kIndexBlockEntries) {
      return DataLossError("footer block table is malformed");
    }
    std::memcpy(block.first_id.data(), first.data(), kIdSize);
    block.entries = static_cast<uint32_t>(entries);
    total += entries;
    blocks_.push_back(block);
  }
  std::string_view bloom;
  if (in.empty()) return DataLossError("footer is truncated");
  bloom_hashes_ = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if (!GetLengthPrefixed(&in, &bloom) || bloom.empty() || total != entry_count_) {
    return DataLossError("footer bloom filter or entry count is malformed");
  }
  bloom_bits_.assign(bloom);
  return OkStatus();
}

bool IndexRun::MayContain(std::string_view id) const {
  uint64_t bits = bloom_bits_.size() * 8;
  uint64_t h1, h2;
  BloomProbes(id, &h1, &h2);
  for (uint64_t i = 0; i < bloom_hashes_; ++i) {
    uint64_t bit = (h1 + i * h2) % bits;
    if ((static_cast<uint8_t>(bloom_bits_[bit / 8]) & (1 << (bit % 8))) == 0) return false;
  }
  return true;
}

Result<std::shared_ptr<const std::string>> IndexRun::LoadBlock(size_t index) {
  std::string cache_key = key_;
  PutFixed32(&cache_key, static_cast<uint32_t>(index));
  if (auto cached = cache_->Get(cache_key)) return cached;
  const Block& block = blocks_[index];
  LB_ASSIGN_OR_RETURN(std::string sealed, store_->GetRange(key_, block.offset, block.length));
  auto plain = std::make_shared<std::string>();
  LB_RETURN_IF_ERROR(
      aead_->Open(sealed, BlockAssociatedData(static_cast<uint32_t>(index)), plain.get())
          .WithContext("index " + key_ + " block " + std::to_string(index)));
  if (plain->size() != size_t{block.entries} * kIndexEntrySize) {
    return DataLossError("index " + key_ + " block " + std::to_string(index) +
                         " has the wrong size");
  }
  cache_->Put(cache_key, plain);
  return std::shared_ptr<const std::string>(std::move(plain));
}

Status IndexRun::DecodeEntry(std::string_view entry, IndexRecord* record) const {
  record->id.assign(entry.substr(0, kIdSize));
  const char* p = entry.data() + kIdSize;
  uint32_t pack = DecodeFixed32(p);
  if (pack >= packs_.size()) {
    return DataLossError("index " + key_ + " names pack number " + std::to_string(pack) + " of " +
                         std::to_string(packs_.size()));
  }
  BlobLocation& loc = record->location;
  loc.pack_id = packs_[pack];
  loc.offset = DecodeFixed32(p + 4);
  loc.sealed_length = DecodeFixed32(p + 8);
  loc.raw_length = DecodeFixed32(p + 12);
  loc.type = static_cast<BlobType>(p[16]);
  loc.compression = static_cast<Compression>(p[17]);
  return OkStatus();
}

Result<std::optional<BlobLocation>> IndexRun::Find(std::string_view id) {
  if (!MayContain(id)) return std::optional<BlobLocation>();
  // The last block whose first id is <= id.
  auto it = std::upper_bound(blocks_.begin(), blocks_.end(), id,
                             [](std::string_view target, const Block& b) {
                               return target < std::string_view(b.first_id.data(), kIdSize);
                             });
  if (it == blocks_.begin()) return std::optional<BlobLocation>();
  size_t index = static_cast<size_t>(it - blocks_.begin()) - 1;
  LB_ASSIGN_OR_RETURN(std::shared_ptr<const std::string> block, LoadBlock(index));
  size_t lo = 0, hi = blocks_[index].entries;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    std::string_view entry(block->data() + mid * kIndexEntrySize, kIndexEntrySize);
    int cmp = entry.substr(0, kIdSize).compare(id);
    if (cmp == 0) {
      IndexRecord record;
      LB_RETURN_IF_ERROR(DecodeEntry(entry, &record));
      return std::optional<BlobLocation>(std::move(record.location));
    }
    if (cmp < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return std::optional<BlobLocation>();
}

Status IndexRun::ForEach(const std::function<Status(const IndexRecord&)>& fn) {
  IndexRecord record;
  for (size_t b = 0; b < blocks_.size(); ++b) {
    LB_ASSIGN_OR_RETURN(std::shared_ptr<const std::string> block, LoadBlock(b));
    for (size_t i = 0; i < blocks_[b].entries; ++i) {
      LB_RETURN_IF_ERROR(DecodeEntry(
          std::string_view(block->data() + i * kIndexEntrySize, kIndexEntrySize), &record));
      LB_RETURN_IF_ERROR(fn(record));
    }
  }
  return OkStatus();
}

}  // namespace lifeboat
