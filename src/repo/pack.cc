#include "repo/pack.h"

#include <cstring>

#include "base/encoding.h"
#include "codec/compression.h"

namespace lifeboat {
namespace {

constexpr char kBlobAssociatedData[] = "lifeboat:blob";
constexpr char kHeaderAssociatedData[] = "lifeboat:pack-header";
constexpr size_t kIdSize = 32;

std::string BlobAssociatedData(std::string_view id) {
  std::string ad = kBlobAssociatedData;
  ad.append(id);
  return ad;
}

Result<std::vector<PackedBlob>> ParseHeader(std::string_view sealed_header, const Aead& aead,
                                            uint64_t blobs_end, std::string_view pack_name) {
  const std::string what = "pack " + std::string(pack_name);
  std::string plain;
  LB_RETURN_IF_ERROR(aead.Open(sealed_header, kHeaderAssociatedData, &plain).WithContext(what));
  std::string_view in = plain;
  uint64_t count = 0;
  if (in.empty() || static_cast<uint8_t>(in[0]) != kPackVersion) {
    return DataLossError(what + " has an unknown header version");
  }
  in.remove_prefix(1);
  if (!GetVarint64(&in, &count)) return DataLossError(what + ": header is truncated");
  std::vector<PackedBlob> blobs;
  uint64_t offset = 0;
  for (uint64_t i = 0; i < count; ++i) {
    PackedBlob blob;
    std::string_view id;
    uint64_t sealed = 0, raw = 0;
    if (in.size() < 2 + kIdSize) return DataLossError(what + ": header is truncated");
    blob.type = static_cast<BlobType>(in[0]);
    blob.compression = static_cast<Compression>(in[1]);
    in.remove_prefix(2);
    GetBytes(&in, kIdSize, &id);
    if (!GetVarint64(&in, &sealed) || !GetVarint64(&in, &raw)) {
      return DataLossError(what + ": header is truncated");
    }
    if (static_cast<uint8_t>(blob.type) > 1 || static_cast<uint8_t>(blob.compression) > 3 ||
        sealed < Aead::kOverhead || offset + sealed > blobs_end || raw > UINT32_MAX) {
      return DataLossError(what + ": header entry " + std::to_string(i) + " is invalid");
    }
    blob.id.assign(id);
    blob.offset = static_cast<uint32_t>(offset);
    blob.sealed_length = static_cast<uint32_t>(sealed);
    blob.raw_length = static_cast<uint32_t>(raw);
    offset += sealed;
    blobs.push_back(std::move(blob));
  }
  if (offset != blobs_end) {
    return DataLossError(what + ": header lists " + std::to_string(offset) +
                         " bytes of blobs but the pack holds " + std::to_string(blobs_end));
  }
  return blobs;
}

Status ParseTrailer(std::string_view trailer, uint64_t pack_size, std::string_view pack_name,
                    uint32_t* header_length) {
  const std::string what = "pack " + std::string(pack_name);
  if (pack_size < kPackTrailerSize || trailer.size() != kPackTrailerSize) {
    return DataLossError(what + " is too short to be a pack");
  }
  if (std::memcmp(trailer.data() + 4, kPackMagic, 4) != 0) {
    return DataLossError(what + " does not end with the pack magic");
  }
  *header_length = DecodeFixed32(trailer.data());
  if (*header_length < Aead::kOverhead || *header_length > pack_size - kPackTrailerSize) {
    return DataLossError(what + " has an impossible header length");
  }
  return OkStatus();
}

}  // namespace

Compression SealBlob(const Aead& aead, std::string_view id, std::string_view plaintext,
                     const CompressionSettings& settings, std::string* out) {
  thread_local std::string compressed;
  Compression compression = Compression::kNone;
  std::string_view stored = plaintext;
  if (!plaintext.empty()) {
    const bool lz4 = settings.method == CompressionMethod::kLz4;
    if (lz4) {
      Lz4Compress(plaintext, &compressed);
    } else {
      ZstdCompress(plaintext, settings.zstd_level, &compressed);
    }
    if (compressed.size() < plaintext.size()) {
      compression = lz4 ? Compression::kLz4 : Compression::kZstd;
      stored = compressed;
    }
  }
  aead.Seal(stored, BlobAssociatedData(id), out);
  return compression;
}

bool SealDeltaBlob(const Aead& aead, std::string_view id, std::string_view plaintext,
                   const std::vector<std::string>& references, std::string_view prefix,
                   int zstd_level, std::string* out) {
  thread_local std::string stored;
  thread_local std::string frame;
  if (references.empty() || references.size() > kMaxDeltaReferences || plaintext.empty()) {
    return false;
  }
  ZstdCompressWithPrefix(plaintext, prefix, zstd_level, &frame);
  stored.clear();
  stored.push_back(static_cast<char>(references.size()));
  for (const std::string& ref : references) stored.append(ref);
  stored.append(frame);
  if ((stored.size() + Aead::kOverhead) * 8 >= plaintext.size()) return false;
  aead.Seal(stored, BlobAssociatedData(id), out);
  return true;
}

namespace {

Result<std::vector<std::string>> DeltaReferences(std::string_view stored) {
  if (stored.empty()) return DataLossError("delta blob is empty");
  const size_t count = static_cast<uint8_t>(stored[0]);
  if (count == 0 || count > kMaxDeltaReferences || stored.size() < 1 + count * kIdSize) {
    return DataLossError("delta blob has an invalid reference list");
  }
  std::vector<std::string> refs;
  for (size_t i = 0; i < count; ++i) refs.emplace_back(stored.substr(1 + i * kIdSize, kIdSize));
  return refs;
}

}  // namespace

Result<std::vector<std::string>> ReadDeltaReferences(const Aead& aead, std::string_view id,
                                                     std::string_view sealed) {
  std::string stored;
  LB_RETURN_IF_ERROR(aead.Open(sealed, BlobAssociatedData(id), &stored));
  return DeltaReferences(stored);
}

Status OpenBlob(const Aead& aead, std::string_view id, Compression compression, uint32_t raw_length,
                std::string_view sealed, std::string* plaintext,
                const ReferenceLoader* load_reference) {
  if (compression == Compression::kNone) {
    LB_RETURN_IF_ERROR(aead.Open(sealed, BlobAssociatedData(id), plaintext));
  } else if (compression == Compression::kZstdDelta) {
    thread_local std::string stored;
    LB_RETURN_IF_ERROR(aead.Open(sealed, BlobAssociatedData(id), &stored));
    if (load_reference == nullptr) {
      return FailedPreconditionError("blob " + ToHex(id) +
                                     " is a delta: its references are needed");
    }
    // The references are loaded into a string of our own: loading them may reuse `stored`.
    const std::string payload = stored;
    LB_ASSIGN_OR_RETURN(std::vector<std::string> refs, DeltaReferences(payload));
    std::string prefix;
    for (const std::string& ref : refs) {
      Result<std::string> content = (*load_reference)(ref);
      if (!content.ok()) {
        return content.status().WithContext("reading reference " + ToHex(ref) + " of delta blob " +
                                            ToHex(id));
      }
      prefix.append(*content);
    }
    LB_RETURN_IF_ERROR(
        ZstdDecompressWithPrefix(std::string_view(payload).substr(1 + refs.size() * kIdSize),
                                 prefix, raw_length, plaintext));
  } else {
    thread_local std::string stored;
    LB_RETURN_IF_ERROR(aead.Open(sealed, BlobAssociatedData(id), &stored));
    if (compression == Compression::kLz4) {
      LB_RETURN_IF_ERROR(Lz4Decompress(stored, raw_length, plaintext));
    } else {
      LB_RETURN_IF_ERROR(ZstdDecompress(stored, raw_length, plaintext));
    }
  }
  if (plaintext->size() != raw_length) {
    return DataLossError("blob " + ToHex(id) + " has " + std::to_string(plaintext->size()) +
                         " bytes, the index says " + std::to_string(raw_length));
  }
  return OkStatus();
}

PackWriter::PackWriter(const Aead* aead, PackBufferPool* buffers) : aead_(aead), buffers_(buffers) {
  if (buffers_ != nullptr) data_ = buffers_->Take();
}

void PackWriter::Add(std::string_view id, BlobType type, Compression compression,
                     uint32_t raw_length, std::string_view sealed) {
  PackedBlob blob;
  blob.id.assign(id);
  blob.type = type;
  blob.compression = compression;
  blob.offset = static_cast<uint32_t>(data_.size());
  blob.sealed_length = static_cast<uint32_t>(sealed.size());
  blob.raw_length = raw_length;
  data_.append(sealed);
  entries_.push_back(std::move(blob));
}

AlignedString PackWriter::Finish() {
  std::string header;
  header.push_back(static_cast<char>(kPackVersion));
  PutVarint64(&header, entries_.size());
  for (const PackedBlob& blob : entries_) {
    header.push_back(static_cast<char>(blob.type));
    header.push_back(static_cast<char>(blob.compression));
    header.append(blob.id);
    PutVarint64(&header, blob.sealed_length);
    PutVarint64(&header, blob.raw_length);
  }
  std::string trailer;
  aead_->Seal(header, kHeaderAssociatedData, &trailer);
  PutFixed32(&trailer, static_cast<uint32_t>(trailer.size()));
  trailer.append(kPackMagic, 4);
  data_.append(trailer);
  AlignedString pack = std::move(data_);
  data_ = buffers_ != nullptr ? buffers_->Take() : AlignedString();
  entries_.clear();
  return pack;
}

Result<std::vector<PackedBlob>> ParsePack(std::string_view pack, const Aead& aead,
                                          std::string_view pack_name) {
  uint32_t header_length = 0;
  LB_RETURN_IF_ERROR(ParseTrailer(
      pack.substr(pack.size() >= kPackTrailerSize ? pack.size() - kPackTrailerSize : 0),
      pack.size(), pack_name, &header_length));
  uint64_t blobs_end = pack.size() - kPackTrailerSize - header_length;
  return ParseHeader(pack.substr(blobs_end, header_length), aead, blobs_end, pack_name);
}

Result<std::vector<PackedBlob>> ReadPackHeader(ObjectStore* store, std::string_view key,
                                               const Aead& aead) {
  LB_ASSIGN_OR_RETURN(uint64_t size, store->Size(key));
  if (size < kPackTrailerSize) return DataLossError("pack " + std::string(key) + " is too short");
  LB_ASSIGN_OR_RETURN(std::string trailer,
                      store->GetRange(key, size - kPackTrailerSize, kPackTrailerSize));
  uint32_t header_length = 0;
  LB_RETURN_IF_ERROR(ParseTrailer(trailer, size, key, &header_length));
  uint64_t blobs_end = size - kPackTrailerSize - header_length;
  LB_ASSIGN_OR_RETURN(std::string header, store->GetRange(key, blobs_end, header_length));
  return ParseHeader(header, aead, blobs_end, key);
}

std::string PackKey(std::string_view pack_id) {
  std::string hex = ToHex(pack_id);
  return "data/" + hex.substr(0, 2) + "/" + hex;
}

}  // namespace lifeboat
