// lifeboat restore SNAPSHOT --to INSTANCE: guarded, confirmed, atomic restore.
#include <cstdio>
#include <iostream>

#include "cli_context.h"
#include "terminal.h"

namespace lifeboat::cli {
namespace {

struct RestoreArgs {
  std::string snapshot;
  std::string target;
  std::vector<std::string> tables;
  bool dry_run = false;
  bool yes = false;
  bool ignore_window = false;
};

void PrintPlan(const nlohmann::json& plan) {
  const auto& s = plan["snapshot"];
  std::cout << "restore backup " << s["short_id"].get<std::string>() << " ("
            << s["name"].get<std::string>() << ", " << s["time"].get<std::string>() << ") into "
            << plan["instance"].get<std::string>()
            << (plan["clone"].get<bool>() ? " (empty: a clone)" : "") << "\n";
  for (const auto& t : plan["tables"]) {
    std::cout << "  " << t["name"].get<std::string>() << ": " << t["rows"] << " rows\n";
  }
  if (!plan["files"].is_null()) {
    std::cout << "  files: " << plan["files"]["count"] << " into "
              << plan["files"]["root"].get<std::string>() << "\n";
  }
  if (plan["safety_backup"].get<bool>()) {
    std::cout << "a safety backup of the current state is taken first\n";
  }
}

}  // namespace

void AddRestoreCommand(CLI::App& app, CliContext& ctx, CommandRun* run) {
  auto args = std::make_shared<RestoreArgs>();
  CLI::App* cmd = app.add_subcommand("restore", "restore a backup into an instance");
  cmd->add_option("snapshot", args->snapshot, "backup id prefix, or latest")->required();
  cmd->add_option("--to", args->target, "instance name from lifeboat.toml, or a URL")->required();
  cmd->add_option("--tables", args->tables, "restore only these tables")->delimiter(',');
  cmd->add_flag("--dry-run", args->dry_run, "check the guards and print the plan only");
  cmd->add_flag("-y,--yes", args->yes, "confirm without a prompt");
  cmd->add_flag("--ignore-window", args->ignore_window,
                "restore a backup older than the restore window");
  cmd->callback([&ctx, run, args] {
    *run = [&ctx, args] {
      Result<Engine*> engine = ctx.MakeEngine();
      if (!engine.ok()) return ctx.Fail(engine.status());
      RestoreParams params;
      params.snapshot = args->snapshot;
      params.target = args->target;
      if (!args->tables.empty()) params.tables = args->tables;
      params.dry_run = args->dry_run;
      params.confirmed = args->yes;
      params.ignore_window = args->ignore_window;
      if (IsTerminal(stdin)) {
        params.confirm = [&ctx](const nlohmann::json& plan) {
          ctx.progress()->Finish();
          PrintPlan(plan);
          std::optional<std::string> typed =
              Ask("this replaces the instance's data. Type 'I understand' to go on: ",
                  [&ctx] { return ctx.cancelled(); });
          return typed && *typed == "I understand";
        };
      }
      return ctx.Emit((*engine)->Restore(params), [](const nlohmann::json& r) {
        if (r["dry_run"].get<bool>()) {
          PrintPlan(r["plan"]);
          std::cout << "dry run: the guards pass; nothing was changed\n";
          return;
        }
        if (!r["safety_snapshot"].is_null()) {
          std::cout << "safety backup " << r["safety_snapshot"].get<std::string>().substr(0, 8)
                    << " taken first\n";
        }
        const auto& f = r["figures"];
        std::cout << Green("restored backup " + r["short_id"].get<std::string>() + " into " +
                               r["instance"].get<std::string>(),
                           stdout)
                  << ": " << f["tables"] << " tables, " << f["rows"] << " rows, " << f["files"]
                  << " files\n";
      });
    };
  });
}

}  // namespace lifeboat::cli
