#include "ops/manifest.h"

#include <algorithm>

#include "base/clock.h"
#include "base/encoding.h"
#include "codec/hash.h"

namespace lifeboat {
namespace {

using nlohmann::json;

json StreamToJson(const StreamRef& ref) {
  json trees = json::array();
  for (const std::string& id : ref.trees) trees.push_back(ToHex(id));
  return {{"trees", trees}, {"bytes", ref.bytes}, {"blobs", ref.blobs}};
}

// Reads a JSON field of an expected type; failures become DataLoss naming the field.
class Reader {
 public:
  explicit Reader(std::string what) : what_(std::move(what)) {}

  const json* Field(const json& obj, const char* key, json::value_t type, bool optional) {
    if (!obj.is_object()) return Fail(std::string("expected an object around '") + key + "'");
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (!optional) Fail(std::string("missing field '") + key + "'");
      return nullptr;
    }
    bool ok = it->type() == type ||
              (type == json::value_t::number_unsigned && it->is_number_integer() &&
               it->get<int64_t>() >= 0) ||
              (type == json::value_t::number_integer && it->is_number_integer());
    if (!ok) return Fail(std::string("field '") + key + "' has the wrong type");
    return &*it;
  }
  std::string String(const json& obj, const char* key, bool optional = false) {
    const json* v = Field(obj, key, json::value_t::string, optional);
    return v ? v->get<std::string>() : std::string();
  }
  std::optional<std::string> OptionalString(const json& obj, const char* key) {
    const json* v = Field(obj, key, json::value_t::string, true);
    return v ? std::optional<std::string>(v->get<std::string>()) : std::nullopt;
  }
  uint64_t Unsigned(const json& obj, const char* key, bool optional = false) {
    const json* v = Field(obj, key, json::value_t::number_unsigned, optional);
    return v ? v->get<uint64_t>() : 0;
  }
  int64_t Integer(const json& obj, const char* key) {
    const json* v = Field(obj, key, json::value_t::number_integer, false);
    return v ? v->get<int64_t>() : 0;
  }
  bool Bool(const json& obj, const char* key, bool optional = false) {
    const json* v = Field(obj, key, json::value_t::boolean, optional);
    return v ? v->get<bool>() : false;
  }
  int64_t Time(const json& obj, const char* key) {
    std::string text = String(obj, key);
    int64_t nanos = 0;
    if (ok() && !ParseRfc3339(text, &nanos)) Fail(std::string("field '") + key + "' is not a time");
    return nanos;
  }
  const json& Array(const json& obj, const char* key, bool optional = false) {
    static const json kEmpty = json::array();
    const json* v = Field(obj, key, json::value_t::array, optional);
    return v ? *v : kEmpty;
  }
  std::string Id(const json& value) {
    if (!value.is_string()) {
      Fail("an id is not a string");
      return {};
    }
    std::optional<std::string> raw = FromHex(value.get<std::string>());
    if (!raw || raw->size() != kHashSize) {
      Fail("malformed id '" + value.get<std::string>() + "'");
      return {};
    }
    return *raw;
  }
  StreamRef Stream(const json& obj, const char* key) {
    StreamRef ref;
    const json* v = Field(obj, key, json::value_t::object, false);
    if (!v) return ref;
    for (const json& tree : Array(*v, "trees")) ref.trees.push_back(Id(tree));
    ref.bytes = Unsigned(*v, "bytes");
    ref.blobs = Unsigned(*v, "blobs");
    return ref;
  }

  bool ok() const { return error_.empty(); }
  Status status() const { return DataLossError(what_ + ": " + error_); }

  const json* Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return nullptr;
  }

 private:
  std::string what_;
  std::string error_;
};

}  // namespace

TableInfo TableEntry::ToTableInfo() const {
  TableInfo info;
  info.name = name;
  info.columns = columns;
  info.rowid = rowid;
  info.ddl = ddl;
  return info;
}

uint64_t Manifest::TotalBytes() const {
  uint64_t total = files ? files->bytes : 0;
  for (const TableEntry& t : tables) total += t.bytes;
  return total;
}

const TableEntry* Manifest::FindTable(std::string_view table) const {
  for (const TableEntry& t : tables) {
    if (t.name == table) return &t;
  }
  return nullptr;
}

