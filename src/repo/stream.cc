#include "repo/stream.h"

#include <algorithm>
#include <cstring>

#include "base/encoding.h"
#include "codec/hash.h"

namespace lifeboat {

namespace {

constexpr size_t kReferenceWindow = 64;
constexpr size_t kBasesPerChunk = 2;

}  // namespace

Result<std::optional<std::string>> StreamIds::Next() {
  while (tree_pos_ >= tree_.size()) {
    if (next_tree_ >= trees_.size()) return std::optional<std::string>();
    LB_ASSIGN_OR_RETURN(tree_, store_->LoadBlob(trees_[next_tree_]));
    ++next_tree_;
    tree_pos_ = 0;
  }
  // Tree chunks are cut at content-defined points, so an id may straddle two trees.
  if (tree_.size() - tree_pos_ < kHashSize) {
    std::string head = tree_.substr(tree_pos_);
    if (next_tree_ >= trees_.size()) {
      return DataLossError("stream tree list ends inside a blob id");
    }
    LB_ASSIGN_OR_RETURN(tree_, store_->LoadBlob(trees_[next_tree_]));
    ++next_tree_;
    tree_.insert(0, head);
    tree_pos_ = 0;
    if (tree_.size() < kHashSize) return DataLossError("stream tree blob is too short");
  }
  std::string id = tree_.substr(tree_pos_, kHashSize);
  tree_pos_ += kHashSize;
  return std::optional<std::string>(std::move(id));
}

StreamWriter::StreamWriter(BlobStore* store, const StreamRef* reference) : store_(store) {
  if (reference != nullptr && reference->blobs > 0) {
    reference_ = std::make_unique<StreamIds>(store, *reference);
  }
  data_chunker_ =
      std::make_unique<StreamChunker>(store->chunker_params(), store->gear_table(),
                                      [this](std::string_view chunk) { return SaveData(chunk); });
  tree_chunker_ =
      std::make_unique<StreamChunker>(store->chunker_params(), store->gear_table(),
                                      [this](std::string_view chunk) { return SaveTree(chunk); });
}

StreamWriter::~StreamWriter() = default;

Status StreamWriter::Write(std::string_view data) {
  ref_.bytes += data.size();
  return data_chunker_->Write(data);
}

Status StreamWriter::Count(const SaveResult& result, size_t plaintext_size) {
  if (result.added) {
    ++stats_.new_blobs;
    stats_.new_bytes += plaintext_size;
    stats_.stored_bytes += result.stored_bytes;
  }
  return OkStatus();
}

std::vector<std::string> StreamWriter::Bases() {
  // A reference that cannot be read only costs the deltas: the stream itself goes on.
  while (reference_ && window_.size() < kReferenceWindow) {
    Result<std::optional<std::string>> id = reference_->Next();
    if (!id.ok() || !id->has_value()) {
      reference_.reset();
      break;
    }
    window_.push_back(std::move(**id));
  }
  std::vector<std::string> bases;
  for (size_t i = 0; i < window_.size() && i < kBasesPerChunk; ++i) bases.push_back(window_[i]);
  return bases;
}

void StreamWriter::Step(const SaveResult& saved) {
  auto found = std::find(window_.begin(), window_.end(), saved.id);
  if (found != window_.end()) {
    window_.erase(window_.begin(), found + 1);  // in step again, after this chunk
  } else if (saved.added && !window_.empty()) {
    window_.pop_front();  // a new chunk takes the place of one reference chunk
  }
}

Status StreamWriter::SaveData(std::string_view chunk) {
  std::vector<std::string> bases = Bases();
  LB_ASSIGN_OR_RETURN(SaveResult saved, store_->SaveBlob(BlobType::kData, chunk, bases));
  if (!bases.empty()) Step(saved);
  ++ref_.blobs;
  LB_RETURN_IF_ERROR(Count(saved, chunk.size()));
  return tree_chunker_->Write(saved.id);
}

Status StreamWriter::SaveTree(std::string_view chunk) {
  // Cut points are content-defined, so an id may straddle two trees; StreamReader joins them.
  LB_ASSIGN_OR_RETURN(SaveResult saved, store_->SaveBlob(BlobType::kTree, chunk));
  ref_.trees.push_back(saved.id);
  return Count(saved, chunk.size());
}

Result<StreamRef> StreamWriter::Finish() {
  LB_RETURN_IF_ERROR(data_chunker_->Finish());
  LB_RETURN_IF_ERROR(tree_chunker_->Finish());
  return std::move(ref_);
}

StreamReader::StreamReader(BlobStore* store, StreamRef ref)
    : store_(store), ref_(std::move(ref)), ids_(store, ref_) {}

Result<bool> StreamReader::Advance() {
  LB_ASSIGN_OR_RETURN(std::optional<std::string> id, ids_.Next());
  if (!id) return false;
  LB_ASSIGN_OR_RETURN(current_, store_->LoadBlob(*id));
  current_pos_ = 0;
  ++blobs_read_;
  return true;
}

Result<size_t> StreamReader::Read(char* buf, size_t n) {
  while (current_pos_ >= current_.size()) {
    LB_ASSIGN_OR_RETURN(bool more, Advance());
    if (!more) {
      if (bytes_read_ != ref_.bytes || blobs_read_ != ref_.blobs) {
        return DataLossError("stream is shorter than its manifest says: read " +
                             std::to_string(bytes_read_) + " of " + std::to_string(ref_.bytes) +
                             " bytes");
      }
      return size_t{0};
    }
  }
  size_t take = std::min(n, current_.size() - current_pos_);
  std::memcpy(buf, current_.data() + current_pos_, take);
  current_pos_ += take;
  bytes_read_ += take;
  return take;
}

Result<StreamRef> SaveStream(BlobStore* store, std::string_view data) {
  StreamWriter writer(store);
  LB_RETURN_IF_ERROR(writer.Write(data));
  return writer.Finish();
}

Result<std::string> LoadStream(BlobStore* store, const StreamRef& ref) {
  StreamReader reader(store, ref);
  std::string out;
  std::string buf(1 << 16, '\0');
  for (;;) {
    LB_ASSIGN_OR_RETURN(size_t got, reader.Read(buf.data(), buf.size()));
    if (got == 0) return out;
    out.append(buf.data(), got);
  }
}

}  // namespace lifeboat
