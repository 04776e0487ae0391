// lifeboat-sample-gen: generates the sample issue tracker (src/engine/sample_app.h) at any
// size for benchmarks, applies a realistic day of changes to it, or plays a failed upgrade.
//
//   lifeboat-sample-gen create  --db PATH --files DIR --size 1GiB [--seed N]
//   lifeboat-sample-gen change  --db PATH --files DIR --fraction 0.01 [--seed N]
//   lifeboat-sample-gen upgrade --db PATH --files DIR --version V
//
// Prints what it did and how long it took. Exit codes follow ExitCodeFor.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "engine/sample_app.h"

namespace {

// "1GiB", "512MiB", "100MB", "4096" -> bytes; nullopt when malformed.
std::optional<uint64_t> ParseSize(const std::string& text) {
  size_t used = 0;
  double number = 0;
  try {
    number = std::stod(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  struct Unit {
    const char* name;
    double factor;
  };
  static constexpr Unit kUnits[] = {{"", 1},
                                    {"B", 1},
                                    {"KiB", 1024.0},
                                    {"MiB", 1048576.0},
                                    {"GiB", 1073741824.0},
                                    {"KB", 1e3},
                                    {"MB", 1e6},
                                    {"GB", 1e9},
                                    {"K", 1024.0},
                                    {"M", 1048576.0},
                                    {"G", 1073741824.0}};
  for (const Unit& u : kUnits) {
    if (unit == u.name && number >= 0) return static_cast<uint64_t>(number * u.factor);
  }
  return std::nullopt;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int Fail(const lifeboat::Status& status) {
  std::fprintf(stderr, "lifeboat-sample-gen: %s\n", status.ToString().c_str());
  return lifeboat::ExitCodeFor(status);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Generates and changes the sample issue tracker used by Lifeboat's benchmarks."};
  app.require_subcommand(1);
  std::string db, files, size = "24MiB", version, media_size = "4MiB";
  uint64_t seed = 42;
  double fraction = 0.01;
  int media_blobs = 3;
  bool no_wal = false;

  CLI::App* create = app.add_subcommand("create", "create the application");
  create->add_option("--db", db, "database file to create")->required();
  create->add_option("--files", files, "attachments folder (created; must be empty)")->required();
  create->add_option("--size", size, "approximate database size (e.g. 1GiB)")
      ->capture_default_str();
  create->add_option("--seed", seed, "seed of all content")->capture_default_str();
  create->add_option("--version", version, "application version (default 22.10.0017)");
  create->add_option("--media-blob-size", media_size, "size of each trk_media blob")
      ->capture_default_str();
  create->add_option("--media-blobs", media_blobs, "minimum number of trk_media blobs")
      ->capture_default_str();
  create->add_flag("--no-wal", no_wal, "leave the database in rollback-journal mode");

  CLI::App* change = app.add_subcommand("change", "apply a realistic day of changes");
  change->add_option("--db", db, "database file")->required();
  change->add_option("--files", files, "attachments folder")->required();
  change->add_option("--fraction", fraction, "share of data rows to touch, in (0, 1]")
      ->capture_default_str();
  change->add_option("--seed", seed, "seed of the changes")->capture_default_str();

  CLI::App* upgrade = app.add_subcommand("upgrade", "play an upgrade that goes wrong");
  upgrade->add_option("--db", db, "database file")->required();
  upgrade->add_option("--files", files, "attachments folder")->required();
  upgrade->add_option("--version", version, "version the upgrade installs")->required();

  CLI11_PARSE(app, argc, argv);
  const auto start = std::chrono::steady_clock::now();

  if (create->parsed()) {
    lifeboat::SampleAppOptions options;
    const std::optional<uint64_t> target = ParseSize(size);
    const std::optional<uint64_t> blob = ParseSize(media_size);
    if (!target || *target == 0 || !blob) {
      std::fprintf(stderr,
                   "lifeboat-sample-gen: create: size \"%s\" or \"%s\" is not a size "
                   "like 1GiB or 500MB\n",
                   size.c_str(), media_size.c_str());
      return 2;
    }
    options.target_bytes = *target;
    options.seed = seed;
    if (!version.empty()) options.version = version;
    options.media_blob_bytes = *blob;
    options.media_blobs = media_blobs;
    options.wal = !no_wal;
    auto stats = lifeboat::CreateSampleApp(db, files, options);
    if (!stats.ok()) return Fail(stats.status());
    const double seconds = Seconds(start);
    std::printf("created %s (%.1f MiB) and %s in %.2f s (%.0f MB/s)\n", db.c_str(),
                static_cast<double>(stats->database_bytes) / 1048576.0, files.c_str(), seconds,
                static_cast<double>(stats->database_bytes) / 1e6 / seconds);
    std::printf("issues %llu, comments %llu, history %llu, users %llu, log rows %llu\n",
                static_cast<unsigned long long>(stats->issues),
                static_cast<unsigned long long>(stats->comments),
                static_cast<unsigned long long>(stats->history),
                static_cast<unsigned long long>(stats->users),
                static_cast<unsigned long long>(stats->log_rows));
    std::printf("attachments %llu files, %.1f MiB\n",
                static_cast<unsigned long long>(stats->attachment_files),
                static_cast<double>(stats->attachment_bytes) / 1048576.0);
  } else if (change->parsed()) {
    auto report = lifeboat::ApplyRealisticChange(db, files, fraction, seed);
    if (!report.ok()) return Fail(report.status());
    std::printf("changed %s in %.2f s: %llu updated, %llu inserted, %llu deleted\n", db.c_str(),
                Seconds(start), static_cast<unsigned long long>(report->updated),
                static_cast<unsigned long long>(report->inserted),
                static_cast<unsigned long long>(report->deleted));
  } else if (upgrade->parsed()) {
    auto report = lifeboat::SimulateBadUpgrade(db, files, version);
    if (!report.ok()) return Fail(report.status());
    std::printf("upgraded %s to %s in %.2f s, and it went wrong:\n", db.c_str(),
                report->new_version.c_str(), Seconds(start));
    std::printf("  %llu issues deleted (with %llu comments)\n",
                static_cast<unsigned long long>(report->issues_deleted),
                static_cast<unsigned long long>(report->comments_deleted));
    std::printf("  %llu layouts corrupted\n",
                static_cast<unsigned long long>(report->layouts_corrupted));
    std::printf("  file deleted: %s\n", report->file_deleted.c_str());
    std::printf("  file truncated: %s\n", report->file_modified.c_str());
  }
  return 0;
}
