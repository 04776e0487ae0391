#include "ops/check.h"

#include <optional>
#include <set>

#include "base/encoding.h"
#include "codec/hash.h"
#include "ops/files_entry.h"
#include "ops/manifest.h"
#include "ops/progress_meter.h"
#include "repo/pack.h"
#include "repo/stream.h"

namespace lifeboat {
namespace {

constexpr size_t kMaxErrors = 1000;
constexpr char kDataPrefix[] = "data/";

class Checker {
 public:
  Checker(Repository* repo, ProgressSink* progress, CancellationToken* cancel)
      : repo_(repo), progress_(progress), cancel_(cancel) {}

  Result<CheckReport> Run(bool read_data) {
    LB_RETURN_IF_ERROR(ListPacks());
    LB_RETURN_IF_ERROR(CheckIndex());
    LB_RETURN_IF_ERROR(CheckSnapshots());
    if (read_data) LB_RETURN_IF_ERROR(ReadData());
    for (const std::string& pack : packs_) {
      if (indexed_packs_.count(pack) == 0) {
        report_.warnings.push_back("pack " + PackKey(pack) +
                                   " is in no index (left by an interrupted backup; nothing "
                                   "refers to it)");
      }
    }
    return std::move(report_);
  }

 private:
  void Error(std::string message) {
    if (report_.errors.size() < kMaxErrors) report_.errors.push_back(std::move(message));
  }

  Status ListPacks() {
    return repo_->store()->List(kDataPrefix, [&](const ObjectInfo& info) {
      std::string name = info.key.substr(info.key.rfind('/') + 1);
      std::optional<std::string> id = FromHex(name);
      if (!id || id->size() != kHashSize || PackKey(*id) != info.key) {
        report_.warnings.push_back("object " + info.key + " is not a pack name; ignored");
        return OkStatus();
      }
      packs_.insert(*id);
      ++report_.packs;
      return OkStatus();
    });
  }

  Status CheckIndex() {
    return repo_->ForEachIndexRun([&](IndexRun& run) {
      for (const std::string& pack : run.packs()) indexed_packs_.insert(pack);
      Status walked = run.ForEach([&](const IndexRecord& record) {
        ++report_.index_entries;
        if (packs_.count(record.location.pack_id) == 0) {
          Error("index " + run.key() + " refers to missing pack " +
                PackKey(record.location.pack_id) + " (blob " + ToHex(record.id) + ")");
        }
        return cancel_->Check();
      });
      if (!walked.ok() && walked.code() != StatusCode::kCancelled) {
        Error(walked.ToString());
        return OkStatus();
      }
      return walked;
    });
  }

  // Where blob `id`, which `needed_by` needs, is; nullopt after reporting why it cannot be read.
  std::optional<BlobLocation> Find(std::string_view id, const std::string& needed_by) {
    Result<std::optional<BlobLocation>> found = repo_->Locate(id);
    if (!found.ok()) {
      Error(needed_by + ": " + found.status().ToString());
      return std::nullopt;
    }
    if (!found->has_value()) {
      Error(needed_by + " needs blob " + ToHex(id) + ", which no index holds");
      return std::nullopt;
    }
    if (packs_.count((*found)->pack_id) == 0) {
      Error(needed_by + " needs blob " + ToHex(id) + " in pack " + PackKey((*found)->pack_id) +
            ", which is missing");
      return std::nullopt;
    }
    return **found;
  }

  // Follows one blob reference from a manifest, and a delta blob's to its references
  // (FORMAT §6): reading it back needs them too.
  void CheckBlob(std::string_view id, const std::string& where) {
    ++report_.blobs_referenced;
    const std::optional<BlobLocation> location = Find(id, where);
    if (!location || location->compression != Compression::kZstdDelta) return;
    const std::string delta = where + " (delta blob " + ToHex(id) + ")";
    Result<std::vector<std::string>> references = repo_->ReferenceCandidates(id);
    if (!references.ok()) {
      Error(delta + ": " + references.status().ToString());
      return;
    }
    for (const std::string& reference : *references) {
      const std::optional<BlobLocation> base = Find(reference, delta);
      if (base && base->compression == Compression::kZstdDelta) {
        Error(delta + " refers to blob " + ToHex(reference) + ", itself a delta");
      }
    }
  }

