#include "repo/lease.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "storage/memory_object_store.h"

namespace lifeboat {
namespace {

constexpr int64_t kMilli = 1'000'000;

int64_t At(const char* rfc3339) {
  int64_t nanos = 0;
  EXPECT_TRUE(ParseRfc3339(rfc3339, &nanos)) << rfc3339;
  return nanos;
}

LeaseRequest Request(std::string operation, std::string scope, bool exclusive = true,
                     std::string user = "ops", std::string host = "app-1", int64_t pid = 4242) {
  LeaseRequest request;
  request.operation = std::move(operation);
  request.scope = std::move(scope);
  request.exclusive = exclusive;
  request.user = std::move(user);
  request.host = std::move(host);
  request.pid = pid;
  return request;
}

// An ObjectStore over a MemoryObjectStore that can fail writes, run a hook before listing and
// take a random while (up to `jitter_micros`) for writes and listings, as a remote store does.
class ScriptedStore : public ObjectStore {
 public:
  Status Put(std::string_view key, std::string_view data) override {
    if (fail_puts) return UnavailableError("disk on fire");
    Jitter();
    Status status = inner.Put(key, data);
    Jitter();
    return status;
  }
  Result<std::string> Get(std::string_view key) override { return inner.Get(key); }
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override {
    return inner.GetRange(key, offset, length);
  }
  Result<uint64_t> Size(std::string_view key) override { return inner.Size(key); }
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& fn) override {
    ++lists;
    if (before_list) before_list(lists);
    Jitter();
    return inner.List(prefix, fn);
  }
  Status Delete(std::string_view key) override { return inner.Delete(key); }
  StoreCapabilities capabilities() const override { return inner.capabilities(); }
  std::string Describe() const override { return "scripted memory"; }

  MemoryObjectStore inner;
  std::atomic<bool> fail_puts{false};
  std::atomic<int> lists{0};
  std::function<void(int)> before_list;
  int jitter_micros = 0;

 private:
  void Jitter() {
    if (jitter_micros == 0) return;
    thread_local std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> micros(0, jitter_micros);
    std::this_thread::sleep_for(std::chrono::microseconds(micros(random)));
  }
};

class LeaseTest : public ::testing::Test {
 protected:
  LeaseTest()
      : sealer_(std::string(32, 'k')),
        clock_(At("2026-11-22T10:04:05Z")),
        manager_(&store_, &sealer_, &clock_, kLeaseTtlNanos, /*refresh_nanos=*/0) {}

  std::unique_ptr<Lease> MustAcquire(const LeaseRequest& request, LeaseManager* manager = nullptr,
                                     CancellationToken* token = nullptr) {
    auto lease = (manager ? manager : &manager_)->Acquire(request, {}, token);
    EXPECT_TRUE(lease.ok()) << lease.status().ToString();
    return lease.ok() ? std::move(*lease) : nullptr;
  }

  size_t LockCount() {
    size_t count = 0;
    EXPECT_TRUE(store_
                    .List(kLocksPrefix,
                          [&](const ObjectInfo&) {
                            ++count;
                            return OkStatus();
                          })
                    .ok());
    return count;
  }

