// lifeboat log: the activity log.
#include <cstdio>
#include <iostream>

#include "cli_context.h"
#include "terminal.h"

namespace lifeboat::cli {

void AddLogCommand(CLI::App& app, CliContext& ctx, CommandRun* run) {
  auto instance = std::make_shared<std::string>();
  auto since = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("log", "show the activity log");
  cmd->add_option("--instance", *instance, "only this instance");
  cmd->add_option("--since", *since, "a duration (2d) or a time (2026-11-22T10:00:00Z)");
  cmd->callback([&ctx, run, instance, since] {
    *run = [&ctx, instance, since] {
      Result<Engine*> engine = ctx.MakeEngine();
      if (!engine.ok()) return ctx.Fail(engine.status());
      LogParams params;
      if (!instance->empty()) params.instance = *instance;
      if (!since->empty()) params.since = *since;
      return ctx.Emit((*engine)->Log(params), [](const nlohmann::json& events) {
        for (const auto& e : events) {
          std::string line =
              e["time"].get<std::string>() + "  " + e["operation"].get<std::string>() + " " +
              e["event"].get<std::string>() + "  " + e["instance"].get<std::string>() + "  by " +
              e["user"].get<std::string>() + "@" + e["host"].get<std::string>();
          if (!e["name"].get<std::string>().empty()) {
            line += "  \"" + e["name"].get<std::string>() + "\"";
          }
          if (!e["snapshot"].get<std::string>().empty()) {
            line += "  backup " + e["snapshot"].get<std::string>().substr(0, 8);
          }
          if (!e["error"].is_null()) {
            std::cout << Red(line + "  " + e["error"].get<std::string>(), stdout) << "\n";
          } else {
            std::cout << line << "\n";
          }
          if (!e["notes"].get<std::string>().empty() && e["event"] == "requested") {
            std::cout << "    notes: " << e["notes"].get<std::string>() << "\n";
          }
          for (const auto& te : e["table_errors"]) {
            std::cout << Red("    " + te.dump(), stdout) << "\n";
          }
        }
      });
    };
  });
}

}  // namespace lifeboat::cli
