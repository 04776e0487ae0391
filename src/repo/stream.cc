#include "repo/stream.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "base/encoding.h"
#include "codec/hash.h"

namespace lifeboat {

namespace {

// The reference window: at least this many chunks, and this many kept behind the position.
constexpr size_t kReferenceWindow = 64;
constexpr size_t kReferenceBehind = 16;
constexpr size_t kMaxBasesPerChunk = 3;
// How far from the position a new chunk's anchor is looked for, and its length.
constexpr uint64_t kSearchBytes = 256 << 10;
constexpr size_t kAnchorBytes = 64;

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

StreamWriter::StreamWriter(BlobStore* store, const PartOptions& part)
    : StreamWriter(store, part.reference) {
  part_ = true;
  position_ = part.reference_offset;
  skip_to_ = part.reference_offset > kSearchBytes ? part.reference_offset - kSearchBytes : 0;
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

void StreamWriter::FillWindow(uint64_t offset) {
  // A reference that cannot be read only costs the deltas: the stream itself goes on.
  while (reference_ && (window_end_ < offset || window_.size() < kReferenceWindow)) {
    Result<std::optional<std::string>> id = reference_->Next();
    Result<uint64_t> size =
        id.ok() && id->has_value() ? store_->BlobSize(**id) : Result<uint64_t>(uint64_t{0});
    if (!id.ok() || !id->has_value() || !size.ok()) {
      reference_.reset();
      break;
    }
    if (window_end_ + *size > skip_to_) {
      window_.push_back(ReferenceChunk{std::move(**id), window_end_, *size, std::nullopt});
    }
    window_end_ += *size;
  }
}

std::optional<uint64_t> StreamWriter::ReadReference(uint64_t lo, uint64_t hi, std::string* out) {
  out->clear();
  FillWindow(hi);
  std::optional<uint64_t> start;
  for (ReferenceChunk& c : window_) {
    if (c.end() <= lo) continue;
    if (c.start >= hi) break;
    if (!c.content) {
      Result<std::string> content = store_->LoadBlob(c.id);
      if (!content.ok() || content->size() != c.size) return std::nullopt;
      c.content = std::move(content).value();
    }
    if (!start) start = std::max(lo, c.start);
    const uint64_t from = std::max(lo, c.start) - c.start;
    const uint64_t to = std::min(hi, c.end()) - c.start;
    out->append(*c.content, from, to - from);
  }
  return start.value_or(lo);
}

std::optional<uint64_t> StreamWriter::Locate(std::string_view chunk) {
  std::string text;
  for (const uint64_t at : {uint64_t{0}, uint64_t{chunk.size() / 2}}) {
    if (chunk.size() < at + kAnchorBytes) continue;
    const std::string_view anchor = chunk.substr(at, kAnchorBytes);
    const uint64_t expected = position_ + at;
    // Nearby first: most chunks start within a few KiB of where the position says.
    for (const uint64_t reach : {uint64_t{8} << 10, uint64_t{64} << 10, kSearchBytes}) {
      const uint64_t lo = expected > reach ? expected - reach : 0;
      const std::optional<uint64_t> text_start =
          ReadReference(lo, expected + reach + kAnchorBytes, &text);
      if (!text_start) return std::nullopt;
      // The occurrence nearest to the expected place.
      std::optional<uint64_t> best;
      uint64_t best_distance = UINT64_MAX;
      for (size_t hit = text.find(anchor); hit != std::string::npos;
           hit = text.find(anchor, hit + 1)) {
        const uint64_t where = *text_start + hit;
        const uint64_t distance = where > expected ? where - expected : expected - where;
        if (distance < best_distance) {
          best = where;
          best_distance = distance;
        }
        if (where > expected) break;
      }
      if (best && *best >= at) return *best - at;
      const bool searched_all =
          window_.empty() || (lo <= window_.front().start && expected + reach >= window_end_);
      if (searched_all) break;
    }
  }
  return std::nullopt;
}

std::vector<std::string> StreamWriter::Bases(std::string_view chunk) {
  const uint64_t start = Locate(chunk).value_or(position_);
  located_ = start;
  const uint64_t end = start + chunk.size();
  FillWindow(end);
  std::vector<std::string> bases;
  for (const ReferenceChunk& c : window_) {
    if (c.start >= end || bases.size() == kMaxBasesPerChunk) break;
    if (c.end() > start) bases.push_back(c.id);
  }
  return bases;
}

void StreamWriter::Step(const SaveResult& saved, uint64_t length) {
  auto found = std::find_if(window_.begin(), window_.end(),
                            [&](const ReferenceChunk& c) { return c.id == saved.id; });
  if (found != window_.end()) {
    position_ = found->end();  // in step again, after this chunk
  } else {
    position_ = located_.value_or(position_) + length;
  }
  located_.reset();
  // Keep a few chunks behind the position: data inserted upstream moves it past chunks that
  // the stream has yet to meet. Content is kept only within the search distance.
  while (window_.size() > kReferenceBehind && window_[kReferenceBehind].end() <= position_) {
    window_.pop_front();
  }
  for (ReferenceChunk& c : window_) {
    if (c.end() + kSearchBytes >= position_) break;
    c.content.reset();
  }
}

Status StreamWriter::SaveData(std::string_view chunk) {
  const bool referenced = reference_ || !window_.empty();
  BlobStore::BasesFn bases;
  if (referenced) bases = [&] { return Bases(chunk); };
  LB_ASSIGN_OR_RETURN(SaveResult saved, store_->SaveBlob(BlobType::kData, chunk, bases));
  if (referenced) Step(saved, chunk.size());
  ++ref_.blobs;
  LB_RETURN_IF_ERROR(Count(saved, chunk.size()));
  if (part_) {
    ids_.push_back(saved.id);
    return OkStatus();
  }
  return tree_chunker_->Write(saved.id);
}

Status StreamWriter::AppendIds(const std::vector<std::string>& ids, uint64_t bytes) {
  ref_.bytes += bytes;
  ref_.blobs += ids.size();
  for (const std::string& id : ids) LB_RETURN_IF_ERROR(tree_chunker_->Write(id));
  return OkStatus();
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

// What the reader and its read-ahead thread share. The last blob taken (the end, or an error)
// stays in `ready`, so that every later Read sees it again.
struct StreamReader::ReadAhead {
  std::mutex mu;
  std::condition_variable changed;
  std::deque<Loaded> ready;
  size_t ready_bytes = 0;
  bool stop = false;
  std::thread thread;
};

StreamReader::StreamReader(BlobStore* store, StreamRef ref, size_t read_ahead_bytes)
    : store_(store), ref_(std::move(ref)), ids_(store, ref_), read_ahead_bytes_(read_ahead_bytes) {}

StreamReader::~StreamReader() {
  if (!ahead_) return;
  {
    std::lock_guard<std::mutex> lock(ahead_->mu);
    ahead_->stop = true;
  }
  ahead_->changed.notify_all();
  ahead_->thread.join();
}

StreamReader::Loaded StreamReader::LoadNext() {
  LB_ASSIGN_OR_RETURN(std::optional<std::string> id, ids_.Next());
  if (!id) return std::optional<std::string>();
  LB_ASSIGN_OR_RETURN(std::string blob, store_->LoadBlob(*id));
  return std::optional<std::string>(std::move(blob));
}

void StreamReader::LoadAhead() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(ahead_->mu);
      ahead_->changed.wait(lock, [&] {
        return ahead_->stop || ahead_->ready.empty() || ahead_->ready_bytes < read_ahead_bytes_;
      });
      if (ahead_->stop) return;
    }
    Loaded next = LoadNext();
    const bool last = !next.ok() || !next->has_value();
    {
      std::lock_guard<std::mutex> lock(ahead_->mu);
      if (!last) ahead_->ready_bytes += (*next)->size();
      ahead_->ready.push_back(std::move(next));
    }
    ahead_->changed.notify_all();
    if (last) return;
  }
}

StreamReader::Loaded StreamReader::TakeAhead() {
  if (!ahead_) {
    ahead_ = std::make_unique<ReadAhead>();
    ahead_->thread = std::thread(&StreamReader::LoadAhead, this);
  }
  std::unique_lock<std::mutex> lock(ahead_->mu);
  ahead_->changed.wait(lock, [&] { return !ahead_->ready.empty(); });
  Loaded& front = ahead_->ready.front();
  if (!front.ok() || !front->has_value()) return front;
  Loaded taken = std::move(front);
  ahead_->ready.pop_front();
  ahead_->ready_bytes -= (*taken)->size();
  lock.unlock();
  ahead_->changed.notify_all();
  return taken;
}

Result<bool> StreamReader::Advance() {
  LB_ASSIGN_OR_RETURN(std::optional<std::string> blob,
                      read_ahead_bytes_ == 0 ? LoadNext() : TakeAhead());
  if (!blob) return false;
  current_ = std::move(*blob);
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
