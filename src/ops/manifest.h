// Manifest: what one backup holds (FORMAT.md §10), as a value, with its JSON mapping.
//
// The repository stores manifests as sealed JSON; this is the typed view the operations
// work with. ManifestFromJson checks what it reads: a malformed manifest is DataLoss naming
// the backup. SchemaFingerprint is the guard value restore compares (FORMAT.md §10).
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "repo/stream.h"
#include "source/source.h"

namespace lifeboat {

// Where one part of a table read in parts begins (FORMAT.md §10): its first heap page and the
// offset of its first byte in the table's stream.
struct TablePartStart {
  uint64_t page = 0;
  uint64_t offset = 0;
};

struct TableEntry {
  std::string name;
  std::string kind;  // "metadata" or "data"
  bool rowid = false;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  std::string ddl;
  std::vector<ColumnInfo> columns;
  StreamRef content;
  std::vector<TablePartStart> parts;  // empty when the table was read whole

  // The TableInfo a Source needs to recreate or refill this table.
  TableInfo ToTableInfo() const;
};

struct ManifestFiles {
  std::string root;
  uint64_t count = 0;
  uint64_t bytes = 0;
  StreamRef content;
};

// The schema as the database's own script (FORMAT.md §10), kept as two streams.
struct ManifestSchemaScripts {
  std::string kind;  // "pg_dump"
  StreamRef pre_data;
  StreamRef post_data;
};

struct ExcludedTable {
  std::string name;
  std::string reason;
};

struct Manifest {
  std::string id;  // 64 hex; not stored inside the manifest (it is the object's name)
  std::string name;
  std::string notes;
  std::vector<std::string> tags;
  std::string account;
  std::string instance;
  std::string source_kind;
  std::string source_location;
  std::optional<std::string> app_version;
  std::string schema_fingerprint;
  std::string user;
  std::string host;
  int64_t started_nanos = 0;
  int64_t finished_nanos = 0;
  std::optional<std::string> parent;
  std::vector<TableEntry> tables;
  std::vector<SchemaObject> schema_objects;
  std::vector<SequenceValue> sequences;
  std::optional<ManifestSchemaScripts> schema_scripts;
  std::vector<ExcludedTable> excluded;
  std::optional<ManifestFiles> files;
  uint64_t new_blobs = 0;
  uint64_t new_bytes = 0;
  uint64_t stored_bytes = 0;

  uint64_t TotalBytes() const;  // tables plus files, logical
  const TableEntry* FindTable(std::string_view table) const;
};

nlohmann::json ManifestToJson(const Manifest& manifest);
Result<Manifest> ManifestFromJson(const nlohmann::json& json, const std::string& id);

std::string SchemaFingerprint(const std::vector<TableInfo>& tables);

}  // namespace lifeboat
