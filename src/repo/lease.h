// Leases: the locks that keep operations from overlapping (FORMAT.md §11, DESIGN.md §5
// "Exclusion"). A lease is a sealed JSON object `locks/<16 random bytes hex>` that says which
// operation holds which scope ("instance:prod" or "repository"), who started it and until when
// it is valid. Its holder rewrites it every refresh period with a new expiry; a lease whose
// expiry has passed is stale (its holder died) and the next acquirer deletes it.
//
// Acquiring: write our lease, then list `locks/`. Two leases conflict when they have the same
// scope and either is exclusive, and an exclusive "repository" lease conflicts with every
// lease. A live conflicting lease created before ours (ties: smaller key) wins: ours is deleted
// and Acquire answers Aborted naming the holder. A conflicting lease created after ours has
// either seen ours (it withdraws at once) or listed before ours existed (it holds the scope);
// the acquirer re-lists until such leases withdraw and fails naming the holder if one stays
// past the settle time. So a lease is granted only by a listing, taken after our write, that
// shows no live conflicting lease: two holders can never both be granted, whatever the clocks.
//
// Holding: a Lease refreshes itself on a background thread. A refresh that fails, finds the
// object gone (someone took it for stale) or comes after the lease's expiry (the process was
// stalled) loses the lease: its token is cancelled with Aborted "lease lost: ...", and the
// operation, which polls the token, stops.
//
// Thread-safety: LeaseManager is safe to use from several threads. Lease methods may be called
// from any thread; the background refresh runs concurrently with them.
// Ownership: the ObjectStore, DocumentSealer and Clock are not owned and must outlive the
// manager and every Lease it hands out.
// Errors: Aborted when the scope is busy or the lease is lost; the store's errors (Unavailable,
// ...) with context naming the lock object; DataLoss for a lock object that cannot be read.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/cancellation.h"
#include "base/clock.h"
#include "lifeboat/status.h"
#include "repo/document_sealer.h"
#include "storage/object_store.h"

namespace lifeboat {

// FORMAT.md §11: a holder refreshes every 20 s with its expiry 60 s ahead.
inline constexpr int64_t kLeaseTtlNanos = 60 * kNanosPerSecond;
inline constexpr int64_t kLeaseRefreshNanos = 20 * kNanosPerSecond;
// How long an acquirer waits for conflicting leases created after its own to withdraw.
inline constexpr int64_t kLeaseSettleNanos = 5 * kNanosPerSecond;
inline constexpr char kLocksPrefix[] = "locks/";
inline constexpr char kRepositoryScope[] = "repository";

struct LeaseRequest {
  std::string operation;  // "backup", "restore", "prune", ...
  std::string scope;      // "instance:<name>" or "repository"
  bool exclusive = true;
  std::string user;
  std::string host;
  int64_t pid = 0;
};

struct LeaseHolder {
  std::string key;  // "locks/<hex>"
  LeaseRequest request;
  int64_t created_nanos = 0;
  int64_t refreshed_nanos = 0;
  int64_t expires_nanos = 0;

  // A lease is stale once its expiry has passed.
  bool StaleAt(int64_t now_nanos) const { return expires_nanos < now_nanos; }
};

// The "instance:<name>" scope of an instance.
std::string InstanceScope(std::string_view instance);
// Whether two leases may not be held at the same time (rules above).
bool LeasesConflict(const LeaseRequest& a, const LeaseRequest& b);
// "instance prod" or "the repository", for messages.
std::string DescribeScope(std::string_view scope);
// "restore started by ops@app-1 (pid 4242) at 2026-11-22T10:04:05Z".
std::string DescribeHolder(const LeaseHolder& holder);
// "removed a stale lock of backup by ops@app-1 (expired 2026-11-22T10:05:05Z)": what to tell
// the user when Acquire reports a stale lease through `on_stale`.
std::string DescribeStaleLease(const LeaseHolder& holder);

// The lease document of FORMAT.md §11 (times with nanoseconds).
nlohmann::json LeaseHolderToJson(const LeaseHolder& holder);
// DataLoss naming `key` when a field is missing or has the wrong type; unknown fields are
// ignored. The result's key is `key`.
Result<LeaseHolder> LeaseHolderFromJson(const nlohmann::json& document, std::string_view key);

class LeaseManager;

// A granted lease. Destroying it releases it (best effort); see Release().
class Lease {
 public:
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  const std::string& key() const { return key_; }
  // A copy of the lease as last written (refreshed and expires move with each refresh).
  LeaseHolder holder() const;