  MemoryObjectStore store_;
  DocumentSealer sealer_;
  ManualClock clock_;
  LeaseManager manager_;
};

TEST(LeaseConflictTest, FollowsScopeAndExclusivityRules) {
  const LeaseRequest prod_x = Request("backup", "instance:prod", true);
  const LeaseRequest prod_s = Request("check", "instance:prod", false);
  const LeaseRequest test_x = Request("restore", "instance:test", true);
  const LeaseRequest repo_s = Request("backup", "repository", false);
  const LeaseRequest repo_x = Request("prune", "repository", true);

  EXPECT_TRUE(LeasesConflict(prod_x, prod_x));
  EXPECT_TRUE(LeasesConflict(prod_x, prod_s));
  EXPECT_FALSE(LeasesConflict(prod_s, prod_s));
  EXPECT_FALSE(LeasesConflict(prod_x, test_x));
  EXPECT_FALSE(LeasesConflict(repo_s, repo_s));
  EXPECT_FALSE(LeasesConflict(repo_s, prod_x));
  EXPECT_TRUE(LeasesConflict(repo_x, repo_s));
  EXPECT_TRUE(LeasesConflict(repo_x, prod_x));
  EXPECT_TRUE(LeasesConflict(prod_s, repo_x));
  EXPECT_TRUE(LeasesConflict(repo_x, repo_x));
}

TEST_F(LeaseTest, SecondExclusiveLeaseOnSameInstanceIsRefusedNamingTheHolder) {
  auto held = MustAcquire(Request("restore", InstanceScope("prod")));
  ASSERT_NE(held, nullptr);
  EXPECT_TRUE(held->key().starts_with("locks/"));
  EXPECT_EQ(held->key().size(), std::string("locks/").size() + 32);

  clock_.Advance(3 * kNanosPerSecond);
  auto refused = manager_.Acquire(Request("backup", "instance:prod", true, "ana", "laptop", 7));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kAborted);
  EXPECT_EQ(ExitCodeFor(refused.status()), 4);
  const std::string& message = refused.status().message();
  EXPECT_NE(message.find("instance prod is busy: restore started by ops@app-1 (pid 4242) at "
                         "2026-11-22T10:04:05Z is running"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("expires at 2026-11-22T10:05:05Z"), std::string::npos) << message;
  EXPECT_NE(message.find(held->key()), std::string::npos) << message;
  EXPECT_EQ(LockCount(), 1u) << "the refused lease must be withdrawn";
}

TEST_F(LeaseTest, LeasesOnDifferentInstancesCoexist) {
  auto prod = MustAcquire(Request("backup", "instance:prod"));
  auto test = MustAcquire(Request("restore", "instance:test"));
  EXPECT_NE(prod, nullptr);
  EXPECT_NE(test, nullptr);
  EXPECT_EQ(LockCount(), 2u);
}

TEST_F(LeaseTest, SharedRepositoryLeasesCoexistButExclusiveRepositoryConflictsWithAll) {
  auto backup1 = MustAcquire(Request("backup", "repository", false));
  clock_.Advance(kNanosPerSecond);
  auto backup2 = MustAcquire(Request("backup", "repository", false, "ana", "laptop", 9));
  clock_.Advance(kNanosPerSecond);
  auto instance = MustAcquire(Request("backup", "instance:prod"));
  ASSERT_NE(backup2, nullptr);
  clock_.Advance(kNanosPerSecond);

  auto prune = manager_.Acquire(Request("prune", "repository", true));
  ASSERT_FALSE(prune.ok());
  EXPECT_EQ(prune.status().code(), StatusCode::kAborted);
  EXPECT_NE(prune.status().message().find("the repository is busy: backup started by"),
            std::string::npos)
      << prune.status().message();

  backup1.reset();
  backup2.reset();
  auto still_refused = manager_.Acquire(Request("prune", "repository", true));
  ASSERT_FALSE(still_refused.ok());
  EXPECT_NE(still_refused.status().message().find("instance prod is busy: backup started"),
            std::string::npos)
      << still_refused.status().message();

  instance.reset();
  clock_.Advance(kNanosPerSecond);
  auto prune_lease = MustAcquire(Request("prune", "repository", true));
  ASSERT_NE(prune_lease, nullptr);
  clock_.Advance(kNanosPerSecond);
  for (const LeaseRequest& other :
       {Request("backup", "repository", false), Request("restore", "instance:test", true),
        Request("check", "instance:test", false)}) {
    auto refused = manager_.Acquire(other);
    ASSERT_FALSE(refused.ok()) << other.operation << " on " << other.scope;
    EXPECT_NE(refused.status().message().find("the repository is busy: prune started"),
              std::string::npos)
        << refused.status().message();
  }
  EXPECT_EQ(LockCount(), 1u);
}

TEST_F(LeaseTest, StaleLeaseOfADeadHolderIsRemovedAndReportedOnce) {
  auto dead = MustAcquire(Request("restore", "instance:prod"));
  ASSERT_NE(dead, nullptr);
  const std::string dead_key = dead->key();
  dead->Abandon();  // the process died: no refresh, no release
  EXPECT_EQ(LockCount(), 1u);

  clock_.Advance(59 * kNanosPerSecond);
  EXPECT_FALSE(manager_.Acquire(Request("backup", "instance:prod")).ok()) << "not yet expired";

  clock_.Advance(2 * kNanosPerSecond);
  std::vector<LeaseHolder> stale;
  auto lease = manager_.Acquire(Request("backup", "instance:prod", true, "ana", "laptop", 7),
                                [&](const LeaseHolder& holder) { stale.push_back(holder); });
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].key, dead_key);
  EXPECT_EQ(stale[0].request.operation, "restore");
  EXPECT_EQ(DescribeStaleLease(stale[0]),
            "removed a stale lock of restore on instance prod by ops@app-1 (pid 4242) (expired "
            "2026-11-22T10:05:05Z)");
  EXPECT_EQ(LockCount(), 1u);
  EXPECT_TRUE(store_.Size((*lease)->key()).ok());
  EXPECT_EQ(store_.Size(dead_key).status().code(), StatusCode::kNotFound);
  dead.reset();  // destroying an abandoned lease deletes nothing
  EXPECT_EQ(LockCount(), 1u);
}

