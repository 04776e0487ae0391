// lifeboat: back up, restore, inspect and promote the databases and files of business
// applications. Each command lives in its own file; this one parses the global options and
// dispatches. Exit codes: docs/CLI.md.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "cli_context.h"

namespace {

// SIGINT, SIGTERM and SIGHUP are taken by one thread: the first one cancels the running
// command, which stops at its next check, logs itself as failed and releases the instance's
// lease (no stale lock is left for the next run to wait out); a second one, or one that comes
// before any command runs, ends the process at once with exit code 130.
void WatchSignals(lifeboat::cli::CliContext* ctx, sigset_t signals) {
  std::thread([ctx, signals] {
    bool cancelled = false;
    for (;;) {
      int signal = 0;
      if (sigwait(&signals, &signal) != 0) continue;
      if (cancelled || !ctx->Cancel()) _exit(130);
      cancelled = true;
      static constexpr char kNotice[] =
          "\nlifeboat: stopping: the operation ends at its next check and releases its lock "
          "(interrupt again to quit at once)\n";
      [[maybe_unused]] ssize_t n = write(STDERR_FILENO, kNotice, sizeof(kNotice) - 1);
    }
  }).detach();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lifeboat::cli;
  // Pack-sized buffers come and go all through a backup; served by mmap they return to the
  // system when freed instead of staying in the allocator's heaps (peak memory stays flat).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  // Blocked before any thread starts, so that every thread inherits the mask and only the
  // watcher receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
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
  AddMaintenanceCommand(app, ctx, &run);
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
  if (!run) return 2;
  WatchSignals(&ctx, signals);
  int code = run();
  ctx.Keep(nullptr);  // the engine goes before the context; a late signal then exits at once
  return code;
}
