// lifeboat maintenance off INSTANCE: take an instance out of the maintenance mode a killed
// restore left behind (on PostgreSQL: allow connections again).
#include <iostream>

#include "cli_context.h"
#include "terminal.h"

namespace lifeboat::cli {

void AddMaintenanceCommand(CLI::App& app, CliContext& ctx, CommandRun* run) {
  auto instance = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("maintenance", "leave an instance's maintenance mode");
  cmd->require_subcommand(1);
  CLI::App* off = cmd->add_subcommand(
      "off", "allow connections again after a restore that was killed (never while one runs)");
  off->add_option("instance", *instance, "instance name from lifeboat.toml, or a URL")->required();
  off->callback([&ctx, run, instance] {
    *run = [&ctx, instance] {
      Result<Engine*> engine = ctx.MakeEngine();
      if (!engine.ok()) return ctx.Fail(engine.status());
      return ctx.Emit((*engine)->MaintenanceOff(*instance), [](const nlohmann::json& r) {
        std::cout << (r["changed"].get<bool>() ? Green("done", stdout) + ": " : std::string())
                  << r["message"].get<std::string>() << "\n";
      });
    };
  });
}

}  // namespace lifeboat::cli