TEST_F(LeaseTest, StaleLeaseOfAnotherScopeIsAlsoRemoved) {
  auto dead = MustAcquire(Request("backup", "instance:test"));
  dead->Abandon();
  clock_.Advance(kLeaseTtlNanos + kNanosPerSecond);
  int reported = 0;
  auto lease =
      manager_.Acquire(Request("backup", "instance:prod"), [&](const LeaseHolder&) { ++reported; });
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(reported, 1);
  EXPECT_EQ(LockCount(), 1u);
}

TEST_F(LeaseTest, RefreshMovesTheExpiryAndKeepsTheScope) {
  auto lease = MustAcquire(Request("backup", "instance:prod"));
  ASSERT_NE(lease, nullptr);
  const int64_t start = clock_.NowUnixNanos();
  for (int i = 1; i <= 5; ++i) {
    clock_.Advance(kLeaseRefreshNanos);
    ASSERT_TRUE(lease->RefreshNow().ok());
  }
  const LeaseHolder holder = lease->holder();
  EXPECT_EQ(holder.created_nanos, start);
  EXPECT_EQ(holder.refreshed_nanos, start + 5 * kLeaseRefreshNanos);
  EXPECT_EQ(holder.expires_nanos, start + 5 * kLeaseRefreshNanos + kLeaseTtlNanos);

  // Well past the first expiry, the refreshed lease still holds the instance.
  auto refused = manager_.Acquire(Request("restore", "instance:prod"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kAborted);

  auto listed = manager_.List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].expires_nanos, holder.expires_nanos);
  EXPECT_TRUE(lease->Check().ok());
}

TEST_F(LeaseTest, LeaseDeletedBySomeoneElseIsLostOnNextRefresh) {
  CancellationToken operation;
  auto lease = MustAcquire(Request("backup", "instance:prod"), nullptr, &operation);
  ASSERT_NE(lease, nullptr);
  ASSERT_TRUE(store_.Delete(lease->key()).ok());

  clock_.Advance(kLeaseRefreshNanos);
  Status refreshed = lease->RefreshNow();
  EXPECT_EQ(refreshed.code(), StatusCode::kAborted);
  EXPECT_TRUE(refreshed.message().starts_with("lease lost: "));
  EXPECT_NE(refreshed.message().find("was deleted"), std::string::npos) << refreshed.message();
  EXPECT_NE(refreshed.message().find(lease->key()), std::string::npos) << refreshed.message();
  EXPECT_TRUE(lease->token()->cancelled());
  EXPECT_EQ(lease->Check().code(), StatusCode::kAborted);
  EXPECT_EQ(operation.Check().message(), refreshed.message());
  EXPECT_EQ(LockCount(), 0u) << "a lost lease is not written again";
  EXPECT_EQ(lease->RefreshNow().code(), StatusCode::kAborted);
  EXPECT_EQ(LockCount(), 0u);
}

TEST_F(LeaseTest, RefreshAfterExpiryLosesTheLease) {
  auto lease = MustAcquire(Request("backup", "instance:prod"));
  ASSERT_NE(lease, nullptr);
  clock_.Advance(kLeaseTtlNanos + kMilli);  // the process was stalled
  Status refreshed = lease->RefreshNow();
  EXPECT_EQ(refreshed.code(), StatusCode::kAborted);
  EXPECT_TRUE(refreshed.message().starts_with("lease lost: ")) << refreshed.message();
  EXPECT_NE(refreshed.message().find("stalled"), std::string::npos) << refreshed.message();
  EXPECT_TRUE(lease->token()->cancelled());
  EXPECT_TRUE(lease->Release().ok());
  EXPECT_EQ(LockCount(), 0u);
}

