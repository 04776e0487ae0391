// ActivityLog: the repository's record of what was done to it and to the instances it backs up
// (FORMAT.md §12): who requested, started, completed or failed which backup, restore, prune...
// and with what outcome. `lifeboat log` and the server's history page read it.
//
// Each event is one sealed JSON object `log/<20-digit unix nanos>-<8 random hex>`, written once
// and never modified, so concurrent writers never contend and names sort by time. Reading
// collects the names under `log/`, sorts them and opens the events one at a time: memory holds
// the names, never all the events.
//
// Thread-safety: Append and Read are safe to call from several threads.
// Ownership: the ObjectStore, DocumentSealer and Clock are not owned and must outlive the log.
// Errors: the store's errors with context naming the log object; DataLoss naming the object
// for an event that does not open (damaged, or sealed under another key), lacks a required
// field or has a name that does not match its time.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "lifeboat/status.h"
#include "repo/document_sealer.h"
#include "storage/object_store.h"

namespace lifeboat {

inline constexpr char kLogPrefix[] = "log/";

struct ActivityEvent {
  int64_t time_nanos = 0;  // Unix nanoseconds; 0 in Append: now
  std::string operation;   // "backup", "restore", "prune", ...
  std::string op_id;       // hex; the same for all events of one operation
  std::string event;       // "requested", "started", "completed" or "failed"
  std::string user;
  std::string host;
  std::string instance;  // empty for repository-wide operations
  std::string account;
  std::string name;
  std::string notes;
  std::string snapshot;  // snapshot id (hex), when there is one
  std::string outcome;   // "ok", ... ; empty until the operation ends
  std::optional<std::string> error;
  std::vector<std::pair<std::string, std::string>> table_errors;  // (table, error)
  nlohmann::json figures = nlohmann::json::object();              // {"rows": ..., "bytes": ...}
};

struct LogFilter {
  std::string instance;     // only this instance's events; empty: all
  int64_t since_nanos = 0;  // only events at or after this time
};

// The event document of FORMAT.md §12 (time with nanoseconds; "error" null when absent).
nlohmann::json ActivityEventToJson(const ActivityEvent& event);
// Fields "time", "operation", "op_id", "event", "user" and "host" are required; the others may
// be missing (then empty) and unknown fields are ignored. DataLoss naming `object_name` when
// a required field is missing or any field has the wrong type.
Result<ActivityEvent> ActivityEventFromJson(const nlohmann::json& document,
                                            std::string_view object_name);

class ActivityLog {
 public:
  ActivityLog(ObjectStore* store, const DocumentSealer* sealer, Clock* clock);

  // Writes `event` as a new log object; a time_nanos of 0 is replaced by the clock's time.
  // InvalidArgument for an event without an operation, with an unknown `event` kind, a
  // negative time or figures that are not a JSON object.
  Status Append(const ActivityEvent& event);

  // Calls `fn` for every event that passes `filter`, oldest first (ties: by name). A non-OK
  // status from `fn` stops the reading and is returned. Events deleted while reading are
  // skipped.
  Status Read(const LogFilter& filter, const std::function<Status(const ActivityEvent&)>& fn);

 private:
  ObjectStore* const store_;
  const DocumentSealer* const sealer_;
  Clock* const clock_;
};

}  // namespace lifeboat
