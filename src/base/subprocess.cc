#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file_descriptor.h"

extern char** environ;

namespace lifeboat {
namespace {

constexpr size_t kStderrKeepBytes = 4096;

}  // namespace

Status RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                  const std::function<Status(std::string_view)>& on_stdout,
                  CancellationToken* cancel) {
  if (argv.empty()) return InvalidArgumentError("no program to run");
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    return UnavailableError("cannot create a pipe for " + argv[0] + ": " + std::strerror(errno));
  }
  FileDescriptor out_read(out_pipe[0]), out_write(out_pipe[1]);
  FileDescriptor err_read(err_pipe[0]), err_write(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> merged = env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const std::string& added : env) replaced |= added.substr(0, added.find('=')) == name;
    if (!replaced) merged.emplace_back(entry);
  }
  std::vector<char*> envp;
  for (std::string& e : merged) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0].c_str(), &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  out_write.Reset();
  err_write.Reset();
  if (rc != 0) {
    if (rc == ENOENT) return NotFoundError(argv[0] + " is not installed (not found in PATH)");
    return UnavailableError("cannot start " + argv[0] + ": " + std::strerror(rc));
  }

  Status status;
  std::string err_tail;
  std::string buf(1 << 16, '\0');
  int fds[2] = {out_read.get(), err_read.get()};
  while (fds[0] >= 0 || fds[1] >= 0) {
    pollfd polled[2];
    nfds_t n = 0;
    for (int fd : fds) {
      if (fd >= 0) polled[n++] = {fd, POLLIN, 0};
    }
    if (poll(polled, n, 200) < 0 && errno != EINTR) break;
    if (status.ok() && cancel != nullptr) status = cancel->Check();
    for (nfds_t i = 0; i < n; ++i) {
      if (polled[i].revents == 0) continue;
      ssize_t got = read(polled[i].fd, buf.data(), buf.size());
      int& fd = polled[i].fd == fds[0] ? fds[0] : fds[1];
      if (got <= 0) {
        if (got < 0 && errno == EINTR) continue;
        fd = -1;
        continue;
      }
      std::string_view data(buf.data(), static_cast<size_t>(got));
      if (&fd == &fds[0]) {
        if (status.ok()) status = on_stdout(data);
      } else {
        err_tail.append(data);
        if (err_tail.size() > kStderrKeepBytes)
          err_tail.erase(0, err_tail.size() - kStderrKeepBytes);
      }
    }
    if (!status.ok()) {
      kill(pid, SIGTERM);
      break;
    }
  }
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (!status.ok()) return status;
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) return OkStatus();
  while (!err_tail.empty() && (err_tail.back() == '\n' || err_tail.back() == ' ')) {
    err_tail.pop_back();
  }
  std::string how = WIFEXITED(wait_status)
                        ? "exit status " + std::to_string(WEXITSTATUS(wait_status))
                        : "signal " + std::to_string(WTERMSIG(wait_status));
  return InternalError(argv[0] + " failed (" + how + ")" +
                       (err_tail.empty() ? "" : ": " + err_tail));
}

}  // namespace lifeboat
