#include "repo/repository.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "repo/repo_test_util.h"
#include "repo/stream.h"
#include "storage/fault_injecting_object_store.h"
#include "storage/memory_object_store.h"

namespace lifeboat {
namespace {

using testing::FastRepositoryOptions;
using testing::TestBytes;
using testing::TestSlotInfo;

// The whole stream `ref` read back, `piece` bytes at a time (an odd size straddles chunks).
std::string ReadBack(Repository* repo, const StreamRef& ref, size_t piece = 65536,
                     size_t read_ahead_bytes = 0) {
  StreamReader reader(repo, ref, read_ahead_bytes);
  std::string back;
  std::string buf(piece, '\0');
  for (;;) {
    auto n = reader.Read(buf.data(), buf.size());
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || *n == 0) break;
    back.append(buf, 0, *n);
  }
  return back;
}

class RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Repository::Init(&store_, "secret", FastRepositoryOptions(), TestSlotInfo()).ok());
  }
  std::unique_ptr<Repository> OpenRepo(ObjectStore* store = nullptr) {
    auto repo = Repository::Open(store ? store : &store_, "secret", &clock_);
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    return repo.ok() ? std::move(repo).value() : nullptr;
  }
  // Every object of the repository into `to`: the same repository, to write into apart.
  void CopyRepository(MemoryObjectStore* to) {
    ASSERT_TRUE(
        store_
            .List("",
                  [&](const ObjectInfo& info) { return to->Put(info.key, *store_.Get(info.key)); })
            .ok());
  }
  size_t CountObjects(const std::string& prefix) {
    size_t n = 0;
    EXPECT_TRUE(store_
                    .List(prefix,
                          [&](const ObjectInfo&) {
                            ++n;
                            return OkStatus();
                          })
                    .ok());
    return n;
  }

  MemoryObjectStore store_;
  ManualClock clock_{1'700'000'000LL * kNanosPerSecond};
};

TEST_F(RepositoryTest, InitTwiceIsRefused) {
  Status s = Repository::Init(&store_, "secret", FastRepositoryOptions(), TestSlotInfo());
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
}

TEST_F(RepositoryTest, ARepositoryMissingItsConfigOrItsKeysIsDamagedNotAbsent) {
  {
    auto repo = OpenRepo();
    StreamWriter writer(repo.get());
    ASSERT_TRUE(writer.Write(TestBytes(1 << 20, 3)).ok());
    ASSERT_TRUE(writer.Finish().ok());
    ASSERT_TRUE(repo->Flush().ok());
  }
  MemoryObjectStore no_config;
  CopyRepository(&no_config);
  ASSERT_TRUE(no_config.Delete("config").ok());
  Status again = Repository::Init(&no_config, "secret", FastRepositoryOptions(), TestSlotInfo());
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition) << again.ToString();
  EXPECT_NE(again.message().find("damaged, not empty"), std::string::npos) << again.message();

  MemoryObjectStore no_keys;
  CopyRepository(&no_keys);
  std::vector<std::string> slots;
  ASSERT_TRUE(no_keys
                  .List("keys/",
                        [&](const ObjectInfo& info) {
                          slots.push_back(info.key);
                          return OkStatus();
                        })
                  .ok());
  for (const std::string& key : slots) ASSERT_TRUE(no_keys.Delete(key).ok());
  auto opened = Repository::Open(&no_keys, "secret", &clock_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find("no key slot"), std::string::npos);
}

