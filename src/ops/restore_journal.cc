#include "ops/restore_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/file_descriptor.h"
#include "ops/files_entry.h"

namespace lifeboat {
namespace {

constexpr int kJournalFormat = 1;
constexpr size_t kMaxJournalBytes = 64 << 10;

std::string TemporaryName(const std::string& root_name) {
  return RestoreJournalName(root_name) + ".tmp";
}

Status JournalError(int err, const std::string& action, const std::string& display) {
  return UnavailableError("cannot " + action + " restore journal " + QuoteFilesPath(display) +
                          ": " + std::strerror(err));
}

}  // namespace

std::string RestoreJournalName(const std::string& root_name) {
  return root_name + ".lifeboat-restore";
}

Status WriteRestoreJournal(int parent_fd, const std::string& root_name,
                           const RestoreJournal& journal, const std::string& display) {
  const nlohmann::json doc = {{"format", kJournalFormat},
                              {"staging", journal.staging},
                              {"staging_device", journal.staging_device},
                              {"staging_inode", journal.staging_inode},
                              {"token", journal.token},
                              {"created", FormatRfc3339(journal.created_nanos)}};
  const std::string text = doc.dump() + "\n";
  const std::string tmp = TemporaryName(root_name);
  FileDescriptor fd(::openat(parent_fd, tmp.c_str(),
                             O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return JournalError(errno, "create", display);
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return JournalError(errno, "write", display);
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd.get()) != 0) return JournalError(errno, "sync", display);
  fd.Reset();
  if (::renameat(parent_fd, tmp.c_str(), parent_fd, RestoreJournalName(root_name).c_str()) != 0) {
    return JournalError(errno, "put in place", display);
  }
  if (::fsync(parent_fd) != 0) return JournalError(errno, "sync the directory of", display);
  return OkStatus();
}

Result<std::optional<RestoreJournal>> ReadRestoreJournal(int parent_fd,
                                                         const std::string& root_name,
                                                         const std::string& display) {
  FileDescriptor fd(::openat(parent_fd, RestoreJournalName(root_name).c_str(),
                             O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<RestoreJournal>();
    return JournalError(errno, "open", display);
  }
  std::string text(kMaxJournalBytes, '\0');
  size_t size = 0;
  while (size < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + size, text.size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return JournalError(errno, "read", display);
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  text.resize(size);
  const std::string damaged = "restore journal " + QuoteFilesPath(display) +
                              " is damaged; look at the trees beside it, keep the right one as "
                              "the files directory, then delete the journal";
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || doc.value("format", 0) != kJournalFormat || !doc.contains("staging") ||
      !doc["staging"].is_string() || !doc.contains("token") || !doc["token"].is_string() ||
      !doc.contains("staging_inode") || !doc["staging_inode"].is_number_unsigned() ||
      !doc.contains("staging_device") || !doc["staging_device"].is_number_unsigned()) {
    return DataLossError(damaged);
  }
  RestoreJournal journal;
  journal.staging = doc["staging"].get<std::string>();
  journal.staging_device = doc["staging_device"].get<uint64_t>();
  journal.staging_inode = doc["staging_inode"].get<uint64_t>();
  journal.token = doc["token"].get<std::string>();
  if (journal.staging.empty() || journal.staging.find('/') != std::string::npos ||
      journal.staging == "." || journal.staging == "..") {
    return DataLossError(damaged);
  }
  ParseRfc3339(doc.value("created", ""), &journal.created_nanos);
  return std::optional<RestoreJournal>(std::move(journal));
}

Status RemoveRestoreJournal(int parent_fd, const std::string& root_name,
                            const std::string& display) {
  for (const std::string& name : {RestoreJournalName(root_name), TemporaryName(root_name)}) {
    if (::unlinkat(parent_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      return JournalError(errno, "remove", display);
    }
  }
  if (::fsync(parent_fd) != 0) return JournalError(errno, "sync the directory of", display);
  return OkStatus();
}

}  // namespace lifeboat
