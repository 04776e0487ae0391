// lifeboat init: create the repository.
#include <iostream>

#include "cli_context.h"

namespace lifeboat::cli {

void AddInitCommand(CLI::App& app, CliContext& ctx, CommandRun* run) {
  CLI::App* cmd = app.add_subcommand("init", "create the repository");
  cmd->callback([&ctx, run] {
    *run = [&ctx] {
      Result<Engine*> engine = ctx.MakeEngine(/*confirm_new_password=*/true);
      if (!engine.ok()) return ctx.Fail(engine.status());
      return ctx.Emit((*engine)->Init(), [](const nlohmann::json& r) {
        std::cout << "created repository " << r["repository"].get<std::string>() << "\n"
                  << "keep the password safe: without it the backups cannot be read\n";
      });
    };
  });
}

}  // namespace lifeboat::cli
