// Operation: what every backup, restore, import, promote and clone shares around its data
// path: the activity log (requested, started, completed or failed, FORMAT.md §12) and the
// instance's lease (§11), which makes operations on one instance exclude each other across
// processes and machines.
//
// RunOperation logs `requested`, takes the lease (a busy instance fails at once with Aborted,
// exit code 4, naming who holds it and since when, and is logged as failed), logs `started`,
// runs the body with a token that is cancelled when the caller cancels or the lease is lost,
// and logs the outcome with the body's figures. Logging failures never hide the body's own
// result.
//
// Thread-safety: one operation per call; the repository may be shared.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/cancellation.h"
#include "repo/repository.h"

namespace lifeboat {

struct OperationInfo {
  std::string operation;  // "backup", "restore", ...
  std::string instance;
  std::string account;
  std::string name;
  std::string notes;
  std::string user;
  std::string host;
  int64_t pid = 0;
};

struct OperationReport {
  std::string snapshot;
  nlohmann::json figures = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> table_errors;
  std::string outcome = "ok";
};

using OperationBody = std::function<Status(CancellationToken* cancel, OperationReport* report)>;

// `on_notice` receives lines worth showing (a stale lock that was removed).
Status RunOperation(Repository* repo, const OperationInfo& info, CancellationToken* cancel,
                    const std::function<void(const std::string&)>& on_notice,
                    const OperationBody& body);

}  // namespace lifeboat