json ManifestToJson(const Manifest& m) {
  json tables = json::array();
  for (const TableEntry& t : m.tables) {
    json columns = json::array();
    for (const ColumnInfo& c : t.columns) {
      columns.push_back({{"name", c.name},
                         {"type", c.type},
                         {"not_null", c.not_null},
                         {"default", c.default_sql ? json(*c.default_sql) : json(nullptr)},
                         {"pk", c.pk_position}});
    }
    json table = {{"name", t.name},     {"kind", t.kind},
                  {"rowid", t.rowid},   {"rows", t.rows},
                  {"bytes", t.bytes},   {"ddl", t.ddl},
                  {"columns", columns}, {"content", StreamToJson(t.content)}};
    if (!t.parts.empty()) {
      json parts = json::array();
      for (const TablePartStart& p : t.parts) {
        parts.push_back({{"page", p.page}, {"offset", p.offset}});
      }
      table["parts"] = std::move(parts);
    }
    tables.push_back(std::move(table));
  }
  json objects = json::array();
  for (const SchemaObject& o : m.schema_objects) {
    objects.push_back({{"type", o.type}, {"name", o.name}, {"table", o.table}, {"sql", o.sql}});
  }
  json sequences = json::array();
  for (const SequenceValue& s : m.sequences) {
    json entry = {{"table", s.table}, {"name", s.name}, {"value", s.value}};
    if (!s.called) entry["called"] = false;
    sequences.push_back(std::move(entry));
  }
  json excluded = json::array();
  for (const ExcludedTable& e : m.excluded) {
    excluded.push_back({{"name", e.name}, {"reason", e.reason}});
  }
  json files = nullptr;
  if (m.files) {
    files = {{"root", m.files->root},
             {"count", m.files->count},
             {"bytes", m.files->bytes},
             {"content", StreamToJson(m.files->content)}};
  }
  json result = {
      {"format", 1},
      {"name", m.name},
      {"notes", m.notes},
      {"tags", m.tags},
      {"account", m.account},
      {"instance", m.instance},
      {"source", {{"kind", m.source_kind}, {"location", m.source_location}}},
      {"app_version", m.app_version ? json(*m.app_version) : json(nullptr)},
      {"schema_fingerprint", m.schema_fingerprint},
      {"user", m.user},
      {"host", m.host},
      // Nanoseconds, so that backups finished within the same second keep their order.
      {"started", FormatRfc3339Nanos(m.started_nanos)},
      {"finished", FormatRfc3339Nanos(m.finished_nanos)},
      {"parent", m.parent ? json(*m.parent) : json(nullptr)},
      {"tables", tables},
      {"schema_objects", objects},
      {"sequences", sequences},
      {"excluded", excluded},
      {"files", files},
      {"stats",
       {{"new_blobs", m.new_blobs}, {"new_bytes", m.new_bytes}, {"stored_bytes", m.stored_bytes}}},
  };
  // Written only when there are scripts, so that SQLite manifests stay as they were.
  if (m.schema_scripts) {
    result["schema_scripts"] = {{"kind", m.schema_scripts->kind},
                                {"pre_data", StreamToJson(m.schema_scripts->pre_data)},
                                {"post_data", StreamToJson(m.schema_scripts->post_data)}};
  }
  return result;
}

