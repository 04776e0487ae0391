#include "ops/operation.h"

#include "base/encoding.h"
#include "codec/random.h"
#include "repo/activity_log.h"
#include "repo/lease.h"

namespace lifeboat {

Status RunOperation(Repository* repo, const OperationInfo& info, CancellationToken* cancel,
                    const std::function<void(const std::string&)>& on_notice,
                    const OperationBody& body) {
  ActivityLog log(repo->store(), &repo->sealer(), repo->clock());
  ActivityEvent event;
  event.operation = info.operation;
  event.op_id = ToHex(RandomBytes(8));
  event.user = info.user;
  event.host = info.host;
  event.instance = info.instance;
  event.account = info.account;
  event.name = info.name;
  event.notes = info.notes;
  auto append = [&](const std::string& what) {
    event.event = what;
    event.time_nanos = 0;
    Status logged = log.Append(event);
    if (!logged.ok() && on_notice) {
      on_notice("could not write the activity log: " + logged.ToString());
    }
  };

  append("requested");
  LeaseManager leases(repo->store(), &repo->sealer(), repo->clock());
  LeaseRequest request{info.operation, InstanceScope(info.instance), true, info.user, info.host,
                       info.pid};
  Result<std::unique_ptr<Lease>> lease = leases.Acquire(
      request,
      [&](const LeaseHolder& stale) {
        if (on_notice) on_notice(DescribeStaleLease(stale));
      },
      cancel);
  if (!lease.ok()) {
    event.outcome = "refused";
    event.error = lease.status().ToString();
    append("failed");
    return lease.status();
  }

  append("started");
  OperationReport report;
  Status status = body(cancel, &report);
  event.snapshot = report.snapshot;
  event.figures = report.figures;
  event.table_errors = report.table_errors;
  if (status.ok()) {
    event.outcome = report.outcome;
    append("completed");
  } else {
    switch (status.code()) {
      case StatusCode::kFailedPrecondition: event.outcome = "refused"; break;
      case StatusCode::kCancelled: event.outcome = "cancelled"; break;
      default: event.outcome = "failed"; break;
    }
    event.error = status.ToString();
    append("failed");
  }
  Status released = (*lease)->Release();
  if (!released.ok() && on_notice) on_notice("could not release the lock: " + released.ToString());
  return status;
}

}  // namespace lifeboat
