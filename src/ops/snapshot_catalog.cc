#include "ops/snapshot_catalog.h"

#include <algorithm>

namespace lifeboat {

Result<std::vector<Manifest>> ListManifests(Repository* repo, const SnapshotFilter& filter,
                                            std::vector<std::string>* damaged) {
  std::vector<std::string> ids;
  LB_RETURN_IF_ERROR(repo->ListSnapshotIds([&](const std::string& id) {
    ids.push_back(id);
    return OkStatus();
  }));
  std::vector<Manifest> manifests;
  for (const std::string& id : ids) {
    Result<nlohmann::json> json = repo->LoadSnapshot(id);
    Result<Manifest> loaded = json.ok() ? ManifestFromJson(*json, id) : json.status();
    if (!loaded.ok() && loaded.status().code() == StatusCode::kDataLoss) {
      if (damaged) damaged->push_back(loaded.status().ToString());
      continue;
    }
    if (!loaded.ok()) return loaded.status();
    Manifest& manifest = *loaded;
    if (filter.instance && manifest.instance != *filter.instance) continue;
    if (filter.account && manifest.account != *filter.account) continue;
    manifests.push_back(std::move(manifest));
  }
  std::sort(manifests.begin(), manifests.end(), [](const Manifest& a, const Manifest& b) {
    if (a.finished_nanos != b.finished_nanos) return a.finished_nanos < b.finished_nanos;
    return a.id < b.id;
  });
  return manifests;
}

Result<Manifest> FindManifest(Repository* repo, const std::string& ref,
                              const SnapshotFilter& filter) {
  if (ref.empty()) return InvalidArgumentError("no backup named: give an id prefix or 'latest'");
  if (ref == "latest") {
    LB_ASSIGN_OR_RETURN(std::vector<Manifest> all, ListManifests(repo, filter));
    // Safety backups are taken by restores; `latest` means the newest one someone asked for.
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if (std::find(it->tags.begin(), it->tags.end(), "safety") == it->tags.end()) {
        return std::move(*it);
      }
    }
    std::string scope = filter.instance ? " of instance " + *filter.instance : "";
    return NotFoundError("there is no backup" + scope + " in the repository yet");
  }
  std::vector<std::string> matches;
  LB_RETURN_IF_ERROR(repo->ListSnapshotIds([&](const std::string& id) {
    if (id.compare(0, ref.size(), ref) == 0) matches.push_back(id);
    return OkStatus();
  }));
  if (matches.empty()) {
    return NotFoundError("backup " + ref +
                         " does not exist: `lifeboat snapshots` lists the backups");
  }
  if (matches.size() > 1) {
    std::sort(matches.begin(), matches.end());
    std::string list;
    for (const std::string& m : matches) list += (list.empty() ? "" : ", ") + m.substr(0, 12);
    return InvalidArgumentError("backup id prefix " + ref + " is ambiguous (" + list +
                                "): give more characters");
  }
  LB_ASSIGN_OR_RETURN(nlohmann::json json, repo->LoadSnapshot(matches[0]));
  return ManifestFromJson(json, matches[0]);
}

}  // namespace lifeboat
