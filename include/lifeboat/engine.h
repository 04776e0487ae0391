// Engine: Lifeboat's public API. Front ends (the CLI, the server) build an Engine from
// their options, call one method per command and render the JSON document it returns
// (docs/CLI.md describes each document). Everything else happens in the engine: it never
// prints and never reads the environment; it reports progress through a ProgressSink and
// stops when Cancel() is called.
//
// Instances are named in lifeboat.toml (`prod`) or given one-off as a URL
// (`sqlite:///srv/app.db`, a plain path to a .db file).
//
// Thread-safety: one command at a time per Engine; Cancel() may be called from any thread.
// Errors: Status values whose code maps to the exit code (ExitCodeFor) and whose message names
// the object, the action and what to do next.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lifeboat/progress.h"
#include "lifeboat/status.h"

namespace lifeboat {

struct EngineOptions {
  std::optional<std::string> config_path;  // lifeboat.toml
  std::optional<std::string> repository;   // overrides the config's `repository`
  std::optional<std::string> password;     // the repository password, when known
  std::string user;                        // who asks (the OS user for the CLI)
  std::string host;
  int64_t pid = 0;
  ProgressSink* progress = nullptr;
  // Test seam: scrypt cost for `init` (default 2^15).
  uint64_t kdf_n = 0;
};

struct InitParams {
  // How the repository compresses new data: "lz4" (fastest) or "zstd" (smaller); default lz4.
  std::optional<std::string> compression;
  // zstd level (1 fastest .. 19 smallest) of zstd blobs and of delta blobs; default 3. A level
  // without a method asks for zstd.
  std::optional<int> compression_level;
};

struct BackupParams {
  std::string instance;  // a configured name or a URL
  std::string name;
  std::string notes;
  std::vector<std::string> tags;
  std::optional<bool> include_large;  // --include-large / --exclude-large
  bool dry_run = false;
  // Compression of this backup's new blobs, as in InitParams; default: the repository's.
  std::optional<std::string> compression;
  std::optional<int> compression_level;
  // Asked for each large table when the policy is `ask`; empty when nobody can answer.
  std::function<bool(const std::string& table, uint64_t bytes)> ask_large;
};

struct RestoreParams {
  std::string snapshot;  // id prefix or "latest"
  std::string target;    // instance name or URL
  std::optional<std::vector<std::string>> tables;
  bool dry_run = false;
  bool confirmed = false;  // --yes
  bool ignore_window = false;
  // Asked once the guards passed when not confirmed; gets a summary of what will happen and
  // returns true when the user typed the confirmation. Empty when nobody can answer.
  std::function<bool(const nlohmann::json& plan)> confirm;
};

struct SnapshotsParams {
  std::optional<std::string> instance;
  std::optional<std::string> account;
};

struct LogParams {
  std::optional<std::string> instance;
  std::optional<std::string> since;  // a duration ("2d") or an RFC 3339 time
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Create(const EngineOptions& options);
  ~Engine();

  // The password file named in lifeboat.toml, for a front end to read (the engine reads no
  // secrets itself).
  std::optional<std::string> password_file() const;
  // The repository location in use ("" when none is configured).
  std::string repository_location() const;
  void set_password(std::string password);

  Result<nlohmann::json> Init(const InitParams& params = {});
  Result<nlohmann::json> Backup(const BackupParams& params);
  Result<nlohmann::json> Snapshots(const SnapshotsParams& params);
  Result<nlohmann::json> Show(const std::string& snapshot);
  Result<nlohmann::json> Restore(const RestoreParams& params);
  Result<nlohmann::json> Check(bool read_data);
  Result<nlohmann::json> Log(const LogParams& params);
  // Takes an instance out of the maintenance mode a killed restore left behind (PostgreSQL:
  // connections allowed again). {"instance", "changed", "message"}; exit code 4 while a live
  // restore holds the instance.
  Result<nlohmann::json> MaintenanceOff(const std::string& instance);

  void Cancel();

 private:
  class Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The sample issue tracker `lifeboat demo` walks through: creates `dir/tracker.db`,
// `dir/attachments/`, `dir/repository/` and `dir/lifeboat.toml`. Returns what it made.
struct DemoLayout {
  std::string dir;
  std::string database;
  std::string attachments;
  std::string repository;
  std::string config;
  std::string password_file;
};
Result<DemoLayout> CreateDemoApplication(const std::string& dir, uint64_t target_bytes);
// The demo's "bad upgrade": rows deleted, a file deleted, the version bumped.
Result<nlohmann::json> SimulateDemoUpgrade(const DemoLayout& layout, const std::string& version);
// Sets the sample application's schema version (the "reinstall the old version" step).
Status SetDemoVersion(const DemoLayout& layout, const std::string& version);
// A SHA-256 of every table's canonical row stream and of the attachments tree (paths, modes,
// contents), to prove a restore exact: {"tables": {name: hex}, "files": hex}.
Result<nlohmann::json> DigestDemoState(const DemoLayout& layout);

}  // namespace lifeboat
