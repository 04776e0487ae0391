// lifeboat demo: builds a sample issue tracker in SQLite and walks through the life of a
// pre-upgrade backup: size check, backup, show, a bad upgrade, a refused restore, the fix, a
// restore with its safety backup, and the proof that tables and files match.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli_context.h"
#include "terminal.h"

namespace lifeboat::cli {
namespace {

constexpr char kOldVersion[] = "22.10.0017";
constexpr char kNewVersion[] = "23.1.0";

struct DemoArgs {
  std::string dir = "lifeboat-demo";
  std::string size = "24MiB";
};

void Step(int n, const std::string& title) {
  std::cout << "\n" << Bold(std::to_string(n) + ". " + title, stdout) << "\n";
}

void Say(const std::string& text) {
  std::cout << "   " << text << "\n";
}

class Demo {
 public:
  Demo(CliContext& ctx, const DemoArgs& args) : ctx_(ctx), args_(args) {}

  int Run() {
    auto start = std::chrono::steady_clock::now();
    Result<uint64_t> size = ParseSize();
    if (!size.ok()) return ctx_.Fail(size.status());

    Step(1, "A sample issue tracker in SQLite");
    Result<DemoLayout> layout = CreateDemoApplication(args_.dir, *size);
    if (!layout.ok()) return ctx_.Fail(layout.status());
    layout_ = *layout;
    Say("database:    " + layout_.database);
    Say("attachments: " + layout_.attachments);
    Say("config:      " + layout_.config + " (profile 'tracker', instance 'prod')");

    Step(2, "Create the repository");
    if (!Check(Engine()->Init())) return 1;
    Say("repository:  " + layout_.repository + " (encrypted; password in " + layout_.password_file +
        ")");

    Step(3, "Size check: what a backup would take (backup --dry-run)");
    BackupParams plan_params;
    plan_params.instance = "prod";
    plan_params.dry_run = true;
    Result<nlohmann::json> plan = Engine()->Backup(plan_params);
    if (!Check(plan)) return 1;
    for (const auto& t : (*plan)["plan"]["tables"]) {
      std::string line = t["name"].get<std::string>();
      if (t["included"].get<bool>()) {
        line += "  " + t["kind"].get<std::string>() + "  ~" +
                HumanBytes(t["estimated_bytes"].get<uint64_t>());
      } else {
        line += "  excluded: " + t["reason"].get<std::string>();
      }
      Say((t["included"].get<bool>() ? "+ " : "- ") + line);
    }
    for (const auto& w : (*plan)["plan"]["warnings"])
      Say(Yellow("! " + w.get<std::string>(), stdout));
    Say("the profile says 'ask' for large tables; the demo answers with --include-large");

    Step(4, "Back up before the upgrade");
    Result<nlohmann::json> digest_before = DigestDemoState(layout_);
    if (!Check(digest_before)) return 1;
    BackupParams backup_params;
    backup_params.instance = "prod";
    backup_params.name = "before 23.1 upgrade";
    backup_params.notes = "pre-upgrade safety net, taken by the demo";
    backup_params.tags = {"pre-upgrade"};
    backup_params.include_large = true;
    Result<nlohmann::json> backup = Engine()->Backup(backup_params);
    if (!Check(backup)) return 1;
    const auto& figures = (*backup)["figures"];
    std::string id = (*backup)["snapshot"]["short_id"].get<std::string>();
    Say(Green("backup " + id, stdout) + ": " + figures["tables"].dump() + " tables, " +
        figures["rows"].dump() + " rows, " + figures["files"].dump() + " files, " +
        HumanBytes(figures["bytes"].get<uint64_t>()) + " read, " +
        HumanBytes(figures["stored_bytes"].get<uint64_t>()) + " stored");

    Step(5, "What the backup holds (show " + id + ")");
    Result<nlohmann::json> shown = Engine()->Show(id);
    if (!Check(shown)) return 1;
    for (const auto& t : (*shown)["tables"]) {
      char line[160];
      std::snprintf(line, sizeof(line), "%-22s %-9s %8llu rows %10s",
                    t["name"].get<std::string>().c_str(), t["kind"].get<std::string>().c_str(),
                    static_cast<unsigned long long>(t["rows"].get<uint64_t>()),
                    HumanBytes(t["bytes"].get<uint64_t>()).c_str());
      Say(line);
    }
    Say("version " + (*shown)["version"].get<std::string>() + ", restorable until " +
        (*shown)["restorable_until"].get<std::string>());

    Step(6, "The upgrade to " + std::string(kNewVersion) + " goes wrong");
    Result<nlohmann::json> damage = SimulateDemoUpgrade(layout_, kNewVersion);
    if (!Check(damage)) return 1;
    Say((*damage)["issues_deleted"].dump() + " issues and " + (*damage)["comments_deleted"].dump() +
        " comments deleted, " + (*damage)["layouts_corrupted"].dump() +
        " layouts corrupted, attachment " + (*damage)["file_deleted"].get<std::string>() +
        " deleted, version now " + kNewVersion);

    Step(7, "Restore straight away: refused, the versions differ");
    RestoreParams restore_params;
    restore_params.snapshot = id;
    restore_params.target = "prod";
    restore_params.confirmed = true;
    Result<nlohmann::json> refused = Engine()->Restore(restore_params);
    if (refused.ok()) {
      Say(Red("the restore was not refused", stdout));
      return 1;
    }
    Say(Yellow("refused (exit code " + std::to_string(ExitCodeFor(refused.status())) + "): ",
               stdout) +
        refused.status().message());

    Step(8, "The fix: reinstall " + std::string(kOldVersion) + ", then restore");
    Status reinstalled = SetDemoVersion(layout_, kOldVersion);
    if (!reinstalled.ok()) return ctx_.Fail(reinstalled);
    Say("the application runs " + std::string(kOldVersion) + " again");
    Result<nlohmann::json> restored = Engine()->Restore(restore_params);
    if (!Check(restored)) return 1;
    Say("safety backup " + (*restored)["safety_snapshot"].get<std::string>().substr(0, 8) +
        " of the broken state was taken first");
    const auto& rf = (*restored)["figures"];
    Say(Green("restored", stdout) + ": " + rf["tables"].dump() + " tables, " + rf["rows"].dump() +
        " rows, " + rf["files"].dump() + " files");

    Step(9, "Proof: the tables and files match the backup");
    Result<nlohmann::json> digest_after = DigestDemoState(layout_);
    if (!Check(digest_after)) return 1;
    int matched = 0, differed = 0;
    for (const auto& t : (*shown)["tables"]) {
      std::string name = t["name"].get<std::string>();
      bool same = (*digest_before)["tables"][name] == (*digest_after)["tables"][name];
      same ? ++matched : ++differed;
      if (!same) Say(Red(name + " differs", stdout));
    }
    bool files_same = (*digest_before)["files"] == (*digest_after)["files"];
    Say(std::to_string(matched) + " tables identical row for row, " + std::to_string(differed) +
        " different; attachments " + (files_same ? "identical" : Red("different", stdout)));
    Result<nlohmann::json> checked = Engine()->Check(true);
    if (!Check(checked)) return 1;
    Say("check --read-data: " + (*checked)["blobs_read"].dump() + " blobs re-hashed, no errors");

    Step(10, "The activity log");
    Result<nlohmann::json> log = Engine()->Log({});
    if (!Check(log)) return 1;
    for (const auto& e : *log) {
      std::string line = e["time"].get<std::string>() + "  " + e["operation"].get<std::string>() +
                         " " + e["event"].get<std::string>();
      if (!e["error"].is_null()) line = Red(line + ": " + e["error"].get<std::string>(), stdout);
      Say(line);
    }

    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "\n"
              << (differed == 0 && files_same ? Green("demo complete", stdout)
                                              : Red("demo found differences", stdout))
              << " in " << static_cast<int>(seconds * 10) / 10.0 << " s; everything is in "
              << layout_.dir << "\n";
    return differed == 0 && files_same ? 0 : 1;
  }

