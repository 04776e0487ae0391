// lifeboat check [--read-data]: verify the repository.
#include <iostream>

#include "cli_context.h"
#include "terminal.h"

namespace lifeboat::cli {

void AddCheckCommand(CLI::App& app, CliContext& ctx, CommandRun* run) {
  auto read_data = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("check", "verify the repository");
  cmd->add_flag("--read-data", *read_data, "also read, decrypt and re-hash every blob");
  cmd->callback([&ctx, run, read_data] {
    *run = [&ctx, read_data] {
      Result<Engine*> engine = ctx.MakeEngine();
      if (!engine.ok()) return ctx.Fail(engine.status());
      return ctx.Emit((*engine)->Check(*read_data), [](const nlohmann::json& r) {
        for (const auto& w : r["warnings"]) {
          std::cout << Yellow("warning: ", stdout) << w.get<std::string>() << "\n";
        }
        std::cout << Green("no errors", stdout) << ": " << r["snapshots"] << " backups, "
                  << r["packs"] << " packs, " << r["index_entries"] << " index entries, "
                  << r["blobs_referenced"] << " references checked";
        if (r["read_data"].get<bool>()) {
          std::cout << ", " << r["blobs_read"] << " blobs read ("
                    << HumanBytes(r["bytes_read"].get<uint64_t>()) << ")";
        }
        std::cout << "\n";
      });
    };
  });
}

}  // namespace lifeboat::cli
