// The engine: wires configuration, the repository, the drivers and the operations behind the
// public API of include/lifeboat/engine.h. This is the only layer that names concrete
// drivers (LocalObjectStore, SqliteSource, PgSource).
#include "lifeboat/engine.h"

#include <unistd.h>

#include <filesystem>

#include "base/cancellation.h"
#include "base/clock.h"
#include "base/encoding.h"
#include "base/units.h"
#include "codec/random.h"
#include "engine/config.h"
#include "engine/instance_url.h"
#include "engine/json_views.h"
#include "ops/backup.h"
#include "ops/check.h"
#include "ops/files_restore.h"
#include "ops/operation.h"
#include "ops/restore.h"
#include "ops/snapshot_catalog.h"
#include "repo/activity_log.h"
#include "repo/repository.h"
#include "source/postgres/pg_source.h"
#include "source/sqlite/sqlite_source.h"
#include "storage/local_object_store.h"

namespace lifeboat {

using nlohmann::json;

namespace {

// An instance as an operation needs it: from lifeboat.toml or a one-off URL.
struct ResolvedInstance {
  std::string name;
  std::string account;
  InstanceLocation location;
  std::optional<std::string> files;
  ProfileConfig profile;
};

constexpr char kDefaultAccount[] = "default";

}  // namespace

class Engine::Impl {
 public:
  explicit Impl(const EngineOptions& options) : options_(options) {
    if (options_.progress == nullptr) options_.progress = NullProgressSink::Get();
  }

  Status Load() {
    if (options_.config_path) {
      LB_ASSIGN_OR_RETURN(config_, LoadConfig(*options_.config_path));
      base_dir_ = std::filesystem::absolute(*options_.config_path).parent_path().string();
    } else {
      base_dir_ = std::filesystem::current_path().string();
    }
    if (options_.repository) {
      repository_ = *options_.repository;
    } else if (config_.repository) {
      repository_ = *config_.repository;
    }
    return OkStatus();
  }

  std::optional<std::string> password_file() const { return config_.password_file; }
  const std::string& repository_location() const { return repository_; }
  void set_password(std::string password) { options_.password = std::move(password); }
  void Cancel() { cancel_.Cancel(CancelledError("cancelled by the user")); }

  Result<json> Init(const InitParams& params) {
    // Bad arguments are refused before anything is created or opened.
    RepositoryOptions repo_options;
    LB_ASSIGN_OR_RETURN(
        std::optional<CompressionSettings> chosen,
        ChooseCompression(params.compression, params.compression_level, repo_options.compression));
    if (chosen) repo_options.compression = *chosen;
    LB_ASSIGN_OR_RETURN(std::unique_ptr<LocalObjectStore> store, OpenStore(/*create=*/true));
    LB_ASSIGN_OR_RETURN(std::string password, Password());
    if (options_.kdf_n != 0) repo_options.kdf.n = options_.kdf_n;
    KeySlotInfo info{options_.user, options_.host, Clock::Real()->NowUnixNanos()};
    LB_RETURN_IF_ERROR(Repository::Init(store.get(), password, repo_options, info));
    return json{{"repository", repository_},
                {"created", true},
                {"compression", CompressionMethodName(repo_options.compression.method)},
                {"compression_level", repo_options.compression.zstd_level}};
  }