  // Checks a stream's trees and the data blobs they list. Returns false when the trees could
  // not be read (the data blobs are then unknown).
  bool CheckStream(const StreamRef& ref, const std::string& where) {
    std::string carry;
    uint64_t blobs = 0;
    for (const std::string& tree_id : ref.trees) {
      CheckBlob(tree_id, where + " (list)");
      Result<std::string> tree = repo_->LoadBlob(tree_id);
      if (!tree.ok()) {
        Error(where + ": cannot read its list of blobs: " + tree.status().ToString());
        return false;
      }
      carry += *tree;
      size_t whole = carry.size() / kHashSize * kHashSize;
      for (size_t pos = 0; pos < whole; pos += kHashSize) {
        CheckBlob(std::string_view(carry).substr(pos, kHashSize), where);
        ++blobs;
      }
      carry.erase(0, whole);
    }
    if (!carry.empty() || blobs != ref.blobs) {
      Error(where + ": its list holds " + std::to_string(blobs) + " blobs, the manifest says " +
            std::to_string(ref.blobs));
    }
    return true;
  }

  void CheckFiles(const StreamRef& ref, const std::string& where) {
    if (!CheckStream(ref, where + " files list")) return;
    StreamReader reader(repo_, ref);
    FilesEntryReader entries(&reader);
    FilesEntry entry;
    for (;;) {
      Result<bool> next = entries.Next(&entry);
      if (!next.ok()) {
        Error(where + " files list: " + next.status().ToString());
        return;
      }
      if (!*next) return;
      std::string id;
      for (;;) {
        Result<bool> more = entries.NextBlobId(&id);
        if (!more.ok()) {
          Error(where + " file " + entry.path + ": " + more.status().ToString());
          return;
        }
        if (!*more) break;
        CheckBlob(id, where + " file " + entry.path);
      }
    }
  }

  Status CheckSnapshots() {
    std::vector<std::string> ids;
    LB_RETURN_IF_ERROR(repo_->ListSnapshotIds([&](const std::string& id) {
      ids.push_back(id);
      return OkStatus();
    }));
    ProgressMeter meter(progress_, repo_->clock(), "check", 0, ids.size());
    for (const std::string& id : ids) {
      LB_RETURN_IF_ERROR(cancel_->Check());
      ++report_.snapshots;
      const std::string where = "backup " + id.substr(0, 8);
      meter.StartItem(where);
      Result<nlohmann::json> json = repo_->LoadSnapshot(id);
      if (!json.ok()) {
        Error(where + ": " + json.status().ToString());
        continue;
      }
      Result<Manifest> manifest = ManifestFromJson(*json, id);
      if (!manifest.ok()) {
        Error(where + ": " + manifest.status().ToString());
        continue;
      }
      for (const TableEntry& table : manifest->tables) {
        CheckStream(table.content, where + " table " + table.name);
      }
      if (manifest->files) CheckFiles(manifest->files->content, where);
      meter.FinishItem();
    }
    return OkStatus();
  }

  Status ReadData() {
    ProgressMeter meter(progress_, repo_->clock(), "read data", 0, packs_.size());
    for (const std::string& pack_id : packs_) {
      LB_RETURN_IF_ERROR(cancel_->Check());
      const std::string key = PackKey(pack_id);
      meter.StartItem(key);
      Result<std::string> pack = repo_->store()->Get(key);
      if (!pack.ok()) {
        Error("pack " + key + ": " + pack.status().ToString());
        continue;
      }
      report_.bytes_read += pack->size();
      meter.Add(pack->size(), 0);
      if (Sha256(*pack) != pack_id) {
        Error("pack " + key + " does not match its name: its bytes were altered");
      }
      Result<std::vector<PackedBlob>> blobs = ParsePack(*pack, repo_->aead(), key);
      if (!blobs.ok()) {
        Error(blobs.status().ToString());
        continue;
      }
      std::string plain;
      const ReferenceLoader references = [this](std::string_view ref) {
        return repo_->LoadReference(ref);
      };
      for (size_t i = 0; i < blobs->size(); ++i) {
        const PackedBlob& b = (*blobs)[i];
        Status opened = OpenBlob(repo_->aead(), b.id, b.compression, b.raw_length,
                                 std::string_view(*pack).substr(b.offset, b.sealed_length), &plain,
                                 &references);
        ++report_.blobs_read;
        if (!opened.ok()) {
          Error("pack " + key + " blob " + std::to_string(i) + " (" + ToHex(b.id) +
                "): " + opened.ToString());
        } else if (repo_->id_hasher().Compute(plain) != b.id) {
          Error("pack " + key + " blob " + std::to_string(i) + " (" + ToHex(b.id) +
                "): its content does not hash to its id");
        }
      }
      meter.FinishItem();
    }
    return OkStatus();
  }

  Repository* repo_;
  ProgressSink* progress_;
  CancellationToken* cancel_;
  CheckReport report_;
  std::set<std::string> packs_;
  std::set<std::string> indexed_packs_;
};

}  // namespace

Result<CheckReport> RunCheck(Repository* repo, bool read_data, ProgressSink* progress,
                             CancellationToken* cancel) {
  return Checker(repo, progress, cancel).Run(read_data);
}

}  // namespace lifeboat
