// Check: prove that a repository holds everything its backups need.
//
// Structure (always): every index entry points into a pack that exists; every blob that a
// manifest needs (table rows, the files list and file contents, through their trees) is
// indexed and its pack exists. With read_data: every pack is read whole, its header parsed,
// and every blob decrypted, decompressed and re-hashed against its id.
//
// Damage is reported per object ("pack data/3f/3fa2… blob 7: authentication failed") and
// makes the result not ok; packs that no index names (left by an interrupted backup) are
// warnings, because nothing refers to them. Memory: one pack (read_data) or one tree at a
// time, plus the set of pack ids.
//
// Thread-safety: one check per call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/cancellation.h"
#include "lifeboat/progress.h"
#include "repo/repository.h"

namespace lifeboat {

struct CheckReport {
  uint64_t snapshots = 0;
  uint64_t packs = 0;
  uint64_t index_entries = 0;
  uint64_t blobs_referenced = 0;  // blob references followed from manifests
  uint64_t blobs_read = 0;        // blobs decrypted and re-hashed (read_data)
  uint64_t bytes_read = 0;
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  bool ok() const { return errors.empty(); }
};

Result<CheckReport> RunCheck(Repository* repo, bool read_data, ProgressSink* progress,
                             CancellationToken* cancel);

}  // namespace lifeboat