  Result<json> Backup(const BackupParams& params) {
    // Bad arguments are refused before anything is created or opened.
    LB_RETURN_IF_ERROR(
        ChooseCompression(params.compression, params.compression_level, CompressionSettings{})
            .status());
    LB_ASSIGN_OR_RETURN(ResolvedInstance instance, ResolveInstance(params.instance));
    LB_RETURN_IF_ERROR(OpenRepository());
    LB_ASSIGN_OR_RETURN(std::optional<CompressionSettings> chosen,
                        ChooseCompression(params.compression, params.compression_level,
                                          repo_->config_compression()));
    LB_RETURN_IF_ERROR(repo_->UseCompression(chosen));
    LB_ASSIGN_OR_RETURN(std::unique_ptr<Source> source, OpenSource(instance, false, "backup"));

    BackupRequest request;
    request.instance = instance.name;
    request.account = instance.account;
    request.name = params.name;
    request.notes = params.notes;
    request.tags = params.tags.empty() ? std::vector<std::string>{"manual"} : params.tags;
    request.user = options_.user;
    request.host = options_.host;
    request.files_root = instance.files;
    request.rules = instance.profile.rules;
    request.version_query = instance.profile.version_query;
    if (params.include_large) {
      request.large =
          *params.include_large ? LargeTableOverride::kInclude : LargeTableOverride::kExclude;
    }
    request.ask_large = params.ask_large;
    request.dry_run = params.dry_run;

    if (params.dry_run) {
      LB_ASSIGN_OR_RETURN(BackupOutcome outcome,
                          RunBackup(repo_.get(), source.get(), Location(instance), request,
                                    options_.progress, &cancel_));
      return json{{"dry_run", true},
                  {"instance", instance.name},
                  {"plan", PlanToJson(outcome.plan, request.rules)}};
    }

    json result;
    OperationInfo info = Info("backup", instance, params.name, params.notes);
    LB_RETURN_IF_ERROR(RunOperation(
        repo_.get(), info, &cancel_, Notice(),
        [&](CancellationToken* cancel, OperationReport* report) -> Status {
          LB_ASSIGN_OR_RETURN(BackupOutcome outcome,
                              RunBackup(repo_.get(), source.get(), Location(instance), request,
                                        options_.progress, cancel));
          report->snapshot = outcome.manifest.id;
          report->figures = BackupFigures(outcome.manifest);
          result = {{"dry_run", false},
                    {"snapshot", SnapshotSummary(outcome.manifest, config_.restore_window_nanos)},
                    {"plan", PlanToJson(outcome.plan, request.rules)},
                    {"figures", report->figures},
                    {"files_unchanged", outcome.files_unchanged},
                    {"files_reread", outcome.files_reread}};
          return OkStatus();
        }));
    return result;
  }

  Result<json> Snapshots(const SnapshotsParams& params) {
    LB_RETURN_IF_ERROR(OpenRepository());
    SnapshotFilter filter{params.instance, params.account};
    std::vector<std::string> damaged;
    LB_ASSIGN_OR_RETURN(std::vector<Manifest> manifests,
                        ListManifests(repo_.get(), filter, &damaged));
    for (const std::string& error : damaged) {
      Notice()(error + "; it is not listed (run `lifeboat check`)");
    }
    json list = json::array();
    for (const Manifest& m : manifests) {
      list.push_back(SnapshotSummary(m, config_.restore_window_nanos));
    }
    return list;
  }

  Result<json> Show(const std::string& snapshot) {
    LB_RETURN_IF_ERROR(OpenRepository());
    LB_ASSIGN_OR_RETURN(Manifest m, FindManifest(repo_.get(), snapshot));
    return ManifestDetails(m, config_.restore_window_nanos);
  }

  Result<json> Restore(const RestoreParams& params) {
    LB_ASSIGN_OR_RETURN(ResolvedInstance target, ResolveInstance(params.target));
    LB_RETURN_IF_ERROR(OpenRepository());
    LB_ASSIGN_OR_RETURN(Manifest backup, FindManifest(repo_.get(), params.snapshot));
    // A restore into a database that does not exist yet is a clone; the file it creates is
    // removed again unless the restore completes.
    bool created =
        target.location.scheme == "sqlite" && !std::filesystem::exists(target.location.path);
    LB_ASSIGN_OR_RETURN(std::unique_ptr<Source> source, OpenSource(target, true, "restore"));
    Result<json> result = RestoreInto(params, target, backup, source.get());
    source.reset();
    if (created && (!result.ok() || params.dry_run)) {
      std::error_code ignored;
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        std::filesystem::remove(target.location.path + suffix, ignored);
      }
    }
    return result;
  }