TEST_F(LeaseTest, FailedRefreshLosesTheLease) {
  ScriptedStore store;
  LeaseManager manager(&store, &sealer_, &clock_, kLeaseTtlNanos, 0);
  auto lease = MustAcquire(Request("backup", "instance:prod"), &manager);
  ASSERT_NE(lease, nullptr);
  store.fail_puts = true;
  clock_.Advance(kLeaseRefreshNanos);
  Status refreshed = lease->RefreshNow();
  EXPECT_EQ(refreshed.code(), StatusCode::kAborted);
  EXPECT_NE(refreshed.message().find("lease lost: cannot refresh"), std::string::npos)
      << refreshed.message();
  EXPECT_NE(refreshed.message().find("disk on fire"), std::string::npos) << refreshed.message();
  EXPECT_TRUE(lease->token()->cancelled());
}

TEST_F(LeaseTest, ReleaseDeletesTheObject) {
  auto lease = MustAcquire(Request("backup", "instance:prod"));
  ASSERT_NE(lease, nullptr);
  EXPECT_EQ(LockCount(), 1u);
  EXPECT_TRUE(lease->Release().ok());
  EXPECT_EQ(LockCount(), 0u);
  EXPECT_TRUE(lease->Release().ok()) << "release is idempotent";
  EXPECT_FALSE(lease->RefreshNow().ok()) << "a released lease is not written again";
  EXPECT_EQ(LockCount(), 0u);

  auto scoped = MustAcquire(Request("backup", "instance:prod"));
  EXPECT_EQ(LockCount(), 1u);
  scoped.reset();
  EXPECT_EQ(LockCount(), 0u) << "destruction releases";
}

