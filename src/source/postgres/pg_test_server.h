// PgTestServer: a real PostgreSQL server for tests, started from Debian's `postgresql`
// package into a temporary directory, listening on a Unix socket there only (no TCP port to
// collide with), with trust authentication for the superuser `lifeboat`. One server per test
// process, started on first use and stopped at exit; each test makes its own database.
//
// The server binaries are found in LIFEBOAT_PG_BINDIR or the newest /usr/lib/postgresql/*/bin.
// When the tests run as root (CI), the server runs as the `postgres` system user (initdb
// refuses root). A missing server is a test failure, never a skip: scripts/install-deps
// installs the package.
//
// Thread-safety: Shared() is safe; the rest is for one test thread. Header-only, test-only.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "source/postgres/pg_connection.h"

namespace lifeboat::testing {

class PgTestServer {
 public:
  static PgTestServer& Shared() {
    static PgTestServer* server = [] {
      auto* s = new PgTestServer();
      std::atexit([] { Shared().Stop(); });
      return s;
    }();
    return *server;
  }

  // A new empty database (template0, UTF8) and its URL.
  std::string CreateDatabase(const std::string& prefix = "t") {
    static std::atomic<int> counter{0};
    std::string name = prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    Exec("postgres", "CREATE DATABASE " + PgQuoteIdentifier(name) + " TEMPLATE template0");
    return Url(name);
  }
  std::string Url(const std::string& database) const {
    return "postgresql://lifeboat@/" + database + "?host=" + dir_;
  }
  // Runs SQL as the superuser; throws with the server's message on failure.
  void Exec(const std::string& database, const std::string& sql) const {
    std::unique_ptr<PgConnection> conn = Connect(database);
    Status status = conn->Exec(sql, "running test SQL");
    if (!status.ok()) throw std::runtime_error(status.ToString());
  }
  std::unique_ptr<PgConnection> Connect(const std::string& database) const {
    PgConnectOptions options;
    options.conninfo = Url(database);
    options.described = options.conninfo;
    Result<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(options);
    if (!conn.ok()) throw std::runtime_error(conn.status().ToString());
    return std::move(conn).value();
  }
  // `pg_dump ARGS DATABASE` as text on stdout; throws when it fails. The `\restrict` and
  // `\unrestrict` lines (a random key per run since PostgreSQL 15.14) are left out, so that
  // two dumps of the same database compare equal.
  std::string PgDump(const std::string& database, const std::string& args = "") const {
    std::string dump = Capture(bindir_ + "/pg_dump --no-sync " + args + " '" + Url(database) + "'");
    std::string out;
    size_t pos = 0;
    while (pos < dump.size()) {
      size_t end = dump.find('\n', pos);
      end = end == std::string::npos ? dump.size() : end + 1;
      std::string_view line(dump.data() + pos, end - pos);
      if (line.rfind("\\restrict ", 0) != 0 && line.rfind("\\unrestrict ", 0) != 0) out += line;
      pos = end;
    }
    return out;
  }
  const std::string& bindir() const { return bindir_; }
  const std::string& socket_dir() const { return dir_; }
  // The database name at the end of a URL made by CreateDatabase.
  static std::string DatabaseOf(const std::string& url) {
    size_t slash = url.find("@/");
    size_t query = url.find('?');
    return url.substr(slash + 2, query - slash - 2);
  }

 private:
  PgTestServer() {
    bindir_ = FindBindir();
    char pattern[] = "/tmp/lifeboat-pg-XXXXXX";
    if (mkdtemp(pattern) == nullptr) throw std::runtime_error("cannot create a server directory");
    dir_ = pattern;
    as_ = geteuid() == 0 ? "runuser -u postgres -- " : "";
    if (geteuid() == 0) Run("chown postgres: " + dir_);
    chmod(dir_.c_str(), 0755);
    Run(as_ + bindir_ + "/initdb -D " + dir_ + "/data -U lifeboat -A trust -E UTF8 --no-locale " +
        "--no-sync --no-instructions > " + dir_ + ".initdb.log 2>&1");
    Run(as_ + bindir_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w -s -o \"-k " +
        dir_ + " -c listen_addresses='' -c fsync=off -c synchronous_commit=off " +
        "-c full_page_writes=off -c max_connections=60 -c shared_buffers=16MB\" start");
    started_ = true;
  }

  void Stop() {
    if (!started_) return;
    started_ = false;
    std::string quiet = " > /dev/null 2>&1";
    [[maybe_unused]] int rc = std::system(
        (as_ + bindir_ + "/pg_ctl -D " + dir_ + "/data -m immediate -s stop" + quiet).c_str());
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    std::filesystem::remove(dir_ + ".initdb.log", ec);
  }

  static std::string FindBindir() {
    if (const char* env = std::getenv("LIFEBOAT_PG_BINDIR")) return env;
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      if (std::filesystem::exists(entry.path() / "bin" / "initdb")) {
        found.push_back((entry.path() / "bin").string());
      }
    }
    if (found.empty()) {
      throw std::runtime_error(
          "no PostgreSQL server found in /usr/lib/postgresql/*/bin: run scripts/install-deps "
          "(Debian package postgresql) or set LIFEBOAT_PG_BINDIR");
    }
    std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
      return std::stoi(std::filesystem::path(a).parent_path().filename().string()) <
             std::stoi(std::filesystem::path(b).parent_path().filename().string());
    });
    return found.back();
  }

  void Run(const std::string& command) const {
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error("test PostgreSQL server: failed: " + command + " (log: " + dir_ +
                               "/server.log, " + dir_ + ".initdb.log)");
    }
  }

  static std::string Capture(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
    std::string out;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
    if (pclose(pipe) != 0) throw std::runtime_error("failed: " + command);
    return out;
  }

  std::string bindir_;
  std::string dir_;
  std::string as_;
  bool started_ = false;
};

}  // namespace lifeboat::testing