 private:
  Result<uint64_t> ParseSize();

  lifeboat::Engine* Engine() {
    EngineOptions options;
    options.config_path = layout_.config;
    options.user = "demo";
    options.host = "localhost";
    options.progress = ctx_.progress();
    Result<std::unique_ptr<lifeboat::Engine>> engine = lifeboat::Engine::Create(options);
    if (!engine.ok()) {
      std::cerr << engine.status().ToString() << "\n";
      std::exit(ctx_.Fail(engine.status()));
    }
    lifeboat::Engine* kept = ctx_.Keep(std::move(engine).value());
    Result<std::string> password = ReadFirstLine(layout_.password_file);
    if (password.ok()) kept->set_password(*password);
    return kept;
  }

  static Result<std::string> ReadFirstLine(const std::string& path);

  template <typename T>
  bool Check(const Result<T>& result) {
    if (result.ok()) return true;
    ctx_.Fail(result.status());
    return false;
  }

  CliContext& ctx_;
  DemoArgs args_;
  DemoLayout layout_;
};

}  // namespace
}  // namespace lifeboat::cli

#include <fstream>

#include "base/units.h"

namespace lifeboat::cli {
namespace {

Result<uint64_t> Demo::ParseSize() {
  return ParseByteSize(args_.size);
}

Result<std::string> Demo::ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return NotFoundError("cannot read " + path);
  return line;
}

}  // namespace

void AddDemoCommand(CLI::App& app, CliContext& ctx, CommandRun* run) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand("demo", "build a sample application and walk through it");
  cmd->add_option("--dir", args->dir, "where the demo lives (default ./lifeboat-demo)");
  cmd->add_option("--size", args->size, "size of the sample database (default 24MiB)");
  cmd->callback([&ctx, run, args] { *run = [&ctx, args] { return Demo(ctx, *args).Run(); }; });
}

}  // namespace lifeboat::cli