TEST_F(LeaseTest, LaterLeaseThatListedFirstHoldsTheScopeWhateverTheClocks) {
  // The holder's clock runs ten seconds ahead: its lease says it was created after ours will
  // be. It listed before we wrote, so it holds the instance and we must not take it.
  ManualClock ahead(clock_.NowUnixNanos() + 10 * kNanosPerSecond);
  LeaseManager holder_manager(&store_, &sealer_, &ahead, kLeaseTtlNanos, 0);
  auto held = MustAcquire(Request("restore", "instance:prod"), &holder_manager);
  ASSERT_NE(held, nullptr);

  manager_.set_settle_nanos(200 * kMilli);
  auto refused = manager_.Acquire(Request("backup", "instance:prod"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kAborted);
  EXPECT_NE(refused.status().message().find("instance prod is busy: restore started by"),
            std::string::npos)
      << refused.status().message();
  EXPECT_EQ(LockCount(), 1u);
}

TEST_F(LeaseTest, WaitsForALaterConflictingLeaseToWithdraw) {
  ScriptedStore store;
  ManualClock ahead(clock_.NowUnixNanos() + kNanosPerSecond);
  LeaseManager later_manager(&store, &sealer_, &ahead, kLeaseTtlNanos, 0);
  auto later = MustAcquire(Request("backup", "instance:prod"), &later_manager);
  ASSERT_NE(later, nullptr);
  later->Abandon();
  const std::string later_key = later->key();
  // The later lease saw ours and withdraws after our first listing.
  store.before_list = [&](int list) {
    if (list == 3) store.inner.Delete(later_key).IgnoreError();
  };

  LeaseManager manager(&store, &sealer_, &clock_, kLeaseTtlNanos, 0);
  const int64_t start = clock_.NowUnixNanos();
  auto lease = manager.Acquire(Request("restore", "instance:prod"));
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_EQ(store.lists, 3);
  const LeaseHolder holder = (*lease)->holder();
  EXPECT_EQ(holder.created_nanos, start);
  EXPECT_GT(holder.refreshed_nanos, start) << "renewed after waiting";
  EXPECT_EQ(holder.expires_nanos, holder.refreshed_nanos + kLeaseTtlNanos);
}

TEST_F(LeaseTest, ListingThatMissesOurOwnLeaseIsRefused) {
  ScriptedStore store;
  // A store whose listing lags behind its writes (or a lease removed under our feet).
  store.before_list = [&](int) {
    std::vector<std::string> keys;
    store.inner
        .List(kLocksPrefix,
              [&](const ObjectInfo& info) {
                keys.push_back(info.key);
                return OkStatus();
              })
        .IgnoreError();
    for (const std::string& key : keys) store.inner.Delete(key).IgnoreError();
  };
  LeaseManager manager(&store, &sealer_, &clock_, kLeaseTtlNanos, 0);
  auto refused = manager.Acquire(Request("backup", "instance:prod"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("does not show the lock locks/"), std::string::npos)
      << refused.status().message();
}

TEST_F(LeaseTest, DamagedLockObjectIsDataLossNamingIt) {
  ASSERT_TRUE(store_.Put("locks/0123abcd", "not a sealed lease").ok());
  auto refused = manager_.Acquire(Request("backup", "instance:prod"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(refused.status().message().find("locks/0123abcd"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(LockCount(), 1u) << "our own lease is withdrawn";
}

TEST_F(LeaseTest, RejectsMalformedRequests) {
  EXPECT_EQ(manager_.Acquire(Request("", "instance:prod")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_.Acquire(Request("backup", "prod")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_.Acquire(Request("backup", "instance:")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(LockCount(), 0u);
}

TEST_F(LeaseTest, ListShowsLiveAndStaleLeasesOldestFirst) {
  auto dead = MustAcquire(Request("backup", "instance:prod"));
  dead->Abandon();
  clock_.Advance(30 * kNanosPerSecond);
  auto live = MustAcquire(Request("restore", "instance:test", true, "ana", "laptop", 7));
  ASSERT_NE(live, nullptr);
  clock_.Advance(40 * kNanosPerSecond);  // the first has expired, the second has not

  auto listed = manager_.List();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key, dead->key());
  EXPECT_TRUE((*listed)[0].StaleAt(clock_.NowUnixNanos()));
  EXPECT_EQ((*listed)[1].key, live->key());
  EXPECT_FALSE((*listed)[1].StaleAt(clock_.NowUnixNanos()));
  EXPECT_EQ((*listed)[1].request.user, "ana");
  EXPECT_EQ(LockCount(), 2u) << "listing removes nothing";
}

TEST(LeaseJsonTest, RoundTripsWithNanoseconds) {
  LeaseHolder holder;
  holder.key = "locks/00ff";
  holder.request = Request("import", "instance:prod", false, "ops", "app-1", 31337);
  holder.created_nanos = At("2026-11-22T10:04:05Z") + 123456789;
  holder.refreshed_nanos = holder.created_nanos + 20 * kNanosPerSecond;
  holder.expires_nanos = holder.refreshed_nanos + kLeaseTtlNanos;
  const nlohmann::json document = LeaseHolderToJson(holder);
  EXPECT_EQ(document["created"], "2026-11-22T10:04:05.123456789Z");
  EXPECT_EQ(document["scope"], "instance:prod");
  EXPECT_EQ(document["exclusive"], false);

  nlohmann::json extended = document;
  extended["future_field"] = {1, 2, 3};
  auto back = LeaseHolderFromJson(extended, holder.key);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->key, holder.key);
  EXPECT_EQ(back->request.operation, "import");
  EXPECT_EQ(back->request.scope, "instance:prod");
  EXPECT_FALSE(back->request.exclusive);
  EXPECT_EQ(back->request.user, "ops");
  EXPECT_EQ(back->request.host, "app-1");
  EXPECT_EQ(back->request.pid, 31337);
  EXPECT_EQ(back->created_nanos, holder.created_nanos);
  EXPECT_EQ(back->refreshed_nanos, holder.refreshed_nanos);
  EXPECT_EQ(back->expires_nanos, holder.expires_nanos);

  nlohmann::json missing = document;
  missing.erase("expires");
  auto damaged = LeaseHolderFromJson(missing, "locks/00ff");
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(damaged.status().message().find("locks/00ff"), std::string::npos);
  EXPECT_NE(damaged.status().message().find("expires"), std::string::npos);
}

// --- Real threads and the real clock --------------------------------------------------------

class LeaseThreadTest : public ::testing::Test {
 protected:
  LeaseThreadTest() : sealer_(std::string(32, 'k')) {}

  MemoryObjectStore store_;
  DocumentSealer sealer_;
};

TEST_F(LeaseThreadTest, BackgroundRefreshKeepsTheLeaseAlive) {
  LeaseManager manager(&store_, &sealer_, Clock::Real(), 300 * kMilli, 50 * kMilli);
  auto lease = manager.Acquire(Request("backup", "instance:prod"));
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  const int64_t first_expiry = (*lease)->holder().expires_nanos;
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_TRUE((*lease)->Check().ok()) << (*lease)->Check().ToString();
  EXPECT_GT((*lease)->holder().expires_nanos, first_expiry);
  auto refused = manager.Acquire(Request("restore", "instance:prod"));
  EXPECT_EQ(refused.status().code(), StatusCode::kAborted);
}

TEST_F(LeaseThreadTest, ReleaseDoesNotWaitForTheRefreshPeriod) {
  LeaseManager manager(&store_, &sealer_, Clock::Real(), 60 * kNanosPerSecond,
                       20 * kNanosPerSecond);
  auto lease = manager.Acquire(Request("backup", "instance:prod"));
  ASSERT_TRUE(lease.ok());
  const auto start = std::chrono::steady_clock::now();
  lease->reset();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_EQ(store_.object_count(), 0u);
}

TEST_F(LeaseThreadTest, BackgroundRefreshDetectsADeletedLeaseAndCancels) {
  LeaseManager manager(&store_, &sealer_, Clock::Real(), 2 * kNanosPerSecond, 50 * kMilli);
  CancellationToken operation;
  auto lease = manager.Acquire(Request("backup", "instance:prod"), {}, &operation);
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(store_.Delete((*lease)->key()).ok());
  for (int i = 0; i < 200 && !operation.cancelled(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(operation.cancelled());
  EXPECT_EQ(operation.Check().code(), StatusCode::kAborted);
  EXPECT_TRUE(operation.Check().message().starts_with("lease lost: "));
  EXPECT_EQ((*lease)->Check().code(), StatusCode::kAborted);
}

TEST_F(LeaseThreadTest, ExactlyOneOfTwoConcurrentAcquirersWins) {
  ScriptedStore store;
  store.jitter_micros = 1000;
  for (int round = 0; round < 50; ++round) {
    std::vector<std::unique_ptr<LeaseManager>> managers;
    for (int i = 0; i < 2; ++i) {
      managers.push_back(
          std::make_unique<LeaseManager>(&store, &sealer_, Clock::Real(), kLeaseTtlNanos, 0));
      managers.back()->set_settle_nanos(150 * kMilli);
    }
    std::latch start(2);
    std::vector<std::unique_ptr<Lease>> won(2);
    std::vector<Status> lost(2);
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        auto lease = managers[i]->Acquire(
            Request("backup", "instance:prod", true, "ops", "host-" + std::to_string(i), i + 1));
        if (lease.ok()) {
          won[i] = std::move(*lease);
        } else {
          lost[i] = lease.status();
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    int winners = 0;
    for (int i = 0; i < 2; ++i) {
      if (won[i]) {
        ++winners;
      } else {
        EXPECT_EQ(lost[i].code(), StatusCode::kAborted) << lost[i].ToString();
        EXPECT_NE(lost[i].message().find("instance prod is busy: backup started by ops@host-"),
                  std::string::npos)
            << lost[i].message();
      }
    }
    ASSERT_EQ(winners, 1) << "round " << round;
    won.clear();
    ASSERT_EQ(store.inner.object_count(), 0u) << "round " << round;
  }
}

TEST_F(LeaseThreadTest, NeverTwoHoldersAmongFourConcurrentAcquirers) {
  ScriptedStore store;
  store.jitter_micros = 1000;
  for (int round = 0; round < 20; ++round) {
    std::latch start(4);
    std::atomic<int> winners{0};
    std::vector<std::unique_ptr<Lease>> won(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] {
        LeaseManager manager(&store, &sealer_, Clock::Real(), kLeaseTtlNanos, 0);
        manager.set_settle_nanos(100 * kMilli);
        start.arrive_and_wait();
        auto lease = manager.Acquire(Request("restore", "instance:prod"));
        if (lease.ok()) {
          ++winners;
          won[i] = std::move(*lease);
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_LE(winners.load(), 1) << "round " << round;
    won.clear();
    ASSERT_EQ(store.inner.object_count(), 0u) << "round " << round;
  }
}

}  // namespace
}  // namespace lifeboat