  Result<json> RestoreInto(const RestoreParams& params, const ResolvedInstance& target,
                           const Manifest& backup, Source* source) {
    RestoreRequest request;
    request.instance = target.name;
    request.account = target.account;
    request.tables = params.tables;
    request.files_root = target.files;
    request.rules = target.profile.rules;
    request.version_query = target.profile.version_query;
    request.window_nanos = config_.restore_window_nanos;
    request.ignore_window = params.ignore_window;
    request.user = options_.user;
    request.host = options_.host;

    // Guards first, as a dry run: nothing is asked of the user before they pass.
    auto check_guards = [&](CancellationToken* cancel) -> Result<json> {
      RestoreRequest dry = request;
      dry.dry_run = true;
      LB_ASSIGN_OR_RETURN(RestoreOutcome checked,
                          RunRestore(repo_.get(), source, Location(target), backup, dry,
                                     options_.progress, cancel));
      return RestorePlan(backup, target, checked, params);
    };
    if (params.dry_run) {
      LB_ASSIGN_OR_RETURN(json plan, check_guards(&cancel_));
      return json{{"dry_run", true}, {"plan", plan}};
    }

    json result;
    OperationInfo info = Info("restore", target, backup.name, backup.notes);
    LB_RETURN_IF_ERROR(RunOperation(
        repo_.get(), info, &cancel_, Notice(),
        [&](CancellationToken* cancel, OperationReport* report) -> Status {
          report->snapshot = backup.id;
          LB_ASSIGN_OR_RETURN(json plan, check_guards(cancel));
          request.confirmed = params.confirmed || (params.confirm && params.confirm(plan));
          // Interrupted at the prompt: cancelled, not refused.
          if (Status stopped = cancel->Check(); !stopped.ok()) return stopped;
          LB_ASSIGN_OR_RETURN(RestoreOutcome outcome,
                              RunRestore(repo_.get(), source, Location(target), backup, request,
                                         options_.progress, cancel, &report->table_errors));
          uint64_t rows = 0, bytes = 0;
          json tables = json::array();
          for (const RestoredTable& t : outcome.tables) {
            rows += t.rows;
            bytes += t.bytes;
            tables.push_back({{"name", t.name}, {"rows", t.rows}, {"bytes", t.bytes}});
          }
          report->figures = {{"tables", outcome.tables.size()},
                             {"rows", rows},
                             {"bytes", bytes},
                             {"files", outcome.files},
                             {"file_bytes", outcome.file_bytes}};
          result = {
              {"dry_run", false},
              {"snapshot", backup.id},
              {"short_id", backup.id.substr(0, 8)},
              {"instance", target.name},
              {"clone", outcome.clone},
              {"safety_snapshot",
               outcome.safety_snapshot.empty() ? json(nullptr) : json(outcome.safety_snapshot)},
              {"tables", tables},
              {"figures", report->figures}};
          return OkStatus();
        }));
    return result;
  }

  Result<json> Check(bool read_data) {
    LB_RETURN_IF_ERROR(OpenRepository());
    LB_ASSIGN_OR_RETURN(CheckReport report,
                        RunCheck(repo_.get(), read_data, options_.progress, &cancel_));
    json result = {{"ok", report.ok()},
                   {"read_data", read_data},
                   {"snapshots", report.snapshots},
                   {"packs", report.packs},
                   {"index_entries", report.index_entries},
                   {"blobs_referenced", report.blobs_referenced},
                   {"blobs_read", report.blobs_read},
                   {"bytes_read", report.bytes_read},
                   {"errors", report.errors},
                   {"warnings", report.warnings}};
    if (!report.ok()) {
      std::string first = report.errors.front();
      return Status(StatusCode::kDataLoss, "repository " + repository_ + " is damaged: " +
                                               std::to_string(report.errors.size()) +
                                               " problem(s), the first: " + first)
          .WithContext("check");
    }
    return result;
  }

  Result<json> Log(const LogParams& params) {
    LB_RETURN_IF_ERROR(OpenRepository());
    LogFilter filter;
    if (params.instance) filter.instance = *params.instance;
    if (params.since) {
      int64_t at = 0;
      if (ParseRfc3339(*params.since, &at)) {
        filter.since_nanos = at;
      } else {
        Result<int64_t> ago = ParseDuration(*params.since);
        if (!ago.ok()) {
          return InvalidArgumentError("--since '" + *params.since +
                                      "' is neither a duration (2d, 12h) nor a time "
                                      "(2026-11-22T10:00:00Z)");
        }
        filter.since_nanos = Clock::Real()->NowUnixNanos() - *ago;
      }
    }
    ActivityLog log(repo_->store(), &repo_->sealer(), repo_->clock());
    json events = json::array();
    LB_RETURN_IF_ERROR(log.Read(filter, [&](const ActivityEvent& event) {
      events.push_back(ActivityEventToJson(event));
      return OkStatus();
    }));
    return events;
  }

