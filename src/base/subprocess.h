// RunProcess: runs a helper program (pg_dump) to completion, streaming its standard output to
// a callback and keeping the end of its standard error for the error message.
//
// The child starts with an empty signal mask and default dispositions (the CLI blocks
// SIGINT and SIGTERM in its own threads), stdin from /dev/null, and the parent's environment.
// A cancelled token kills the child (SIGTERM) and returns the token's reason.
//
// Thread-safety: one call per thread; calls may run concurrently.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/cancellation.h"
#include "lifeboat/status.h"

namespace lifeboat {

// `argv[0]` is looked up in PATH. Fails with NotFound when the program is missing, with
// Internal (naming the program, its exit status and the last lines of its stderr) when it
// exits non-zero, and with the callback's error (after killing the child) when it fails.
// `env` adds or replaces variables ("NAME=value") in the child's environment (a password
// travels there rather than on the command line, where every user can read it).
Status RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                  const std::function<Status(std::string_view)>& on_stdout,
                  CancellationToken* cancel);

}  // namespace lifeboat
