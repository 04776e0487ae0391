// lifeboat init: create the repository.
#include <iostream>
#include <memory>

#include "cli_context.h"

namespace lifeboat::cli {

void AddInitCommand(CLI::App& app, CliContext& ctx, CommandRun* run) {
  auto params = std::make_shared<InitParams>();
  CLI::App* cmd = app.add_subcommand("init", "create the repository");
  cmd->add_option(
      "--compression", params->compression,
      "how the stored data is compressed: lz4 (fastest) or zstd (smaller); default lz4");
  cmd->add_option("--compression-level", params->compression_level,
                  "zstd level, 1 (fastest) to 19 (smallest), also of delta blobs; default 3");
  cmd->callback([&ctx, run, params] {
    *run = [&ctx, params] {
      Result<Engine*> engine = ctx.MakeEngine(/*confirm_new_password=*/true);
      if (!engine.ok()) return ctx.Fail(engine.status());
      return ctx.Emit((*engine)->Init(*params), [](const nlohmann::json& r) {
        std::cout << "created repository " << r["repository"].get<std::string>() << "\n"
                  << "keep the password safe: without it the backups cannot be read\n";
      });
    };
  });
}

}  // namespace lifeboat::cli