  // Undoes a maintenance mode a killed restore left behind, and logs it when a repository is
  // configured.
  Result<json> MaintenanceOff(const std::string& name) {
    LB_ASSIGN_OR_RETURN(ResolvedInstance instance, ResolveInstance(name));
    LB_ASSIGN_OR_RETURN(std::unique_ptr<Source> source,
                        OpenSource(instance, false, "maintenance off"));
    Result<std::string> done = source->LeaveMaintenance();
    if (done.ok() && instance.files) {
      Result<std::string> settled = SettleInterruptedRestore(source.get(), *instance.files);
      if (!settled.ok()) {
        done = settled.status();
      } else if (!settled->empty()) {
        done = done->empty() ? *settled : *done + "; " + *settled;
      }
    }
    // The work is done: a repository that cannot be opened only costs the log event.
    if (Status opened = repository_.empty() ? OkStatus() : OpenRepository(); !opened.ok()) {
      Notice()("the activity log was not written (" + opened.ToString() + ")");
    } else if (!repository_.empty()) {
      ActivityLog log(repo_->store(), &repo_->sealer(), repo_->clock());
      ActivityEvent event;
      event.operation = "maintenance off";
      event.op_id = ToHex(RandomBytes(8));
      event.event = done.ok() ? "completed" : "failed";
      event.user = options_.user;
      event.host = options_.host;
      event.instance = instance.name;
      event.account = instance.account;
      event.outcome = done.ok() ? "ok" : "failed";
      if (!done.ok()) event.error = done.status().ToString();
      if (done.ok()) event.notes = done->empty() ? "the instance was not in maintenance" : *done;
      Status logged = log.Append(event);
      if (!logged.ok()) Notice()("could not write the activity log: " + logged.ToString());
    }
    if (!done.ok()) return done.status();
    return json{{"instance", instance.name},
                {"changed", !done->empty()},
                {"message", done->empty() ? "not in maintenance: nothing to do" : *done}};
  }

 private:
  Result<std::unique_ptr<LocalObjectStore>> OpenStore(bool create) {
    if (repository_.empty()) {
      return InvalidArgumentError(
          "no repository given: pass --repo DIR or set `repository` in lifeboat.toml");
    }
    std::string path = repository_;
    if (path.rfind("file://", 0) == 0) path = path.substr(7);
    if (path.find("://") != std::string::npos) {
      return UnimplementedError("repository " + repository_ +
                                ": only local directories are supported in this version");
    }
    if (std::filesystem::path(path).is_relative()) {
      path = (std::filesystem::path(base_dir_) / path).lexically_normal().string();
    }
    return LocalObjectStore::Open(path, create);
  }

  Result<std::string> Password() {
    if (!options_.password || options_.password->empty()) {
      return InvalidArgumentError(
          "no repository password: pass --password-file FILE, set LIFEBOAT_PASSWORD, or set "
          "password_file in lifeboat.toml");
    }
    return *options_.password;
  }

  // Opens the repository once; every later call hands it back with its own compression.
  Status OpenRepository() {
    if (repo_) return repo_->UseCompression(std::nullopt);
    LB_ASSIGN_OR_RETURN(store_, OpenStore(/*create=*/false));
    LB_ASSIGN_OR_RETURN(std::string password, Password());
    LB_ASSIGN_OR_RETURN(repo_, Repository::Open(store_.get(), password, Clock::Real()));
    return OkStatus();
  }

  Result<ResolvedInstance> ResolveInstance(const std::string& name) {
    ResolvedInstance out;
    auto it = config_.instances.find(name);
    if (it != config_.instances.end()) {
      const InstanceConfig& ic = it->second;
      out.name = ic.name;
      out.account = ic.account.empty() ? kDefaultAccount : ic.account;
      LB_ASSIGN_OR_RETURN(out.location, ParseInstanceUrl(ic.database, base_dir_));
      out.files = ic.files;
      auto profile = config_.profiles.find(ic.profile);
      out.profile = profile != config_.profiles.end() ? profile->second : DefaultProfile();
    } else {
      Result<InstanceLocation> location = ParseInstanceUrl(name, base_dir_);
      if (!location.ok()) {
        std::string known;
        for (const auto& [n, _] : config_.instances) known += (known.empty() ? "" : ", ") + n;
        return NotFoundError(
            "instance '" + name + "' is not in " +
            (config_.path.empty() ? std::string("the configuration") : config_.path) +
            (known.empty() ? "" : " (instances: " + known + ")") +
            " and is not a database URL such as sqlite:///srv/app.db");
      }
      // The database of a configured instance is reached through the instance only: by its
      // location it would escape the instance's account, version query, files and lock.
      for (const auto& [n, ic] : config_.instances) {
        Result<InstanceLocation> theirs = ParseInstanceUrl(ic.database, base_dir_);
        if (theirs.ok() && SameDatabase(*theirs, *location)) {
          return FailedPreconditionError(
              name + " is the database of instance '" + n + "' in " +
              (config_.path.empty() ? std::string("the configuration") : config_.path) +
              ": name the instance (" + n +
              ") instead, so that its account, version query, files and lock apply");
        }
      }
      out.location = *location;
      out.name = location->scheme == "sqlite" ? location->path : RedactUrl(location->url);
      out.account = kDefaultAccount;
      out.profile = DefaultProfile();
    }
    return out;
  }