TEST_F(RepositoryTest, WrongPasswordIsUnauthenticated) {
  auto repo = Repository::Open(&store_, "not the password", &clock_);
  ASSERT_FALSE(repo.ok());
  EXPECT_EQ(repo.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(repo.status().message().find("wrong password"), std::string::npos);
  EXPECT_EQ(ExitCodeFor(repo.status()), 3);
}

TEST_F(RepositoryTest, OpeningAnEmptyStoreSaysToInit) {
  MemoryObjectStore empty;
  auto repo = Repository::Open(&empty, "secret", &clock_);
  ASSERT_FALSE(repo.ok());
  EXPECT_EQ(repo.status().code(), StatusCode::kNotFound);
  EXPECT_NE(repo.status().message().find("lifeboat init"), std::string::npos);
}

TEST_F(RepositoryTest, SecondPasswordOpensTheSameRepository) {
  {
    auto repo = OpenRepo();
    ASSERT_TRUE(repo->AddPassword("second", ScryptParams{1024, 8, 1}, TestSlotInfo()).ok());
  }
  auto repo = Repository::Open(&store_, "second", &clock_);
  EXPECT_TRUE(repo.ok()) << repo.status().ToString();
}

TEST_F(RepositoryTest, SavedBlobsSurviveReopenAndDeduplicate) {
  std::vector<std::string> ids;
  {
    auto repo = OpenRepo();
    for (int i = 0; i < 50; ++i) {
      auto saved = repo->SaveBlob(BlobType::kData, TestBytes(20000, i));
      ASSERT_TRUE(saved.ok());
      EXPECT_TRUE(saved->added);
      ids.push_back(saved->id);
    }
    auto again = repo->SaveBlob(BlobType::kData, TestBytes(20000, 3));
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->added);
    ASSERT_TRUE(repo->Flush().ok());
    EXPECT_EQ(repo->session_stats().new_blobs, 50u);
    EXPECT_GE(repo->session_stats().packs, 2u);
  }
  auto repo = OpenRepo();
  for (int i = 0; i < 50; ++i) {
    auto loaded = repo->LoadBlob(ids[i]);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(*loaded, TestBytes(20000, i));
  }
  auto saved = repo->SaveBlob(BlobType::kData, TestBytes(20000, 7));
  ASSERT_TRUE(saved.ok());
  EXPECT_FALSE(saved->added) << "a blob indexed by an earlier session must not be stored again";
}

TEST_F(RepositoryTest, StreamRoundTripsAndUnchangedStreamAddsNothing) {
  std::string data = TestBytes(3 << 20, 99);
  StreamRef ref;
  {
    auto repo = OpenRepo();
    StreamWriter writer(repo.get());
    for (size_t pos = 0; pos < data.size(); pos += 70001) {
      ASSERT_TRUE(writer.Write(std::string_view(data).substr(pos, 70001)).ok());
    }
    auto finished = writer.Finish();
    ASSERT_TRUE(finished.ok());
    ref = *finished;
    ASSERT_TRUE(repo->Flush().ok());
  }
  auto repo = OpenRepo();
  StreamWriter writer(repo.get());
  ASSERT_TRUE(writer.Write(data).ok());
  ASSERT_TRUE(writer.Finish().ok());
  EXPECT_EQ(writer.stats().new_blobs, 0u);

  EXPECT_EQ(ReadBack(repo.get(), ref, 10007), data);
}

TEST_F(RepositoryTest, AReaderWithReadAheadGivesTheSameBytesAndStopsAtALostPack) {
  std::string data = TestBytes(3 << 20, 7);
  StreamRef ref;
  {
    auto repo = OpenRepo();
    StreamWriter writer(repo.get());
    ASSERT_TRUE(writer.Write(data).ok());
    auto finished = writer.Finish();
    ASSERT_TRUE(finished.ok());
    ref = *finished;
    ASSERT_TRUE(repo->Flush().ok());
  }
  auto repo = OpenRepo();
  ASSERT_GT(ref.blobs, 8u);
  // A budget smaller than one blob still reads one ahead; a larger one holds several.
  EXPECT_EQ(ReadBack(repo.get(), ref, 10007, 1), data);
  EXPECT_EQ(ReadBack(repo.get(), ref, 10007, 256 << 10), data);
  {
    // Left after its first piece, with its read-ahead thread still busy: it stops.
    StreamReader reader(repo.get(), ref, 256 << 10);
    std::string buf(4096, '\0');
    auto n = reader.Read(buf.data(), buf.size());
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(std::string_view(buf.data(), *n), std::string_view(data).substr(0, *n));
  }

  // Without its packs, the reader reports the loss, and again on every later Read.
  std::vector<std::string> packs;
  ASSERT_TRUE(store_
                  .List("data/",
                        [&](const ObjectInfo& info) {
                          packs.push_back(info.key);
                          return OkStatus();
                        })
                  .ok());
  for (const std::string& key : packs) ASSERT_TRUE(store_.Delete(key).ok());
  auto reopened = OpenRepo();
  StreamReader reader(reopened.get(), ref, 256 << 10);
  std::string buf(65536, '\0');
  auto first = reader.Read(buf.data(), buf.size());
  ASSERT_FALSE(first.ok());
  auto again = reader.Read(buf.data(), buf.size());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), first.status().code());
}

