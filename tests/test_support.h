// Helpers shared by the cross-module suites: temporary directories, running the `lifeboat`
// binary (or sqlite3) as a child process with its output captured, reading and writing files,
// dumping SQLite tables with the sqlite3 shell, and comparing directory trees.
//
// Everything here is header-only and uses only POSIX and the standard library, so each suite
// stays one self-contained binary. Failures throw std::runtime_error with a message naming
// the path or command (GoogleTest reports the exception as a test failure).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace lifeboat::testing {

namespace fs = std::filesystem;

#ifdef LIFEBOAT_CLI
inline constexpr char kLifeboatCli[] = LIFEBOAT_CLI;
#endif
inline constexpr char kSqlite3[] = "/usr/bin/sqlite3";

// A fresh directory under /tmp, removed with everything in it when the object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "lifeboat-test") {
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) {
      throw std::runtime_error("cannot create a temporary directory " + pattern + ": " +
                               std::strerror(errno));
    }
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

// What a child process did.
struct RunResult {
  int exit_code = -1;  // the exit status, or -1 when a signal ended it
  int signal = 0;      // the signal that ended it, if any
  std::string out;
  std::string err;
  double seconds = 0;

  // Both streams, for failure messages.
  std::string Describe() const {
    return "exit " + std::to_string(exit_code) +
           (signal != 0 ? " (signal " + std::to_string(signal) + ")" : "") + "\n--- stdout\n" +
           out + "\n--- stderr\n" + err;
  }
  nlohmann::json Json() const {
    try {
      return nlohmann::json::parse(out);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("stdout is not JSON (") + e.what() + "): " + Describe());
    }
  }
};

struct RunOptions {
  // Variables set (or, with nullopt, removed) on top of this process's environment.
  std::map<std::string, std::optional<std::string>> env;
  std::string cwd;          // empty: this process's working directory
  std::string stdout_path;  // empty: captured into RunResult::out
  std::string stderr_path;  // empty: captured into RunResult::err
};

namespace internal {

inline std::vector<std::string> MergedEnvironment(
    const std::map<std::string, std::optional<std::string>>& overrides) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  // Children never see a terminal or colours, and never inherit a password or a config.
  vars.erase("LIFEBOAT_PASSWORD");
  vars.erase("LIFEBOAT_CONFIG");
  vars["NO_COLOR"] = "1";
  for (const auto& [name, value] : overrides) {
    if (value) {
      vars[name] = *value;
    } else {
      vars.erase(name);
    }
  }
  std::vector<std::string> out;
  for (const auto& [name, value] : vars) out.push_back(name + "=" + value);
  return out;
}

inline std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace internal

