#include "repo/key_slot.h"

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/encoding.h"
#include "codec/aead.h"
#include "codec/random.h"

namespace lifeboat {
namespace {

constexpr char kSlotAssociatedData[] = "lifeboat:key-slot";
constexpr size_t kKeyBytes = 32;

}  // namespace

MasterKey MasterKey::Generate() {
  return MasterKey{RandomBytes(kKeyBytes), RandomBytes(kKeyBytes), RandomBytes(kKeyBytes)};
}

std::string CreateKeySlot(const MasterKey& key, std::string_view password,
                          const ScryptParams& params, const KeySlotInfo& info) {
  std::string salt = RandomBytes(32);
  Result<std::string> kek = Scrypt(password, salt, params, Aead::kKeySize);
  assert(kek.ok() && "scrypt parameters are validated by the caller");
  std::string plain = key.encryption_key + key.id_key + key.chunker_key;
  std::string sealed;
  Aead(*kek).Seal(plain, kSlotAssociatedData, &sealed);
  nlohmann::json slot = {
      {"version", 1},
      {"kdf", "scrypt"},
      {"n", params.n},
      {"r", params.r},
      {"p", params.p},
      {"salt", ToHex(salt)},
      {"created", FormatRfc3339(info.created_nanos)},
      {"user", info.user},
      {"host", info.host},
      {"sealed", ToHex(sealed)},
  };
  return slot.dump(2) + "\n";
}

Result<MasterKey> OpenKeySlot(std::string_view slot_json, std::string_view password,
                              std::string_view slot_name) {
  const std::string what = "password slot " + std::string(slot_name);
  nlohmann::json slot = nlohmann::json::parse(slot_json, nullptr, /*allow_exceptions=*/false);
  if (slot.is_discarded() || !slot.is_object()) {
    return DataLossError(what + " is not valid JSON");
  }
  if (slot.value("version", 0) != 1 || slot.value("kdf", "") != "scrypt") {
    return DataLossError(what + " has an unknown version or KDF: upgrade Lifeboat");
  }
  ScryptParams params;
  params.n = slot.value("n", uint64_t{0});
  params.r = slot.value("r", uint32_t{0});
  params.p = slot.value("p", uint32_t{0});
  std::optional<std::string> salt = FromHex(slot.value("salt", ""));
  std::optional<std::string> sealed = FromHex(slot.value("sealed", ""));
  if (!salt || !sealed) return DataLossError(what + " has a malformed salt or key");
  LB_ASSIGN_OR_RETURN(std::string kek, Scrypt(password, *salt, params, Aead::kKeySize));
  std::string plain;
  if (!Aead(kek).Open(*sealed, kSlotAssociatedData, &plain).ok()) {
    return UnauthenticatedError("wrong password");
  }
  if (plain.size() != 3 * kKeyBytes) return DataLossError(what + " holds a key of the wrong size");
  return MasterKey{plain.substr(0, kKeyBytes), plain.substr(kKeyBytes, kKeyBytes),
                   plain.substr(2 * kKeyBytes)};
}

}  // namespace lifeboat
