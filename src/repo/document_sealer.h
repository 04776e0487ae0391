// DocumentSealer: seals and opens the repository's JSON documents (config, manifests,
// leases, activity-log events) as FORMAT.md §4 says: seal(encryption key, zstd(JSON),
// "lifeboat:<kind>"). The kind in the associated data keeps one kind of document from being
// passed off as another.
//
// Thread-safety: const methods are safe to call concurrently.
// Errors: Open returns DataLoss naming the object when authentication, decompression or JSON
// parsing fails.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "codec/aead.h"
#include "lifeboat/status.h"

namespace lifeboat {

class DocumentSealer {
 public:
  explicit DocumentSealer(std::string_view encryption_key) : aead_(encryption_key) {}

  std::string Seal(std::string_view kind, const nlohmann::json& document) const;
  // `object_name` only names the object in error messages.
  Result<nlohmann::json> Open(std::string_view kind, std::string_view sealed,
                              std::string_view object_name) const;

 private:
  Aead aead_;
};

}  // namespace lifeboat
