// SnapshotCatalog: finding backups in a repository by id prefix, `latest`, instance or
// account. Loads manifests one at a time; keeps only the fields needed to list and choose.
//
// Thread-safety: functions; the repository is shared. Errors: NotFound for an unknown id,
// InvalidArgument for an ambiguous prefix (naming the candidates).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ops/manifest.h"
#include "repo/repository.h"

namespace lifeboat {

struct SnapshotFilter {
  std::optional<std::string> instance;
  std::optional<std::string> account;
};

// Every manifest that passes the filter, oldest first (by finish time, then id). A manifest
// that does not open (DataLoss: damaged or altered) is left out, and named with its error in
// `damaged` when given, so that one bad file stops neither the listing, nor `latest`, nor the
// next backup; opening it by its id still fails, and `lifeboat check` reports it.
Result<std::vector<Manifest>> ListManifests(Repository* repo, const SnapshotFilter& filter,
                                            std::vector<std::string>* damaged = nullptr);

// `ref` is "latest" (the newest that passes the filter and is not a safety backup taken by a
// restore) or a unique prefix of an id.
Result<Manifest> FindManifest(Repository* repo, const std::string& ref,
                              const SnapshotFilter& filter = {});

}  // namespace lifeboat
