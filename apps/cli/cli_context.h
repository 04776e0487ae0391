// CliContext: what every command shares: the global options, building the Engine (config
// file, repository, password), the progress renderer, and printing a result as JSON
// (--json) or as text, with the documented exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "lifeboat/engine.h"
#include "progress_renderer.h"

namespace lifeboat::cli {

struct GlobalOptions {
  std::string config;         // --config
  std::string repo;           // --repo
  std::string password_file;  // --password-file
  bool json = false;          // --json
  bool quiet = false;         // --quiet: no progress
};

class CliContext {
 public:
  GlobalOptions global;

  // The engine for this run, owned by the context. The password comes from --password-file,
  // LIFEBOAT_PASSWORD, the config's password_file, or a prompt on a terminal (`confirm_new`
  // asks twice).
  Result<Engine*> MakeEngine(bool confirm_new_password = false);
  // Takes ownership of `engine` (replacing the previous one) so that Cancel() reaches it.
  Engine* Keep(std::unique_ptr<Engine> engine);
  // Asks the running command to stop (SIGINT, SIGTERM); callable from another thread. Returns
  // false when no engine runs yet, so there is nothing to stop gracefully.
  bool Cancel();
  // Whether Cancel() was called: a prompt stops waiting for its answer.
  bool cancelled() const { return cancelled_.load(); }
  ProgressRenderer* progress();

  // Prints `result` (JSON with --json, else `human`) and returns the exit code.
  int Emit(const Result<nlohmann::json>& result,
           const std::function<void(const nlohmann::json&)>& human);
  int Fail(const Status& status);

 private:
  std::unique_ptr<ProgressRenderer> progress_;
  std::mutex engine_mu_;
  std::unique_ptr<Engine> engine_;  // guarded by engine_mu_ (Cancel comes from another thread)
  std::atomic<bool> cancelled_{false};
};

// The command's work, run after parsing; returns the exit code.
using CommandRun = std::function<int()>;

void AddInitCommand(CLI::App& app, CliContext& ctx, CommandRun* run);
void AddBackupCommand(CLI::App& app, CliContext& ctx, CommandRun* run);
void AddSnapshotsCommand(CLI::App& app, CliContext& ctx, CommandRun* run);
void AddShowCommand(CLI::App& app, CliContext& ctx, CommandRun* run);
void AddRestoreCommand(CLI::App& app, CliContext& ctx, CommandRun* run);
void AddCheckCommand(CLI::App& app, CliContext& ctx, CommandRun* run);
void AddLogCommand(CLI::App& app, CliContext& ctx, CommandRun* run);
void AddMaintenanceCommand(CLI::App& app, CliContext& ctx, CommandRun* run);
void AddDemoCommand(CLI::App& app, CliContext& ctx, CommandRun* run);

// Text helpers shared by the commands.
std::string HumanBytes(uint64_t bytes);
std::string JoinStrings(const nlohmann::json& array, const std::string& separator);

}  // namespace lifeboat::cli
