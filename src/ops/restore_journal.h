// The restore journal (FORMAT.md section 13): what a restore that replaces both a database and
// a files directory leaves beside the files directory while the two are not yet in step.
//
// A restore stages the backup's tree, then writes `<root>.lifeboat-restore` (durably) naming
// the staged tree and the database's commit token, commits the database, swaps the tree in and
// removes the journal. A process that finds a journal asks the database whether the token's
// transaction committed: if it did, it finishes the swap; if not, it removes the staged tree.
// So a crash at any point leaves the database and the files directory both as they were or
// both restored, once the next Lifeboat operation on the instance has run.
//
// Thread-safety: free functions; the caller holds the instance (DESIGN.md section 5).
// Errors: the file system's, naming the journal; DataLoss for a journal that does not parse.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lifeboat/status.h"

namespace lifeboat {

struct RestoreJournal {
  std::string staging;          // the staged tree's name, in the root's parent directory
  uint64_t staging_device = 0;  // st_dev and st_ino of the staged tree: after the swap they
  uint64_t staging_inode = 0;   // are the root's, which tells a finished swap from a pending one
  std::string token;            // RestoreTransaction::RecordCommitToken
  int64_t created_nanos = 0;
};

// "<root name>.lifeboat-restore".
std::string RestoreJournalName(const std::string& root_name);

// Writes the journal in the directory `parent_fd` under a temporary name, syncs it, renames it
// into place and syncs the directory. `display` names the journal in errors.
Status WriteRestoreJournal(int parent_fd, const std::string& root_name,
                           const RestoreJournal& journal, const std::string& display);
// nullopt when there is none.
Result<std::optional<RestoreJournal>> ReadRestoreJournal(int parent_fd,
                                                         const std::string& root_name,
                                                         const std::string& display);
// Removes the journal (and a temporary one a crash left) and syncs the directory.
Status RemoveRestoreJournal(int parent_fd, const std::string& root_name,
                            const std::string& display);

}  // namespace lifeboat
