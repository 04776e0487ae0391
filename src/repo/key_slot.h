// Master key and password slots (FORMAT.md §2, §3).
//
// The master key (96 random bytes: encryption, id and chunker keys) is made once by `init`
// and never changes. Each password slot (`keys/<id>`) seals it under a key derived from one
// password with scrypt, so passwords can be added and removed without re-encrypting data.
//
// Thread-safety: values. Errors: OpenKeySlot returns Unauthenticated for a wrong password and
// DataLoss for a slot that is not valid JSON of version 1.
#pragma once

#include <string>
#include <string_view>

#include "codec/kdf.h"
#include "lifeboat/status.h"

namespace lifeboat {

struct MasterKey {
  std::string encryption_key;  // 32 bytes, AES-256-GCM
  std::string id_key;          // 32 bytes, HMAC-SHA-256 of blob ids
  std::string chunker_key;     // 32 bytes, gear table

  static MasterKey Generate();
};

struct KeySlotInfo {
  std::string user;
  std::string host;
  int64_t created_nanos = 0;
};

// Returns the JSON text of a new slot sealing `key` under `password`.
std::string CreateKeySlot(const MasterKey& key, std::string_view password,
                          const ScryptParams& params, const KeySlotInfo& info);

// `slot_name` only names the slot in messages.
Result<MasterKey> OpenKeySlot(std::string_view slot_json, std::string_view password,
                              std::string_view slot_name);

}  // namespace lifeboat