Result<Manifest> ManifestFromJson(const json& j, const std::string& id) {
  Reader r("backup " + id.substr(0, 8) + " has a malformed manifest");
  Manifest m;
  m.id = id;
  if (r.Unsigned(j, "format") != 1) {
    return FailedPreconditionError("backup " + id.substr(0, 8) +
                                   " uses a manifest format this Lifeboat does not know: "
                                   "upgrade Lifeboat");
  }
  m.name = r.String(j, "name", true);
  m.notes = r.String(j, "notes", true);
  for (const json& tag : r.Array(j, "tags", true)) {
    if (tag.is_string()) m.tags.push_back(tag.get<std::string>());
  }
  m.account = r.String(j, "account", true);
  m.instance = r.String(j, "instance");
  if (const json* source = r.Field(j, "source", json::value_t::object, false)) {
    m.source_kind = r.String(*source, "kind");
    m.source_location = r.String(*source, "location", true);
  }
  m.app_version = r.OptionalString(j, "app_version");
  m.schema_fingerprint = r.String(j, "schema_fingerprint");
  m.user = r.String(j, "user", true);
  m.host = r.String(j, "host", true);
  m.started_nanos = r.Time(j, "started");
  m.finished_nanos = r.Time(j, "finished");
  m.parent = r.OptionalString(j, "parent");
  for (const json& t : r.Array(j, "tables")) {
    TableEntry table;
    table.name = r.String(t, "name");
    table.kind = r.String(t, "kind");
    table.rowid = r.Bool(t, "rowid");
    table.rows = r.Unsigned(t, "rows");
    table.bytes = r.Unsigned(t, "bytes");
    table.ddl = r.String(t, "ddl", true);
    for (const json& c : r.Array(t, "columns")) {
      ColumnInfo column;
      column.name = r.String(c, "name");
      column.type = r.String(c, "type", true);
      column.not_null = r.Bool(c, "not_null", true);
      column.default_sql = r.OptionalString(c, "default");
      column.pk_position = static_cast<int>(r.Unsigned(c, "pk", true));
      table.columns.push_back(std::move(column));
    }
    table.content = r.Stream(t, "content");
    for (const json& p : r.Array(t, "parts", true)) {
      const TablePartStart part{r.Unsigned(p, "page"), r.Unsigned(p, "offset")};
      const bool in_order = table.parts.empty() ? part.page == 0 && part.offset == 0
                                                : part.page > table.parts.back().page &&
                                                      part.offset >= table.parts.back().offset;
      if (r.ok() && (!in_order || part.offset > table.bytes)) {
        r.Fail("the parts of table '" + table.name + "' are out of order or past its end");
      }
      table.parts.push_back(part);
    }
    m.tables.push_back(std::move(table));
  }
  for (const json& o : r.Array(j, "schema_objects", true)) {
    m.schema_objects.push_back(
        {r.String(o, "type"), r.String(o, "name"), r.String(o, "table", true), r.String(o, "sql")});
  }
  for (const json& s : r.Array(j, "sequences", true)) {
    m.sequences.push_back({r.String(s, "table"), r.String(s, "name", true), r.Integer(s, "value"),
                           !s.contains("called") || r.Bool(s, "called")});
  }
  for (const json& e : r.Array(j, "excluded", true)) {
    m.excluded.push_back({r.String(e, "name"), r.String(e, "reason", true)});
  }
  if (const json* s = r.Field(j, "schema_scripts", json::value_t::object, true)) {
    m.schema_scripts = ManifestSchemaScripts{r.String(*s, "kind"), r.Stream(*s, "pre_data"),
                                             r.Stream(*s, "post_data")};
  }
  if (const json* f = r.Field(j, "files", json::value_t::object, true)) {
    ManifestFiles files;
    files.root = r.String(*f, "root", true);
    files.count = r.Unsigned(*f, "count");
    files.bytes = r.Unsigned(*f, "bytes");
    files.content = r.Stream(*f, "content");
    m.files = std::move(files);
  }
  if (const json* s = r.Field(j, "stats", json::value_t::object, true)) {
    m.new_blobs = r.Unsigned(*s, "new_blobs", true);
    m.new_bytes = r.Unsigned(*s, "new_bytes", true);
    m.stored_bytes = r.Unsigned(*s, "stored_bytes", true);
  }
  if (!r.ok()) return r.status();
  return m;
}

std::string SchemaFingerprint(const std::vector<TableInfo>& tables) {
  std::vector<const TableInfo*> sorted;
  for (const TableInfo& t : tables) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(),
            [](const TableInfo* a, const TableInfo* b) { return a->name < b->name; });
  Sha256Hasher hasher;
  for (const TableInfo* t : sorted) {
    hasher.Update(t->name + "\n");
    for (const ColumnInfo& c : t->columns) {
      if (c.hidden) continue;
      hasher.Update(c.name + "\t" + c.type + "\t" + (c.not_null ? "1" : "0") + "\t" +
                    (c.default_sql ? *c.default_sql : std::string("\\N")) + "\t" +
                    std::to_string(c.pk_position) + "\n");
    }
    hasher.Update(std::string(t->rowid ? "1" : "0") + "\n");
  }
  return ToHex(hasher.Finish());
}

}  // namespace lifeboat
