// lifeboat backup INSTANCE: size check, plan, then a backup.
#include <cstdio>
#include <iostream>
#include <optional>

#include "cli_context.h"
#include "terminal.h"

namespace lifeboat::cli {
namespace {

struct BackupArgs {
  std::string instance;
  std::string name;
  std::string notes;
  std::vector<std::string> tags;
  bool include_large = false;
  bool exclude_large = false;
  bool dry_run = false;
  std::optional<std::string> compression;
  std::optional<int> compression_level;
};

void PrintPlan(const nlohmann::json& plan) {
  std::cout << "plan (size check):\n";
  for (const auto& t : plan["tables"]) {
    std::string mark = t["included"].get<bool>() ? "  + " : "  - ";
    std::cout << mark << t["name"].get<std::string>();
    if (t["included"].get<bool>()) {
      std::cout << "  " << t["kind"].get<std::string>() << "  ~"
                << HumanBytes(t["estimated_bytes"].get<uint64_t>());
      if (t["large"].get<bool>()) std::cout << "  " << Yellow("LARGE", stdout);
    } else {
      std::cout << "  (" << t["reason"].get<std::string>() << ")";
    }
    std::cout << "\n";
  }
  for (const auto& w : plan["warnings"]) {
    std::cout << Yellow("  warning: ", stdout) << w.get<std::string>() << "\n";
  }
  std::cout << "  estimated size: " << HumanBytes(plan["estimated_bytes"].get<uint64_t>());
  if (!plan["version"].is_null()) {
    std::cout << ", application version " << plan["version"].get<std::string>();
  }
  std::cout << "\n";
}

}  // namespace

void AddBackupCommand(CLI::App& app, CliContext& ctx, CommandRun* run) {
  auto args = std::make_shared<BackupArgs>();
  CLI::App* cmd = app.add_subcommand("backup", "back up an instance's tables and files");
  cmd->add_option("instance", args->instance, "instance name from lifeboat.toml, or a URL")
      ->required();
  cmd->add_option("--name", args->name, "a name for the backup");
  cmd->add_option("--notes", args->notes, "why the backup was taken");
  cmd->add_option("--tag", args->tags, "a tag (repeatable; default: manual)");
  auto* include = cmd->add_flag("--include-large", args->include_large,
                                "include tables above large_table_bytes");
  cmd->add_flag("--exclude-large", args->exclude_large, "exclude tables above large_table_bytes")
      ->excludes(include);
  cmd->add_flag("--dry-run", args->dry_run, "print the plan and write nothing");
  cmd->add_option("--compression", args->compression,
                  "compression of this backup's new data, lz4 (fastest) or zstd (smaller); "
                  "default: the repository's");
  cmd->add_option("--compression-level", args->compression_level,
                  "zstd level of this backup's new data, 1 (fastest) to 19 (smallest); a level "
                  "asks for zstd; default: the repository's");
  cmd->callback([&ctx, run, args] {
    *run = [&ctx, args] {
      Result<Engine*> engine = ctx.MakeEngine();
      if (!engine.ok()) return ctx.Fail(engine.status());
      BackupParams params;
      params.instance = args->instance;
      params.name = args->name;
      params.notes = args->notes;
      params.tags = args->tags;
      params.dry_run = args->dry_run;
      params.compression = args->compression;
      params.compression_level = args->compression_level;
      if (args->include_large) params.include_large = true;
      if (args->exclude_large) params.include_large = false;
      if (IsTerminal(stdin)) {
        params.ask_large = [&ctx](const std::string& table, uint64_t bytes) {
          ctx.progress()->Finish();
          std::optional<std::string> answer =
              Ask("table " + table + " holds about " + HumanBytes(bytes) +
                      ", above the large-table threshold. Include it? [y/N] ",
                  [&ctx] { return ctx.cancelled(); });
          return answer && (*answer == "y" || *answer == "Y" || *answer == "yes");
        };
      }
      return ctx.Emit((*engine)->Backup(params), [](const nlohmann::json& r) {
        PrintPlan(r["plan"]);
        if (r["dry_run"].get<bool>()) {
          std::cout << "dry run: nothing was written\n";
          return;
        }
        const auto& s = r["snapshot"];
        const auto& f = r["figures"];
        std::cout << Green("backup " + s["short_id"].get<std::string>() + " saved", stdout) << ": "
                  << f["tables"] << " tables, " << f["rows"] << " rows, " << f["files"]
                  << " files, " << HumanBytes(f["bytes"].get<uint64_t>()) << " in "
                  << f["seconds"].get<double>() << " s; added "
                  << HumanBytes(f["stored_bytes"].get<uint64_t>()) << " to the repository\n";
      });
    };
  });
}

}  // namespace lifeboat::cli