// A started child process: stdin is /dev/null; stdout and stderr go to pipes (or files).
class Child {
 public:
  Child(std::vector<std::string> argv, const RunOptions& options) {
    if (argv.empty()) throw std::runtime_error("no program to run");
    std::vector<std::string> env = internal::MergedEnvironment(options.env);
    std::vector<char*> argv_ptrs = internal::Pointers(argv);
    std::vector<char*> env_ptrs = internal::Pointers(env);

    int out_pipe[2] = {-1, -1};
    int err_pipe[2] = {-1, -1};
    if (options.stdout_path.empty() && pipe2(out_pipe, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    if (options.stderr_path.empty() && pipe2(err_pipe, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (options.stdout_path.empty()) {
      posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    } else {
      posix_spawn_file_actions_addopen(&actions, 1, options.stdout_path.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (options.stderr_path.empty()) {
      posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    } else {
      posix_spawn_file_actions_addopen(&actions, 2, options.stderr_path.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
    start_ = std::chrono::steady_clock::now();
    int rc = posix_spawn(&pid_, argv_ptrs[0], &actions, nullptr, argv_ptrs.data(), env_ptrs.data());
    posix_spawn_file_actions_destroy(&actions);
    if (out_pipe[1] >= 0) close(out_pipe[1]);
    if (err_pipe[1] >= 0) close(err_pipe[1]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    if (rc != 0) {
      CloseFds();
      throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    CloseFds();
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }

  void Kill(int signal_number = SIGKILL) { kill(pid_, signal_number); }

  // Reads the captured output until the child closes it, then reaps the child.
  RunResult Wait() {
    RunResult result;
    DrainPipes(&result);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (WIFEXITED(status)) {
      result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result.signal = WTERMSIG(status);
    }
    return result;
  }

 private:
  void DrainPipes(RunResult* result) {
    char buf[65536];
    while (out_fd_ >= 0 || err_fd_ >= 0) {
      pollfd fds[2];
      nfds_t n = 0;
      if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
      if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
      if (poll(fds, n, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (nfds_t i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        ssize_t got = read(fds[i].fd, buf, sizeof(buf));
        if (got > 0) {
          (fds[i].fd == out_fd_ ? result->out : result->err).append(buf, static_cast<size_t>(got));
        } else if (got == 0 || (got < 0 && errno != EINTR)) {
          int& fd = fds[i].fd == out_fd_ ? out_fd_ : err_fd_;
          close(fd);
          fd = -1;
        }
      }
    }
  }
  void CloseFds() {
    if (out_fd_ >= 0) close(out_fd_);
    if (err_fd_ >= 0) close(err_fd_);
    out_fd_ = err_fd_ = -1;
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::chrono::steady_clock::time_point start_;
};

// Runs `argv` to completion with stdin from /dev/null.
inline RunResult RunProcess(const std::vector<std::string>& argv, const RunOptions& options = {}) {
  Child child(argv, options);
  return child.Wait();
}

// Runs the sqlite3 shell on `db` with `args` (SQL or dot-commands); throws when it fails.
inline std::string Sqlite(const std::string& db, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kSqlite3, "-batch", db};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = RunProcess(argv);
  if (r.exit_code != 0 || !r.err.empty()) {
    throw std::runtime_error("sqlite3 " + db + " failed: " + r.Describe());
  }
  return r.out;
}

// `.dump` of the named tables, one after the other (schema, rows, indexes and triggers).
inline std::string DumpTables(const std::string& db, const std::vector<std::string>& tables) {
  std::string out;
  for (const std::string& table : tables) {
    out += "-- " + table + "\n" + Sqlite(db, {".dump " + table});
  }
  return out;
}

// The rows of one table, in rowid order, as the sqlite3 shell prints them.
inline std::string TableRows(const std::string& db, const std::string& table) {
  return Sqlite(db, {"SELECT * FROM \"" + table + "\" ORDER BY rowid;"});
}

inline int64_t CountRows(const std::string& db, const std::string& table) {
  return std::stoll(Sqlite(db, {"SELECT count(*) FROM \"" + table + "\";"}));
}

// One entry of a directory tree: kind, permission bits and content (or link target).
struct TreeEntry {
  char kind = '?';  // 'f' file, 'd' directory, 'l' symlink
  unsigned mode = 0;
  std::string content;
  bool operator==(const TreeEntry&) const = default;
};
using Tree = std::map<std::string, TreeEntry>;

// Every entry under `root` (not the root itself) by relative path.
inline Tree ReadTree(const std::string& root) {
  Tree tree;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string path = it->path().string();
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) {
      throw std::runtime_error("cannot stat " + path + ": " + std::strerror(errno));
    }
    TreeEntry entry;
    entry.mode = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      entry.kind = 'd';
    } else if (S_ISLNK(st.st_mode)) {
      entry.kind = 'l';
      entry.mode = 0;
      entry.content = fs::read_symlink(path).string();
    } else if (S_ISREG(st.st_mode)) {
      entry.kind = 'f';
      entry.content = ReadFile(path);
    }
    tree[fs::relative(it->path(), root).string()] = std::move(entry);
  }
  if (ec) throw std::runtime_error("cannot walk " + root + ": " + ec.message());
  return tree;
}

// A readable account of how two trees differ ("" when they are equal).
inline std::string TreeDifference(const Tree& expected, const Tree& actual) {
  std::string out;
  for (const auto& [path, entry] : expected) {
    auto it = actual.find(path);
    if (it == actual.end()) {
      out += "missing: " + path + "\n";
    } else if (it->second.kind != entry.kind) {
      out += "kind differs: " + path + "\n";
    } else if (it->second.mode != entry.mode) {
      out += "mode differs: " + path + "\n";
    } else if (it->second.content != entry.content) {
      out += "content differs: " + path + "\n";
    }
  }
  for (const auto& [path, entry] : actual) {
    if (expected.count(path) == 0) out += "unexpected: " + path + "\n";
  }
  return out;
}

// How many objects the repository holds under `prefix` ("" for all), temporaries excluded.
inline size_t CountObjects(const std::string& repo, const std::string& prefix = "") {
  size_t count = 0;
  std::error_code ec;
  const std::string root = prefix.empty() ? repo : repo + "/" + prefix;
  if (!fs::exists(root)) return 0;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->symlink_status().type() == fs::file_type::regular &&
        it->path().filename().string().find(".tmp-") == std::string::npos) {
      ++count;
    }
  }
  return count;
}

// Every regular file under `dir` (symlinks not followed), sorted.
inline std::vector<std::string> ListFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::exists(dir)) return files;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->symlink_status().type() == fs::file_type::regular) {
      files.push_back(it->path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace lifeboat::testing