TEST_F(RepositoryTest, SnapshotRoundTripAndTamperingIsDetected) {
  auto repo = OpenRepo();
  nlohmann::json manifest = {{"format", 1}, {"name", "before upgrade"}};
  auto id = repo->SaveSnapshot(manifest);
  ASSERT_TRUE(id.ok());
  auto loaded = repo->LoadSnapshot(*id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ((*loaded)["name"], "before upgrade");

  auto sealed = store_.Get("snapshots/" + *id);
  ASSERT_TRUE(sealed.ok());
  std::string bad = *sealed;
  bad[bad.size() / 2] ^= 1;
  ASSERT_TRUE(store_.Put("snapshots/" + *id, bad).ok());
  auto tampered = repo->LoadSnapshot(*id);
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.status().code(), StatusCode::kDataLoss);
}

TEST_F(RepositoryTest, FailedPackWriteSurfacesAtFlushAndLeavesNoIndex) {
  FaultInjectingObjectStore faulty(&store_);
  auto repo = OpenRepo(&faulty);
  faulty.FailPutsAfter(0);
  Status status;
  for (int i = 0; i < 40 && status.ok(); ++i) {
    auto saved = repo->SaveBlob(BlobType::kData, TestBytes(30000, 1000 + i));
    if (!saved.ok()) status = saved.status();
  }
  if (status.ok()) status = repo->Flush();
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(CountObjects("index/"), 0u);
  EXPECT_EQ(CountObjects("data/"), 0u);
}

// A store whose pack writes wait until the test lets them through, as a slow disk or a
// remote store makes them wait.
class HeldPackStore : public ObjectStore {
 public:
  explicit HeldPackStore(ObjectStore* base) : base_(base) {}
  Status Put(std::string_view key, std::string_view data) override {
    if (key.starts_with("data/")) {
      std::unique_lock<std::mutex> lock(mu_);
      ++held_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_; });
    }
    return base_->Put(key, data);
  }
  Result<std::string> Get(std::string_view key) override { return base_->Get(key); }
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override {
    return base_->GetRange(key, offset, length);
  }
  Result<uint64_t> Size(std::string_view key) override { return base_->Size(key); }
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& fn) override {
    return base_->List(prefix, fn);
  }
  Status Delete(std::string_view key) override { return base_->Delete(key); }
  StoreCapabilities capabilities() const override { return base_->capabilities(); }
  std::string Describe() const override { return "held " + base_->Describe(); }

  // Waits (up to 30 s) until `n` pack writes have reached the store; returns how many have.
  int WaitForHeld(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return held_ >= n; });
    return held_;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  ObjectStore* base_;
  std::mutex mu_;
  std::condition_variable cv_;
  int held_ = 0;
  bool released_ = false;
};

