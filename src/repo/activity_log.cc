#include "repo/activity_log.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "base/encoding.h"
#include "codec/random.h"

namespace lifeboat {
namespace {

constexpr char kLogKind[] = "log";
constexpr size_t kTimeDigits = 20;
constexpr size_t kSuffixBytes = 4;  // 8 hex characters
constexpr size_t kNameLength = kTimeDigits + 1 + 2 * kSuffixBytes;

Status Damaged(std::string_view object_name, std::string_view what) {
  std::string message = "log event ";
  message += object_name;
  message += " is damaged: ";
  message += what;
  return DataLossError(std::move(message));
}

Status FieldError(std::string_view object_name, std::string_view field, std::string_view expected) {
  return Damaged(object_name,
                 "field \"" + std::string(field) + "\" is missing or not " + std::string(expected));
}

// A required string field.
Status GetString(const nlohmann::json& doc, const char* field, std::string_view object_name,
                 std::string* out) {
  auto it = doc.find(field);
  if (it == doc.end() || !it->is_string()) return FieldError(object_name, field, "a string");
  *out = it->get<std::string>();
  return OkStatus();
}

// An optional string field: missing or null leaves *out empty.
Status GetOptionalString(const nlohmann::json& doc, const char* field, std::string_view object_name,
                         std::string* out) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return OkStatus();
  if (!it->is_string()) return FieldError(object_name, field, "a string");
  *out = it->get<std::string>();
  return OkStatus();
}

bool IsEventKind(std::string_view event) {
  return event == "requested" || event == "started" || event == "completed" || event == "failed";
}

// The time in a log object's name "log/<20 digits>-<8 hex>", or nullopt when it is malformed.
std::optional<int64_t> TimeFromName(std::string_view key) {
  if (!key.starts_with(kLogPrefix)) return std::nullopt;
  std::string_view name = key.substr(std::string_view(kLogPrefix).size());
  if (name.size() != kNameLength || name[kTimeDigits] != '-') return std::nullopt;
  uint64_t time = 0;
  for (size_t i = 0; i < kTimeDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (time > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    time = time * 10 + digit;
  }
  if (time > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  if (!FromHex(name.substr(kTimeDigits + 1)).has_value()) return std::nullopt;
  return static_cast<int64_t>(time);
}

}  // namespace

nlohmann::json ActivityEventToJson(const ActivityEvent& event) {
  nlohmann::json table_errors = nlohmann::json::array();
  for (const auto& [table, error] : event.table_errors) {
    table_errors.push_back({{"table", table}, {"error", error}});
  }
  return nlohmann::json{{"time", FormatRfc3339Nanos(event.time_nanos)},
                        {"operation", event.operation},
                        {"op_id", event.op_id},
                        {"event", event.event},
                        {"user", event.user},
                        {"host", event.host},
                        {"instance", event.instance},
                        {"account", event.account},
                        {"name", event.name},
                        {"notes", event.notes},
                        {"snapshot", event.snapshot},
                        {"outcome", event.outcome},
                        {"error", event.error ? nlohmann::json(*event.error) : nlohmann::json()},
                        {"table_errors", std::move(table_errors)},
                        {"figures", event.figures}};
}

Result<ActivityEvent> ActivityEventFromJson(const nlohmann::json& document,
                                            std::string_view object_name) {
  if (!document.is_object()) return Damaged(object_name, "it is not a JSON object");
  ActivityEvent event;
  auto time = document.find("time");
  if (time == document.end() || !time->is_string() ||
      !ParseRfc3339(time->get<std::string>(), &event.time_nanos)) {
    return FieldError(object_name, "time", "an RFC 3339 time");
  }
  LB_RETURN_IF_ERROR(GetString(document, "operation", object_name, &event.operation));
  LB_RETURN_IF_ERROR(GetString(document, "op_id", object_name, &event.op_id));
  LB_RETURN_IF_ERROR(GetString(document, "event", object_name, &event.event));
  LB_RETURN_IF_ERROR(GetString(document, "user", object_name, &event.user));
  LB_RETURN_IF_ERROR(GetString(document, "host", object_name, &event.host));
  LB_RETURN_IF_ERROR(GetOptionalString(document, "instance", object_name, &event.instance));
  LB_RETURN_IF_ERROR(GetOptionalString(document, "account", object_name, &event.account));
  LB_RETURN_IF_ERROR(GetOptionalString(document, "name", object_name, &event.name));
  LB_RETURN_IF_ERROR(GetOptionalString(document, "notes", object_name, &event.notes));
  LB_RETURN_IF_ERROR(GetOptionalString(document, "snapshot", object_name, &event.snapshot));
  LB_RETURN_IF_ERROR(GetOptionalString(document, "outcome", object_name, &event.outcome));
  auto error = document.find("error");
  if (error != document.end() && !error->is_null()) {
    if (!error->is_string()) return FieldError(object_name, "error", "a string or null");
    event.error = error->get<std::string>();
  }
  auto table_errors = document.find("table_errors");
  if (table_errors != document.end() && !table_errors->is_null()) {
    if (!table_errors->is_array()) {
      return FieldError(object_name, "table_errors", "a list of {\"table\", \"error\"}");
    }
    for (const nlohmann::json& entry : *table_errors) {
      if (!entry.is_object()) {
        return FieldError(object_name, "table_errors", "a list of {\"table\", \"error\"}");
      }
      std::string table, message;
      LB_RETURN_IF_ERROR(GetString(entry, "table", object_name, &table));
      LB_RETURN_IF_ERROR(GetString(entry, "error", object_name, &message));
      event.table_errors.emplace_back(std::move(table), std::move(message));
    }
  }
  auto figures = document.find("figures");
  if (figures != document.end() && !figures->is_null()) {
    if (!figures->is_object()) return FieldError(object_name, "figures", "a JSON object");
    event.figures = *figures;
  }
  return event;
}

ActivityLog::ActivityLog(ObjectStore* store, const DocumentSealer* sealer, Clock* clock)
    : store_(store), sealer_(sealer), clock_(clock) {}

Status ActivityLog::Append(const ActivityEvent& event) {
  if (event.operation.empty()) {
    return InvalidArgumentError("cannot log an event without the operation it belongs to");
  }
  if (!IsEventKind(event.event)) {
    return InvalidArgumentError("cannot log event \"" + event.event + "\" of " + event.operation +
                                ": an event is requested, started, completed or failed");
  }
  if (event.time_nanos < 0) {
    return InvalidArgumentError("cannot log " + event.operation + " " + event.event +
                                " at a time before 1970");
  }
  if (!event.figures.is_object()) {
    return InvalidArgumentError("cannot log " + event.operation + " " + event.event +
                                ": its figures must be a JSON object, not " + event.figures.dump());
  }
  ActivityEvent stamped = event;
  if (stamped.time_nanos == 0) stamped.time_nanos = clock_->NowUnixNanos();
  char time[kTimeDigits + 1];
  std::snprintf(time, sizeof(time), "%020lld", static_cast<long long>(stamped.time_nanos));
  const std::string key = std::string(kLogPrefix) + time + "-" + ToHex(RandomBytes(kSuffixBytes));
  return store_->Put(key, sealer_->Seal(kLogKind, ActivityEventToJson(stamped)))
      .WithContext("writing log event " + key + " (" + stamped.operation + " " + stamped.event +
                   ") in " + store_->Describe());
}

Status ActivityLog::Read(const LogFilter& filter,
                         const std::function<Status(const ActivityEvent&)>& fn) {
  struct Entry {
    int64_t time;
    std::string key;
  };
  std::vector<Entry> entries;
  LB_RETURN_IF_ERROR(store_->List(kLogPrefix, [&](const ObjectInfo& info) -> Status {
    std::optional<int64_t> time = TimeFromName(info.key);
    if (!time) {
      return Damaged(info.key, "its name is not log/<20-digit unix nanoseconds>-<8 hex>");
    }
    if (*time >= filter.since_nanos) entries.push_back(Entry{*time, info.key});
    return OkStatus();
  }));
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.time != b.time ? a.time < b.time : a.key < b.key;
  });
  for (const Entry& entry : entries) {
    Result<std::string> sealed = store_->Get(entry.key);
    if (!sealed.ok()) {
      if (sealed.status().code() == StatusCode::kNotFound) continue;  // deleted meanwhile
      return sealed.status().WithContext("reading log event " + entry.key + " in " +
                                         store_->Describe());
    }
    LB_ASSIGN_OR_RETURN(nlohmann::json document, sealer_->Open(kLogKind, *sealed, entry.key));
    LB_ASSIGN_OR_RETURN(ActivityEvent event, ActivityEventFromJson(document, entry.key));
    if (event.time_nanos != entry.time) {
      return Damaged(entry.key, "its name says " + FormatRfc3339Nanos(entry.time) +
                                    " but the event says " + FormatRfc3339Nanos(event.time_nanos));
    }
    if (!filter.instance.empty() && event.instance != filter.instance) continue;
    LB_RETURN_IF_ERROR(fn(event));
  }
  return OkStatus();
}

}  // namespace lifeboat
