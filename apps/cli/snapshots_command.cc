// lifeboat snapshots: list backups.
#include <cstdio>
#include <iostream>

#include "cli_context.h"

namespace lifeboat::cli {

void AddSnapshotsCommand(CLI::App& app, CliContext& ctx, CommandRun* run) {
  auto instance = std::make_shared<std::string>();
  auto account = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("snapshots", "list backups");
  cmd->add_option("--instance", *instance, "only this instance's backups");
  cmd->add_option("--account", *account, "only this account's backups");
  cmd->callback([&ctx, run, instance, account] {
    *run = [&ctx, instance, account] {
      Result<Engine*> engine = ctx.MakeEngine();
      if (!engine.ok()) return ctx.Fail(engine.status());
      SnapshotsParams params;
      if (!instance->empty()) params.instance = *instance;
      if (!account->empty()) params.account = *account;
      return ctx.Emit((*engine)->Snapshots(params), [](const nlohmann::json& list) {
        std::printf("%-8s  %-20s  %-10s  %-8s  %-12s  %10s  %-20s  %s\n", "ID", "TIME", "INSTANCE",
                    "ACCOUNT", "VERSION", "SIZE", "RESTORABLE UNTIL", "NAME");
        for (const auto& s : list) {
          std::string version = s["version"].is_null() ? "-" : s["version"].get<std::string>();
          std::string name = s["name"].get<std::string>();
          std::string tags = JoinStrings(s["tags"], ",");
          if (!tags.empty()) name += " [" + tags + "]";
          std::printf(
              "%-8s  %-20s  %-10s  %-8s  %-12s  %10s  %-20s  %s\n",
              s["short_id"].get<std::string>().c_str(), s["time"].get<std::string>().c_str(),
              s["instance"].get<std::string>().c_str(), s["account"].get<std::string>().c_str(),
              version.c_str(), HumanBytes(s["size"].get<uint64_t>()).c_str(),
              s["restorable_until"].get<std::string>().c_str(), name.c_str());
        }
        std::printf("%zu backup(s)\n", list.size());
      });
    };
  });
}

}  // namespace lifeboat::cli