  // Whether two locations name the same database: the same file, or the same URL.
  static bool SameDatabase(const InstanceLocation& a, const InstanceLocation& b) {
    if (a.scheme != b.scheme) return false;
    if (a.scheme != "sqlite") return RedactUrl(a.url) == RedactUrl(b.url);
    std::error_code error_a, error_b;
    const auto path_a = std::filesystem::weakly_canonical(a.path, error_a);
    const auto path_b = std::filesystem::weakly_canonical(b.path, error_b);
    return !error_a && !error_b ? path_a == path_b : a.path == b.path;
  }

  static std::string Location(const ResolvedInstance& instance) {
    return instance.location.scheme == "sqlite" ? instance.location.path
                                                : RedactUrl(instance.location.url);
  }

  // `operation` names the work in the database's session list ("lifeboat restore by ops@h").
  Result<std::unique_ptr<Source>> OpenSource(const ResolvedInstance& instance, bool create,
                                             const std::string& operation) {
    if (instance.location.scheme == "postgresql") {
      PgSource::Options pg;
      pg.described = RedactUrl(instance.location.url);
      pg.label = "lifeboat " + operation + " by " + options_.user + "@" + options_.host;
      pg.on_notice = Notice();
      LB_ASSIGN_OR_RETURN(std::unique_ptr<PgSource> source,
                          PgSource::Open(instance.location.url, std::move(pg)));
      return std::unique_ptr<Source>(std::move(source));
    }
    LB_ASSIGN_OR_RETURN(std::unique_ptr<SqliteSource> source,
                        SqliteSource::Open(instance.location.path, create));
    return std::unique_ptr<Source>(std::move(source));
  }

  OperationInfo Info(const std::string& operation, const ResolvedInstance& instance,
                     const std::string& name, const std::string& notes) const {
    return OperationInfo{operation, instance.name, instance.account, name,
                         notes,     options_.user, options_.host,    options_.pid};
  }

  std::function<void(const std::string&)> Notice() {
    return [this](const std::string& text) {
      options_.progress->OnMessage(MessageLevel::kWarning, text);
    };
  }

  json RestorePlan(const Manifest& backup, const ResolvedInstance& target,
                   const RestoreOutcome& checked, const RestoreParams& params) const {
    json tables = json::array();
    for (const TableEntry& t : backup.tables) {
      if (params.tables &&
          std::find(params.tables->begin(), params.tables->end(), t.name) == params.tables->end()) {
        continue;
      }
      tables.push_back({{"name", t.name}, {"kind", t.kind}, {"rows", t.rows}, {"bytes", t.bytes}});
    }
    return {
        {"snapshot", SnapshotSummary(backup, config_.restore_window_nanos)},
        {"instance", target.name},
        {"account", target.account},
        {"clone", checked.clone},
        {"target_version", checked.target_version ? json(*checked.target_version) : json(nullptr)},
        {"tables", tables},
        {"files", backup.files && target.files && !params.tables
                      ? json{{"count", backup.files->count},
                             {"bytes", backup.files->bytes},
                             {"root", *target.files}}
                      : json(nullptr)},
        {"safety_backup", !checked.clone}};
  }

  EngineOptions options_;
  Config config_;
  std::string base_dir_;
  std::string repository_;
  std::unique_ptr<LocalObjectStore> store_;
  std::unique_ptr<Repository> repo_;
  CancellationToken cancel_;
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  LB_RETURN_IF_ERROR(impl->Load());
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

std::optional<std::string> Engine::password_file() const {
  return impl_->password_file();
}
std::string Engine::repository_location() const {
  return impl_->repository_location();
}
void Engine::set_password(std::string password) {
  impl_->set_password(std::move(password));
}
Result<json> Engine::Init(const InitParams& params) {
  return impl_->Init(params);
}
Result<json> Engine::Backup(const BackupParams& params) {
  return impl_->Backup(params);
}
Result<json> Engine::Snapshots(const SnapshotsParams& params) {
  return impl_->Snapshots(params);
}
Result<json> Engine::Show(const std::string& snapshot) {
  return impl_->Show(snapshot);
}
Result<json> Engine::Restore(const RestoreParams& params) {
  return impl_->Restore(params);
}
Result<json> Engine::Check(bool read_data) {
  return impl_->Check(read_data);
}
Result<json> Engine::Log(const LogParams& params) {
  return impl_->Log(params);
}
Result<json> Engine::MaintenanceOff(const std::string& instance) {
  return impl_->MaintenanceOff(instance);
}
void Engine::Cancel() {
  impl_->Cancel();
}

}  // namespace lifeboat
