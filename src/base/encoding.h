// Little helpers for the byte layouts in docs/FORMAT.md: fixed-width little-endian integers,
// LEB128 varints, zigzag for signed values, and lower-case hex.
//
// Byte strings are std::string (binary-safe) and views are std::string_view, as in LevelDB.
// Get* functions consume from the front of the view and return false on truncated input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lifeboat {

void PutFixed32(std::string* dst, uint32_t value);
void PutFixed64(std::string* dst, uint64_t value);
void PutVarint64(std::string* dst, uint64_t value);
// Varint length prefix, then the bytes.
void PutLengthPrefixed(std::string* dst, std::string_view value);

uint32_t DecodeFixed32(const char* p);
uint64_t DecodeFixed64(const char* p);

bool GetFixed32(std::string_view* in, uint32_t* value);
bool GetFixed64(std::string_view* in, uint64_t* value);
bool GetVarint64(std::string_view* in, uint64_t* value);
bool GetLengthPrefixed(std::string_view* in, std::string_view* value);
bool GetBytes(std::string_view* in, size_t n, std::string_view* value);

inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

std::string ToHex(std::string_view bytes);
// Returns nullopt on odd length or a non-hex character.
std::optional<std::string> FromHex(std::string_view hex);

}  // namespace lifeboat