  // Cancelled with Aborted "lease lost: ..." when the lease is lost; the operation polls it.
  CancellationToken* token() { return &token_; }
  // OK while the lease is held; Aborted "lease lost: ..." once lost.
  Status Check() const { return token_.Check(); }

  // Refreshes now: rewrites the lease with refreshed = now and expires = now + ttl. Loses the
  // lease (and returns the loss) when the refresh comes after the expiry, when the object is
  // gone or when writing fails. With a refresh period of 0 nothing refreshes in the background
  // and the caller drives refreshes with this (tests with a ManualClock).
  Status RefreshNow();

  // Stops refreshing and deletes the lease object. Idempotent; after a loss it still deletes
  // the object (ours, under a name no one else uses). Errors name the lock object.
  Status Release();

  // Stops refreshing and leaves the object in the store, as a process that died would. For
  // tests of stale leases.
  void Abandon();

 private:
  friend class LeaseManager;
  Lease(ObjectStore* store, const DocumentSealer* sealer, Clock* clock, LeaseHolder holder,
        int64_t ttl_nanos, int64_t refresh_nanos, CancellationToken* cancel_on_loss);

  void RefreshLoop();
  // Stops the background thread; returns whether the lease was still to be released.
  bool Stop();
  // Requires refresh_mu_. Marks the lease lost with `reason` and cancels the tokens.
  Status Lose(std::string reason);

  ObjectStore* const store_;
  const DocumentSealer* const sealer_;
  Clock* const clock_;
  const std::string key_;
  const int64_t ttl_nanos_;
  const int64_t refresh_nanos_;
  CancellationToken token_;
  CancellationToken* const cancel_on_loss_;  // may be null

  // Serialises refreshes with Release so that a refresh never rewrites a released object.
  mutable std::mutex refresh_mu_;
  LeaseHolder holder_;    // guarded by refresh_mu_
  bool lost_ = false;     // guarded by refresh_mu_
  bool stopped_ = false;  // guarded by refresh_mu_: released or abandoned

  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stop_thread_ = false;  // guarded by thread_mu_
  std::thread thread_;
};

class LeaseManager {
 public:
  // `refresh_nanos` 0: Leases do not refresh in the background (drive them with RefreshNow).
  LeaseManager(ObjectStore* store, const DocumentSealer* sealer, Clock* clock,
               int64_t ttl_nanos = kLeaseTtlNanos, int64_t refresh_nanos = kLeaseRefreshNanos);

  // How long Acquire waits for later conflicting leases to withdraw (kLeaseSettleNanos). Set it
  // before the first Acquire.
  void set_settle_nanos(int64_t nanos) { settle_nanos_ = nanos; }

  // Acquires a lease for `request` (protocol above). Stale leases met along the way are
  // deleted and reported once each through `on_stale`. When the lease is lost later, its own
  // token and `cancel_on_loss` (if not null; it must outlive the Lease) are cancelled.
  // Errors: Aborted "<scope> is busy: <operation> started by <user>@<host> (pid N) at <time>
  // is running; ..." naming the holder; InvalidArgument for an empty operation or a scope
  // that is neither "instance:<name>" nor "repository"; Unavailable when the store's listing
  // does not show the lease just written (the protocol cannot work on such a store); the
  // store's errors; DataLoss for a lock object that cannot be read. Our lease is withdrawn on
  // every error.
  Result<std::unique_ptr<Lease>> Acquire(
      const LeaseRequest& request, const std::function<void(const LeaseHolder&)>& on_stale = {},
      CancellationToken* cancel_on_loss = nullptr);

  // Every lease in the repository, live and stale, oldest first (for `lifeboat locks` and
  // diagnostics). Leases deleted while listing are left out.
  Result<std::vector<LeaseHolder>> List();

 private:
  // Reads one lease; NotFound when it was deleted meanwhile.
  Result<LeaseHolder> Load(const std::string& key);

  ObjectStore* const store_;
  const DocumentSealer* const sealer_;
  Clock* const clock_;
  const int64_t ttl_nanos_;
  const int64_t refresh_nanos_;
  int64_t settle_nanos_ = kLeaseSettleNanos;
};

}  // namespace lifeboat
