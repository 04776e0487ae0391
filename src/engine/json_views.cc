#include "engine/json_views.h"

#include "base/clock.h"

namespace lifeboat {

using nlohmann::json;

json SnapshotSummary(const Manifest& m, int64_t restore_window_nanos) {
  return {{"id", m.id},
          {"short_id", m.id.substr(0, 8)},
          {"time", FormatRfc3339(m.finished_nanos)},
          {"started", FormatRfc3339(m.started_nanos)},
          {"name", m.name},
          {"notes", m.notes},
          {"tags", m.tags},
          {"account", m.account},
          {"instance", m.instance},
          {"version", m.app_version ? json(*m.app_version) : json(nullptr)},
          {"size", m.TotalBytes()},
          {"added", m.stored_bytes},
          {"user", m.user},
          {"host", m.host},
          {"restorable_until", FormatRfc3339(m.finished_nanos + restore_window_nanos)}};
}

json ManifestDetails(const Manifest& m, int64_t restore_window_nanos) {
  json out = SnapshotSummary(m, restore_window_nanos);
  json tables = json::array();
  uint64_t rows = 0;
  for (const TableEntry& t : m.tables) {
    rows += t.rows;
    // A table read whole has no part starts; it was one part.
    const size_t parts = t.parts.empty() ? 1 : t.parts.size();
    tables.push_back({{"name", t.name},
                      {"kind", t.kind},
                      {"rows", t.rows},
                      {"bytes", t.bytes},
                      {"parts", parts}});
  }
  json excluded = json::array();
  for (const ExcludedTable& e : m.excluded) {
    excluded.push_back({{"name", e.name}, {"reason", e.reason}});
  }
  out["tables"] = tables;
  out["rows"] = rows;
  out["excluded"] = excluded;
  out["schema_fingerprint"] = m.schema_fingerprint;
  out["source"] = {{"kind", m.source_kind}, {"location", m.source_location}};
  out["parent"] = m.parent ? json(*m.parent) : json(nullptr);
  out["files"] =
      m.files ? json{{"root", m.files->root}, {"count", m.files->count}, {"bytes", m.files->bytes}}
              : json(nullptr);
  out["stats"] = BackupFigures(m);
  return out;
}

json PlanToJson(const BackupPlan& plan, const SelectionRules& rules) {
  json tables = json::array();
  for (const PlannedTable& t : plan.tables) {
    tables.push_back({{"name", t.name},
                      {"included", t.included},
                      {"kind", t.kind},
                      {"estimated_bytes", t.estimated_bytes},
                      {"large", t.large},
                      {"reason", t.reason}});
  }
  return {{"tables", tables},
          {"warnings", plan.warnings},
          {"estimated_bytes", plan.estimated_bytes},
          {"large_table_bytes", rules.large_table_bytes},
          {"version", plan.app_version ? json(*plan.app_version) : json(nullptr)},
          {"schema_fingerprint", plan.schema_fingerprint}};
}

json BackupFigures(const Manifest& m) {
  uint64_t rows = 0;
  for (const TableEntry& t : m.tables) rows += t.rows;
  double seconds = static_cast<double>(m.finished_nanos - m.started_nanos) / 1e9;
  return {{"tables", m.tables.size()},      {"rows", rows},
          {"bytes", m.TotalBytes()},        {"files", m.files ? m.files->count : 0},
          {"new_blobs", m.new_blobs},       {"new_bytes", m.new_bytes},
          {"stored_bytes", m.stored_bytes}, {"seconds", seconds}};
}

}  // namespace lifeboat