// While one pack waits for the store, the only worker goes on sealing the next ones: saving
// the blobs of up to three packs returns before the first pack is written.
TEST_F(RepositoryTest, SealingGoesOnWhileAPackIsBeingWritten) {
  HeldPackStore held(&store_);
  OpenOptions options;
  options.workers = 1;
  options.queue_blobs = 1;
  auto opened = Repository::Open(&held, "secret", &clock_, options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Repository> repo = std::move(opened).value();

  // 256 KiB packs (FastRepositoryOptions) of 100,000-byte blobs: three packs at most, so
  // that one can be held and two wait for the writer; a worker blocked in the store would
  // stop the saves at the queue's one blob after the first pack.
  constexpr int kBlobs = 9;
  std::mutex mu;
  std::condition_variable cv;
  int saved = 0;
  Status first_error;
  std::vector<std::string> ids;
  std::thread saver([&] {
    for (int i = 0; i < kBlobs; ++i) {
      Result<SaveResult> result = repo->SaveBlob(BlobType::kData, TestBytes(100000, 700 + i));
      std::lock_guard<std::mutex> lock(mu);
      if (!result.ok() && first_error.ok()) first_error = result.status();
      if (result.ok()) ids.push_back(result->id);
      ++saved;
      cv.notify_all();
    }
  });
  int saved_while_held = 0;
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return saved == kBlobs; });
    saved_while_held = saved;
  }
  const int packs_held = held.WaitForHeld(1);
  held.Release();
  saver.join();
  EXPECT_EQ(saved_while_held, kBlobs) << "saving stopped while a pack was held";
  EXPECT_EQ(packs_held, 1);  // the first pack, still waiting for the store
  ASSERT_TRUE(first_error.ok()) << first_error.ToString();
  ASSERT_TRUE(repo->Flush().ok());
  EXPECT_GE(CountObjects("data/"), 2u);
  ASSERT_EQ(ids.size(), size_t{kBlobs});
  for (int i = 0; i < kBlobs; ++i) {
    Result<std::string> back = repo->LoadBlob(ids[i]);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, TestBytes(100000, 700 + i));
  }
}

TEST_F(RepositoryTest, IndexRunsAreWrittenWhenTheSessionGrows) {
  auto repo = OpenRepo();
  // Tiny blobs: many entries without much data.
  for (size_t i = 0; i < 2 * kIndexRunMaxEntries; ++i) {
    ASSERT_TRUE(repo->SaveBlob(BlobType::kData, "blob " + std::to_string(i)).ok());
  }
  ASSERT_TRUE(repo->Flush().ok());
  EXPECT_GE(repo->session_stats().index_runs, 2u);  // runs are bounded in size
  auto again = repo->SaveBlob(BlobType::kData, "blob 5");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->added);
}

