// lifeboat: back up, restore, inspect and promote the databases and files of business
// applications. Each command lives in its own file; this one parses the global options and
// dispatches. Exit codes: docs/CLI.md.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli_context.h"

int main(int argc, char** argv) {
  using namespace lifeboat::cli;
  // Pack-sized buffers come and go all through a backup; served by mmap they return to the
  // system when freed instead of staying in the allocator's heaps (peak memory stays flat).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  CLI::App app{"Lifeboat: backups you can restore, inspect and promote", "lifeboat"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lifeboat 0.1.0");
  CliContext ctx;
  app.add_option("--config", ctx.global.config, "lifeboat.toml to use (default ./lifeboat.toml)");
  app.add_option("--repo", ctx.global.repo, "repository directory (overrides the config)");
  app.add_option("--password-file", ctx.global.password_file,
                 "file holding the repository password");
  app.add_flag("--json", ctx.global.json, "print one machine-readable JSON document");
  app.add_flag("-q,--quiet", ctx.global.quiet, "no progress output");

  CommandRun run;
  AddInitCommand(app, ctx, &run);
  AddBackupCommand(app, ctx, &run);
  AddSnapshotsCommand(app, ctx, &run);
  AddShowCommand(app, ctx, &run);
  AddRestoreCommand(app, ctx, &run);
  AddCheckCommand(app, ctx, &run);
  AddLogCommand(app, ctx, &run);
  AddDemoCommand(app, ctx, &run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  return run ? run() : 2;
}
