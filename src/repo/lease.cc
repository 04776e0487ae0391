#include "repo/lease.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <set>
#include <utility>

#include "base/encoding.h"
#include "codec/random.h"

namespace lifeboat {
namespace {

constexpr char kLockKind[] = "lock";
constexpr size_t kLockNameBytes = 16;
constexpr char kInstanceScopePrefix[] = "instance:";
// How often Acquire re-lists while it waits for later conflicting leases to withdraw.
constexpr int64_t kSettlePollNanos = 20 * 1'000'000;

Status Damaged(std::string_view key, std::string_view field, std::string_view expected) {
  std::string message = "lock ";
  message += key;
  message += " is damaged: field \"";
  message += field;
  message += "\" is missing or not ";
  message += expected;
  return DataLossError(std::move(message));
}

Status GetString(const nlohmann::json& doc, const char* field, std::string_view key,
                 std::string* out) {
  auto it = doc.find(field);
  if (it == doc.end() || !it->is_string()) return Damaged(key, field, "a string");
  *out = it->get<std::string>();
  return OkStatus();
}

Status GetTime(const nlohmann::json& doc, const char* field, std::string_view key, int64_t* out) {
  auto it = doc.find(field);
  if (it == doc.end() || !it->is_string() || !ParseRfc3339(it->get<std::string>(), out)) {
    return Damaged(key, field, "an RFC 3339 time");
  }
  return OkStatus();
}

// The order in which conflicting leases win: created first, then the smaller key.
bool CreatedBefore(const LeaseHolder& a, const LeaseHolder& b) {
  if (a.created_nanos != b.created_nanos) return a.created_nanos < b.created_nanos;
  return a.key < b.key;
}

std::string DescribeLease(const LeaseHolder& holder) {
  return "the lock " + holder.key + " of " + holder.request.operation + " on " +
         DescribeScope(holder.request.scope);
}

Status BusyError(const LeaseHolder& holder) {
  return AbortedError(DescribeScope(holder.request.scope) + " is busy: " + DescribeHolder(holder) +
                      " is running (lock " + holder.key +
                      "); wait for it to finish or, if that process is gone, until its lock "
                      "expires at " +
                      FormatRfc3339(holder.expires_nanos));
}

Status ValidateRequest(const LeaseRequest& request) {
  if (request.operation.empty()) {
    return InvalidArgumentError("a lock needs the name of the operation that takes it");
  }
  const bool instance = request.scope.starts_with(kInstanceScopePrefix) &&
                        request.scope.size() > std::string_view(kInstanceScopePrefix).size();
  if (!instance && request.scope != kRepositoryScope) {
    return InvalidArgumentError("cannot lock \"" + request.scope + "\" for " + request.operation +
                                ": a lock scope is \"instance:<name>\" or \"repository\"");
  }
  return OkStatus();
}

}  // namespace

std::string InstanceScope(std::string_view instance) {
  return kInstanceScopePrefix + std::string(instance);
}

bool LeasesConflict(const LeaseRequest& a, const LeaseRequest& b) {
  if (a.exclusive && a.scope == kRepositoryScope) return true;
  if (b.exclusive && b.scope == kRepositoryScope) return true;
  return a.scope == b.scope && (a.exclusive || b.exclusive);
}

std::string DescribeScope(std::string_view scope) {
  if (scope == kRepositoryScope) return "the repository";
  if (scope.starts_with(kInstanceScopePrefix)) {
    return "instance " + std::string(scope.substr(std::string_view(kInstanceScopePrefix).size()));
  }
  return "scope " + std::string(scope);
}

std::string DescribeHolder(const LeaseHolder& holder) {
  const LeaseRequest& r = holder.request;
  std::string text = r.operation + " started by " + (r.user.empty() ? "an unknown user" : r.user);
  if (!r.host.empty()) text += "@" + r.host;
  if (r.pid != 0) text += " (pid " + std::to_string(r.pid) + ")";
  text += " at " + FormatRfc3339(holder.created_nanos);
  return text;
}

std::string DescribeStaleLease(const LeaseHolder& holder) {
  const LeaseRequest& r = holder.request;
  std::string text = "removed a stale lock of " + r.operation + " on " + DescribeScope(r.scope) +
                     " by " + (r.user.empty() ? "an unknown user" : r.user);
  if (!r.host.empty()) text += "@" + r.host;
  if (r.pid != 0) text += " (pid " + std::to_string(r.pid) + ")";
  text += " (expired " + FormatRfc3339(holder.expires_nanos) + ")";
  return text;
}

nlohmann::json LeaseHolderToJson(const LeaseHolder& holder) {
  const LeaseRequest& r = holder.request;
  return nlohmann::json{{"operation", r.operation},
                        {"scope", r.scope},
                        {"exclusive", r.exclusive},
                        {"user", r.user},
                        {"host", r.host},
                        {"pid", r.pid},
                        {"created", FormatRfc3339Nanos(holder.created_nanos)},
                        {"refreshed", FormatRfc3339Nanos(holder.refreshed_nanos)},
                        {"expires", FormatRfc3339Nanos(holder.expires_nanos)}};
}

Result<LeaseHolder> LeaseHolderFromJson(const nlohmann::json& document, std::string_view key) {
  if (!document.is_object()) return Damaged(key, "(document)", "a JSON object");
  LeaseHolder holder;
  holder.key = std::string(key);
  LeaseRequest& r = holder.request;
  LB_RETURN_IF_ERROR(GetString(document, "operation", key, &r.operation));
  LB_RETURN_IF_ERROR(GetString(document, "scope", key, &r.scope));
  auto exclusive = document.find("exclusive");
  if (exclusive == document.end() || !exclusive->is_boolean()) {
    return Damaged(key, "exclusive", "true or false");
  }
  r.exclusive = exclusive->get<bool>();
  LB_RETURN_IF_ERROR(GetString(document, "user", key, &r.user));
  LB_RETURN_IF_ERROR(GetString(document, "host", key, &r.host));
  auto pid = document.find("pid");
  if (pid == document.end() || !pid->is_number_integer()) return Damaged(key, "pid", "an integer");
  r.pid = pid->get<int64_t>();
  LB_RETURN_IF_ERROR(GetTime(document, "created", key, &holder.created_nanos));
  LB_RETURN_IF_ERROR(GetTime(document, "refreshed", key, &holder.refreshed_nanos));
  LB_RETURN_IF_ERROR(GetTime(document, "expires", key, &holder.expires_nanos));
  return holder;
}

// ---------------------------------------------------------------------------------------------
// Lease

Lease::Lease(ObjectStore* store, const DocumentSealer* sealer, Clock* clock, LeaseHolder holder,
             int64_t ttl_nanos, int64_t refresh_nanos, CancellationToken* cancel_on_loss)
    : store_(store),
      sealer_(sealer),
      clock_(clock),
      key_(holder.key),
      ttl_nanos_(ttl_nanos),
      refresh_nanos_(refresh_nanos),
      cancel_on_loss_(cancel_on_loss),
      holder_(std::move(holder)) {
  if (refresh_nanos_ > 0) thread_ = std::thread([this] { RefreshLoop(); });
}

Lease::~Lease() {
  Release().IgnoreError();
}

LeaseHolder Lease::holder() const {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  return holder_;
}

void Lease::RefreshLoop() {
  std::unique_lock<std::mutex> lock(thread_mu_);
  while (true) {
    if (wake_.wait_for(lock, std::chrono::nanoseconds(refresh_nanos_),
                       [this] { return stop_thread_; })) {
      return;
    }
    lock.unlock();
    const Status status = RefreshNow();
    lock.lock();
    if (!status.ok()) return;  // lost (the tokens say why) or released
  }
}

Status Lease::Lose(std::string reason) {
  lost_ = true;
  Status status = AbortedError("lease lost: " + reason +
                               "; this operation stops so that it cannot overlap another one: "
                               "run it again");
  token_.Cancel(status);
  if (cancel_on_loss_ != nullptr) cancel_on_loss_->Cancel(status);
  return status;
}

Status Lease::RefreshNow() {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  if (lost_) return token_.Check();
  if (stopped_) {
    return FailedPreconditionError("cannot refresh the lock " + key_ + ": it was released");
  }
  const int64_t old_expiry = holder_.expires_nanos;
  const int64_t now = clock_->NowUnixNanos();
  if (now > old_expiry) {
    return Lose(DescribeLease(holder_) + " expired at " + FormatRfc3339(old_expiry) +
                " before it was refreshed (the process was stalled) and may have been taken over");
  }
  Result<uint64_t> size = store_->Size(key_);
  if (!size.ok()) {
    if (size.status().code() == StatusCode::kNotFound) {
      return Lose(DescribeLease(holder_) + " was deleted from " + store_->Describe() +
                  " by another process, which took it for stale");
    }
    return Lose("cannot check " + DescribeLease(holder_) + " in " + store_->Describe() + ": " +
                size.status().ToString());
  }
  LeaseHolder next = holder_;
  next.refreshed_nanos = now;
  next.expires_nanos = now + ttl_nanos_;
  Status put = store_->Put(key_, sealer_->Seal(kLockKind, LeaseHolderToJson(next)));
  if (!put.ok()) {
    return Lose("cannot refresh " + DescribeLease(holder_) + " in " + store_->Describe() + ": " +
                put.ToString());
  }
  // A write that finished after the old expiry may have recreated an object that another
  // process had already removed as stale before it took the scope.
  if (clock_->NowUnixNanos() > old_expiry) {
    return Lose(DescribeLease(holder_) + " expired at " + FormatRfc3339(old_expiry) +
                " while it was being refreshed (the store was too slow)");
  }
  holder_ = std::move(next);
  return OkStatus();
}

bool Lease::Stop() {
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    stop_thread_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(refresh_mu_);
  const bool was_held = !stopped_;
  stopped_ = true;
  return was_held;
}

Status Lease::Release() {
  if (!Stop()) return OkStatus();
  Status status = store_->Delete(key_);
  if (!status.ok()) {
    return status.WithContext("releasing the lock " + key_ + " in " + store_->Describe() +
                              " (it expires at " + FormatRfc3339(holder().expires_nanos) +
                              "; until then it holds its scope)");
  }
  return OkStatus();
}

void Lease::Abandon() {
  Stop();
}

// ---------------------------------------------------------------------------------------------
// LeaseManager

LeaseManager::LeaseManager(ObjectStore* store, const DocumentSealer* sealer, Clock* clock,
                           int64_t ttl_nanos, int64_t refresh_nanos)
    : store_(store),
      sealer_(sealer),
      clock_(clock),
      ttl_nanos_(ttl_nanos),
      refresh_nanos_(refresh_nanos) {}

Result<LeaseHolder> LeaseManager::Load(const std::string& key) {
  Result<std::string> sealed = store_->Get(key);
  if (!sealed.ok()) {
    if (sealed.status().code() == StatusCode::kNotFound) return sealed.status();
    return sealed.status().WithContext("reading the lock " + key + " in " + store_->Describe());
  }
  LB_ASSIGN_OR_RETURN(nlohmann::json document, sealer_->Open(kLockKind, *sealed, key));
  return LeaseHolderFromJson(document, key);
}

Result<std::unique_ptr<Lease>> LeaseManager::Acquire(
    const LeaseRequest& request, const std::function<void(const LeaseHolder&)>& on_stale,
    CancellationToken* cancel_on_loss) {
  LB_RETURN_IF_ERROR(ValidateRequest(request));
  LeaseHolder ours;
  ours.key = kLocksPrefix + ToHex(RandomBytes(kLockNameBytes));
  ours.request = request;
  ours.created_nanos = clock_->NowUnixNanos();
  ours.refreshed_nanos = ours.created_nanos;
  ours.expires_nanos = ours.created_nanos + ttl_nanos_;
  const std::string action =
      "locking " + DescribeScope(request.scope) + " for " + request.operation;
  LB_RETURN_IF_ERROR(
      store_->Put(ours.key, sealer_->Seal(kLockKind, LeaseHolderToJson(ours)))
          .WithContext(action + ": writing " + ours.key + " in " + store_->Describe()));
  // Every failure from here on withdraws our lease first.
  auto withdraw = [&](Status status) {
    store_->Delete(ours.key).IgnoreError();  // if this fails too, the lease expires unrefreshed
    return status;
  };

  const int64_t settle_deadline = clock_->MonotonicNanos() + settle_nanos_;
  std::set<std::string> reported_stale;
  bool waited = false;
  while (true) {
    std::vector<std::string> keys;
    bool listed_ours = false;
    Status listed = store_->List(kLocksPrefix, [&](const ObjectInfo& info) {
      if (info.key == ours.key) {
        listed_ours = true;
      } else {
        keys.push_back(info.key);
      }
      return OkStatus();
    });
    if (!listed.ok()) {
      return withdraw(
          listed.WithContext(action + ": listing " + kLocksPrefix + " in " + store_->Describe()));
    }
    // The protocol needs a listing that shows every write finished before it started.
    if (!listed_ours) {
      return withdraw(UnavailableError(
          action + ": the listing of " + kLocksPrefix + " in " + store_->Describe() +
          " does not show the lock " + ours.key +
          " just written (the store lists stale contents, or another process removed the lock); "
          "try again"));
    }
    const int64_t now = clock_->NowUnixNanos();
    std::optional<LeaseHolder> earlier;  // the first conflicting lease created before ours
    std::optional<LeaseHolder> later;    // the first conflicting lease created after ours
    for (const std::string& key : keys) {
      Result<LeaseHolder> other = Load(key);
      if (!other.ok()) {
        if (other.status().code() == StatusCode::kNotFound) continue;  // released meanwhile
        if (other.status().code() == StatusCode::kDataLoss) {
          return withdraw(DataLossError(action + ": " + other.status().message() +
                                        "; if no other Lifeboat operation is running, delete " +
                                        key + " from " + store_->Describe()));
        }
        return withdraw(other.status().WithContext(action));
      }
      if (other->StaleAt(now)) {
        // A stale lease does not hold its scope; remove it so that it does not linger.
        if (store_->Delete(key).ok() && reported_stale.insert(key).second && on_stale) {
          on_stale(*other);
        }
        continue;
      }
      if (!LeasesConflict(request, other->request)) continue;
      std::optional<LeaseHolder>& slot = CreatedBefore(*other, ours) ? earlier : later;
      if (!slot || CreatedBefore(*other, *slot)) slot = std::move(*other);
    }
    if (earlier) return withdraw(BusyError(*earlier));
    if (!later) break;
    // `later` either saw our lease (and is withdrawing) or listed before we wrote ours (and
    // holds the scope). Wait for it to go; if it stays, it is the holder.
    if (clock_->MonotonicNanos() >= settle_deadline) return withdraw(BusyError(*later));
    clock_->SleepForNanos(kSettlePollNanos);
    waited = true;
  }

  auto lease = std::unique_ptr<Lease>(
      new Lease(store_, sealer_, clock_, ours, ttl_nanos_, refresh_nanos_, cancel_on_loss));
  // Waiting used up part of the lease's time: renew it before handing it out.
  if (waited) LB_RETURN_IF_ERROR(lease->RefreshNow());
  return lease;
}

Result<std::vector<LeaseHolder>> LeaseManager::List() {
  std::vector<std::string> keys;
  LB_RETURN_IF_ERROR(store_
                         ->List(kLocksPrefix,
                                [&](const ObjectInfo& info) {
                                  keys.push_back(info.key);
                                  return OkStatus();
                                })
                         .WithContext("listing locks in " + store_->Describe()));
  std::vector<LeaseHolder> holders;
  for (const std::string& key : keys) {
    Result<LeaseHolder> holder = Load(key);
    if (!holder.ok()) {
      if (holder.status().code() == StatusCode::kNotFound) continue;
      return holder.status();
    }
    holders.push_back(std::move(*holder));
  }
  std::sort(holders.begin(), holders.end(), CreatedBefore);
  return holders;
}

}  // namespace lifeboat