// A stream like the one before but for scattered edits (a row changed about every 20 KB,
// which touches nearly every 64 KiB chunk): written against the earlier stream, its changed
// chunks are stored as deltas.
TEST_F(RepositoryTest, ChangedStreamWrittenAgainstItsReferenceIsStoredAsDeltas) {
  std::string data = TestBytes(4 << 20, 5);
  std::string edited = data;
  for (size_t pos = 10000; pos + 64 < edited.size(); pos += 20000) {
    edited.replace(pos, 40, "an edited row, forty bytes long........");
  }
  StreamRef first;
  {
    auto repo = OpenRepo();
    StreamWriter writer(repo.get());
    ASSERT_TRUE(writer.Write(data).ok());
    auto finished = writer.Finish();
    ASSERT_TRUE(finished.ok());
    first = *finished;
    ASSERT_TRUE(repo->Flush().ok());
  }
  // Bytes of packs a session wrote for the edited stream.
  auto stored_for = [&](const StreamRef* reference, StreamRef* out) {
    auto repo = OpenRepo();
    StreamWriter writer(repo.get(), reference);
    EXPECT_TRUE(writer.Write(edited).ok());
    auto finished = writer.Finish();
    EXPECT_TRUE(finished.ok());
    *out = *finished;
    EXPECT_TRUE(repo->Flush().ok());
    return repo->session_stats();
  };
  // Without the reference, into a copy of the repository, for comparison.
  MemoryObjectStore copy;
  CopyRepository(&copy);
  SessionStats alone;
  {
    auto repo = OpenRepo(&copy);
    StreamWriter writer(repo.get());
    ASSERT_TRUE(writer.Write(edited).ok());
    ASSERT_TRUE(writer.Finish().ok());
    ASSERT_TRUE(repo->Flush().ok());
    alone = repo->session_stats();
  }
  StreamRef second;
  const SessionStats with_reference = stored_for(&first, &second);
  EXPECT_GT(alone.new_blobs, 40u) << "nearly every chunk changed";
  EXPECT_LT(with_reference.stored_bytes * 10, alone.stored_bytes)
      << "deltas: " << with_reference.stored_bytes << " bytes, alone: " << alone.stored_bytes;
  std::cout << "[ INFO     ] the edited 4 MiB stream took " << with_reference.stored_bytes
            << " bytes against its reference, " << alone.stored_bytes << " alone\n";

  // It reads back exactly, also from a repository opened afresh, and checks out.
  auto repo = OpenRepo();
  EXPECT_EQ(ReadBack(repo.get(), second), edited);

  // A third version against the second: its bases are deltas, so it refers to their
  // references, and no delta ever refers to a delta.
  std::string third = edited;
  third.replace(2 << 20, 30, "a third edit, thirty bytes....");
  StreamRef third_ref;
  {
    StreamWriter writer(repo.get(), &second);
    ASSERT_TRUE(writer.Write(third).ok());
    auto finished = writer.Finish();
    ASSERT_TRUE(finished.ok());
    third_ref = *finished;
    ASSERT_TRUE(repo->Flush().ok());
  }
  auto reopened = OpenRepo();
  EXPECT_EQ(ReadBack(reopened.get(), third_ref), third);
  size_t deltas = 0;
  ASSERT_TRUE(reopened
                  ->ForEachIndexRun([&](IndexRun& run) {
                    return run.ForEach([&](const IndexRecord& record) {
                      if (record.location.compression != Compression::kZstdDelta) return OkStatus();
                      ++deltas;
                      Result<std::string> sealed =
                          store_.GetRange(PackKey(record.location.pack_id), record.location.offset,
                                          record.location.sealed_length);
                      EXPECT_TRUE(sealed.ok());
                      auto refs = ReadDeltaReferences(reopened->aead(), record.id, *sealed);
                      EXPECT_TRUE(refs.ok());
                      for (const std::string& ref : *refs) {
                        auto location = reopened->Locate(ref);
                        EXPECT_TRUE(location.ok() && location->has_value());
                        if (location.ok() && location->has_value()) {
                          EXPECT_NE((*location)->compression, Compression::kZstdDelta);
                        }
                      }
                      return OkStatus();
                    });
                  })
                  .ok());
  EXPECT_GT(deltas, 40u);
}

// Rows removed all along the stream and new ones at its end, as PostgreSQL's physical order
// shows an update: every chunk is a little shorter than its reference, and the position still
// follows, so each is stored as a small delta.
TEST_F(RepositoryTest, DeltasFollowAStreamThatShrinksAllAlong) {
  const std::string data = TestBytes(4 << 20, 8);
  std::string shrunk;
  for (size_t pos = 0; pos < data.size(); pos += 20000) {
    shrunk.append(data, pos, std::min<size_t>(19400, data.size() - pos));  // 600 bytes gone
  }
  shrunk += TestBytes(100000, 9);  // the updated rows, appended
  StreamRef first;
  {
    auto repo = OpenRepo();
    StreamWriter writer(repo.get());
    ASSERT_TRUE(writer.Write(data).ok());
    first = *writer.Finish();
    ASSERT_TRUE(repo->Flush().ok());
  }
  auto repo = OpenRepo();
  StreamWriter writer(repo.get(), &first);
  ASSERT_TRUE(writer.Write(shrunk).ok());
  Result<StreamRef> second = writer.Finish();
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(repo->Flush().ok());
  const uint64_t stored = repo->session_stats().stored_bytes;
  // Stored alone, the stream would take about 2 MB. The appended 100 KB compress to about
  // half and go with the old bytes that share their chunk; the deltas add a few hundred bytes
  // a chunk. The cut points depend on the repository's random chunker key: over 40 keys the
  // stream took 95 to 200 KB (median 118 KB), and about one key in fifty leaves a few chunks
  // without a delta (286 KB seen), hence the bound of a fifth of the stream stored alone.
  EXPECT_LT(stored, 400000u) << stored << " bytes stored";
  std::cout << "[ INFO     ] the shrunk stream took " << stored << " bytes\n";
  EXPECT_EQ(ReadBack(repo.get(), *second), shrunk);
}

