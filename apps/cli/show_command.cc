// lifeboat show SNAPSHOT: what a backup holds.
#include <cstdio>
#include <iostream>

#include "cli_context.h"

namespace lifeboat::cli {

void AddShowCommand(CLI::App& app, CliContext& ctx, CommandRun* run) {
  auto snapshot = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("show", "show what a backup holds");
  cmd->add_option("snapshot", *snapshot, "backup id prefix, or latest")->required();
  cmd->callback([&ctx, run, snapshot] {
    *run = [&ctx, snapshot] {
      Result<Engine*> engine = ctx.MakeEngine();
      if (!engine.ok()) return ctx.Fail(engine.status());
      return ctx.Emit((*engine)->Show(*snapshot), [](const nlohmann::json& m) {
        std::cout << "backup " << m["id"].get<std::string>() << "\n"
                  << "  name:      " << m["name"].get<std::string>() << "\n"
                  << "  notes:     " << m["notes"].get<std::string>() << "\n"
                  << "  tags:      " << JoinStrings(m["tags"], ", ") << "\n"
                  << "  instance:  " << m["instance"].get<std::string>() << " (account "
                  << m["account"].get<std::string>() << ")\n"
                  << "  version:   "
                  << (m["version"].is_null() ? "-" : m["version"].get<std::string>()) << "\n"
                  << "  taken:     " << m["time"].get<std::string>() << " by "
                  << m["user"].get<std::string>() << "@" << m["host"].get<std::string>() << "\n"
                  << "  restorable until " << m["restorable_until"].get<std::string>() << "\n"
                  << "  tables:\n";
        for (const auto& t : m["tables"]) {
          const uint64_t parts = t["parts"].get<uint64_t>();
          std::printf("    %-28s %-9s %10llu rows %12s%s\n", t["name"].get<std::string>().c_str(),
                      t["kind"].get<std::string>().c_str(),
                      static_cast<unsigned long long>(t["rows"].get<uint64_t>()),
                      HumanBytes(t["bytes"].get<uint64_t>()).c_str(),
                      parts > 1 ? ("  in " + std::to_string(parts) + " parts").c_str() : "");
        }
        if (!m["excluded"].empty()) {
          std::cout << "  excluded:\n";
          for (const auto& e : m["excluded"]) {
            std::cout << "    " << e["name"].get<std::string>() << " ("
                      << e["reason"].get<std::string>() << ")\n";
          }
        }
        if (!m["files"].is_null()) {
          std::cout << "  files:     " << m["files"]["count"] << " files, "
                    << HumanBytes(m["files"]["bytes"].get<uint64_t>()) << " from "
                    << m["files"]["root"].get<std::string>() << "\n";
        }
        std::cout << "  size:      " << HumanBytes(m["size"].get<uint64_t>()) << ", added "
                  << HumanBytes(m["added"].get<uint64_t>()) << " to the repository\n";
      });
    };
  });
}

}  // namespace lifeboat::cli