// A stream written in two parts (a table read in two page ranges at once, joined in order):
// it reads back as the whole, and a changed version's second part finds its deltas only when
// it is told where the same part began in the reference.
TEST_F(RepositoryTest, AStreamWrittenInPartsFindsTheDeltasOfEachPartAtItsReferenceOffset) {
  const std::string data = TestBytes(4 << 20, 11);
  std::string edited = data;
  for (size_t pos = 10000; pos + 64 < edited.size(); pos += 20000) {
    edited.replace(pos, 40, "an edited row, forty bytes long........");
  }
  const size_t split = 2 << 20;
  // Writes `text` as two parts split at `split`; the second part's bytes belong at
  // `second_offset` of `reference`.
  auto write_in_parts = [&](Repository* repo, const std::string& text, const StreamRef* reference,
                            uint64_t second_offset) {
    StreamWriter first_part(repo, StreamWriter::PartOptions{reference, 0});
    StreamWriter second_part(repo, StreamWriter::PartOptions{reference, second_offset});
    EXPECT_TRUE(second_part.Write(std::string_view(text).substr(split)).ok());
    EXPECT_TRUE(first_part.Write(std::string_view(text).substr(0, split)).ok());
    Result<StreamRef> second_ref = second_part.Finish();
    Result<StreamRef> first_ref = first_part.Finish();
    EXPECT_TRUE(first_ref.ok() && second_ref.ok());
    EXPECT_TRUE(first_ref->trees.empty()) << "a part writes no tree";
    StreamWriter whole(repo);
    EXPECT_TRUE(whole.AppendIds(first_part.TakeIds(), first_ref->bytes).ok());
    EXPECT_TRUE(whole.AppendIds(second_part.TakeIds(), second_ref->bytes).ok());
    Result<StreamRef> joined = whole.Finish();
    EXPECT_TRUE(joined.ok());
    EXPECT_EQ(joined->blobs, first_ref->blobs + second_ref->blobs);
    EXPECT_TRUE(repo->Flush().ok());
    return *joined;
  };
  StreamRef first;
  {
    auto repo = OpenRepo();
    first = write_in_parts(repo.get(), data, nullptr, 0);
    EXPECT_EQ(first.bytes, data.size());
  }
  MemoryObjectStore copy;
  CopyRepository(&copy);
  SessionStats at_zero;
  {
    auto repo = OpenRepo(&copy);
    write_in_parts(repo.get(), edited, &first, 0);
    at_zero = repo->session_stats();
  }
  auto repo = OpenRepo();
  const StreamRef second = write_in_parts(repo.get(), edited, &first, split);
  const SessionStats at_offset = repo->session_stats();
  // Both find the first part's deltas; only the second finds the second part's.
  EXPECT_LT(at_offset.stored_bytes * 5, at_zero.stored_bytes)
      << "at the offset: " << at_offset.stored_bytes << " bytes, at 0: " << at_zero.stored_bytes;
  std::cout << "[ INFO     ] the edited stream in two parts took " << at_offset.stored_bytes
            << " bytes with the second part's reference offset, " << at_zero.stored_bytes
            << " without\n";
  auto reopened = OpenRepo();
  EXPECT_EQ(ReadBack(reopened.get(), first), data);
  EXPECT_EQ(ReadBack(reopened.get(), second), edited);
}

// Row-like text: repetitive enough that zstd's higher levels find more than its fastest.
std::string RowText(size_t rows, uint64_t seed) {
  static const char* const kWords[] = {"open",   "closed", "review",  "blocked",
                                       "urgent", "minor",  "backend", "frontend"};
  std::string out;
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < rows; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out += std::to_string(seed * 100000 + i) + "\tuser" + std::to_string(x % 997) + "\t" +
           kWords[x % 8] + " " + kWords[(x >> 8) % 8] + "\t2026-11-" +
           std::to_string(10 + (x >> 16) % 20) + " 10:" + std::to_string(10 + (x >> 24) % 50) +
           ":00+00\n";
  }
  return out;
}

CompressionSettings Zstd(int level) {
  return {CompressionMethod::kZstd, level};
}

// Stores the same row chunks and returns the sealed bytes they took.
uint64_t StoredBytes(Repository* repo) {
  for (uint64_t seed = 0; seed < 4; ++seed) {
    const std::string rows = RowText(1000, seed);
    auto saved = repo->SaveBlob(BlobType::kData, rows);
    EXPECT_TRUE(saved.ok() && saved->added);
    EXPECT_TRUE(repo->Flush().ok());
    auto loaded = repo->LoadBlob(saved->id);
    EXPECT_TRUE(loaded.ok() && *loaded == rows) << CompressionMethodName(repo->compression().method)
                                                << " level " << repo->compression().zstd_level;
  }
  return repo->session_stats().stored_bytes;
}

std::unique_ptr<Repository> NewRepo(MemoryObjectStore* store, CompressionSettings compression,
                                    ManualClock* clock) {
  RepositoryOptions options = FastRepositoryOptions();
  options.compression = compression;
  EXPECT_TRUE(Repository::Init(store, "secret", options, TestSlotInfo()).ok());
  auto repo = Repository::Open(store, "secret", clock);
  EXPECT_TRUE(repo.ok()) << repo.status().ToString();
  return repo.ok() ? std::move(repo).value() : nullptr;
}

TEST(RepositoryCompressionLevelTest, TheRepositoryKeepsItsLevelAndAWriterMayChooseAnother) {
  ManualClock clock{1'700'000'000LL * kNanosPerSecond};
  MemoryObjectStore small_store, fast_store, chosen_store;
  auto small = NewRepo(&small_store, Zstd(19), &clock);
  auto fast = NewRepo(&fast_store, Zstd(1), &clock);
  ASSERT_TRUE(small && fast);
  EXPECT_EQ(small->compression().zstd_level, 19);
  EXPECT_EQ(fast->compression().zstd_level, 1);
  const uint64_t at_19 = StoredBytes(small.get());
  const uint64_t at_1 = StoredBytes(fast.get());
  EXPECT_LT(at_19, at_1) << "level 19 must store these rows in fewer bytes than level 1";

  // A session may write at another level, and goes back to the repository's on request.
  auto chosen = NewRepo(&chosen_store, Zstd(1), &clock);
  ASSERT_TRUE(chosen);
  ASSERT_TRUE(chosen->UseCompression(Zstd(19)).ok());
  EXPECT_EQ(StoredBytes(chosen.get()), at_19);
  ASSERT_TRUE(chosen->UseCompression(std::nullopt).ok());
  EXPECT_EQ(chosen->compression().zstd_level, 1);
}

// The compression of every blob the packs of `store` hold, counted.
std::map<Compression, int> PackedCompressions(MemoryObjectStore* store, Repository* repo) {
  std::map<Compression, int> seen;
  EXPECT_TRUE(store
                  ->List("data/",
                         [&](const ObjectInfo& info) {
                           auto blobs = ReadPackHeader(store, info.key, repo->aead());
                           EXPECT_TRUE(blobs.ok()) << blobs.status().ToString();
                           if (blobs.ok()) {
                             for (const PackedBlob& b : *blobs) ++seen[b.compression];
                           }
                           return OkStatus();
                         })
                  .ok());
  return seen;
}

TEST(RepositoryCompressionLevelTest, AnLz4RepositoryStoresLz4BlobsThatReadBack) {
  ManualClock clock{1'700'000'000LL * kNanosPerSecond};
  MemoryObjectStore lz4_store, zstd_store, mixed_store;
  auto lz4 = NewRepo(&lz4_store, {CompressionMethod::kLz4, 3}, &clock);
  auto zstd = NewRepo(&zstd_store, Zstd(1), &clock);
  ASSERT_TRUE(lz4 && zstd);
  const uint64_t lz4_bytes = StoredBytes(lz4.get());
  const uint64_t zstd_bytes = StoredBytes(zstd.get());
  EXPECT_GT(lz4_bytes, zstd_bytes) << "lz4 trades size for speed";
  EXPECT_LT(lz4_bytes, RowText(1000, 0).size() * 4 / 2) << "and still compresses rows";
  EXPECT_EQ(PackedCompressions(&lz4_store, lz4.get()),
            (std::map<Compression, int>{{Compression::kLz4, 4}}));

  // A zstd repository takes one session of lz4 blobs; both kinds read back (StoredBytes
  // reloads every blob) and the repository's own method comes back after.
  auto mixed = NewRepo(&mixed_store, Zstd(3), &clock);
  ASSERT_TRUE(mixed);
  ASSERT_TRUE(mixed->UseCompression(CompressionSettings{CompressionMethod::kLz4, 3}).ok());
  EXPECT_EQ(StoredBytes(mixed.get()), lz4_bytes);
  ASSERT_TRUE(mixed->UseCompression(std::nullopt).ok());
  EXPECT_EQ(mixed->compression().method, CompressionMethod::kZstd);
  const std::string more = RowText(500, 9);
  auto saved = mixed->SaveBlob(BlobType::kData, more);
  ASSERT_TRUE(saved.ok() && mixed->Flush().ok());
  EXPECT_EQ(PackedCompressions(&mixed_store, mixed.get()),
            (std::map<Compression, int>{{Compression::kZstd, 1}, {Compression::kLz4, 4}}));
  auto reopened = Repository::Open(&mixed_store, "secret", &clock);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->compression().method, CompressionMethod::kZstd);
  auto loaded = (*reopened)->LoadBlob(saved->id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, more);
}

TEST(RepositoryCompressionLevelTest, MethodsAreSpelledAsTheConfigSpellsThem) {
  auto lz4 = ParseCompressionMethod("lz4");
  auto zstd = ParseCompressionMethod("zstd");
  ASSERT_TRUE(lz4.ok() && zstd.ok());
  EXPECT_EQ(*lz4, CompressionMethod::kLz4);
  EXPECT_EQ(*zstd, CompressionMethod::kZstd);
  EXPECT_STREQ(CompressionMethodName(*lz4), "lz4");
  EXPECT_STREQ(CompressionMethodName(*zstd), "zstd");
  auto gzip = ParseCompressionMethod("gzip");
  ASSERT_FALSE(gzip.ok());
  EXPECT_EQ(gzip.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(gzip.status().message(),
            "compression \"gzip\" is not known: give lz4 (fastest) or zstd (smaller)");
}

TEST(RepositoryCompressionLevelTest, ALevelOutOfRangeIsRefusedWithTheRange) {
  MemoryObjectStore store;
  RepositoryOptions options = FastRepositoryOptions();
  options.compression.zstd_level = 0;
  Status refused = Repository::Init(&store, "secret", options, TestSlotInfo());
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("compression level 0 is out of range: give 1 (fastest) to 19"),
            std::string::npos)
      << refused.ToString();
  EXPECT_FALSE(store.Size("config").ok()) << "a refused init must write nothing";

  ManualClock clock{1'700'000'000LL * kNanosPerSecond};
  auto repo = NewRepo(&store, Zstd(3), &clock);
  ASSERT_TRUE(repo);
  EXPECT_EQ(repo->UseCompression(Zstd(20)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(repo->compression().zstd_level, 3) << "a refused level must leave the level as it was";
}

}  // namespace
}  // namespace lifeboat
