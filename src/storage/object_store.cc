#include "storage/object_store.h"

#include <string>

namespace lifeboat {
namespace {

// Renders a key for an error message: printable ASCII as is, anything else as \xNN, so that a
// NUL byte or a control character in a rejected key shows up instead of cutting the message.
std::string PrintableKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '"') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  out += '"';
  return out;
}

Status Invalid(std::string_view what, std::string_view key, std::string_view why) {
  std::string message = "invalid object ";
  message += what;
  message += ' ';
  message += PrintableKey(key);
  message += ": ";
  message += why;
  return InvalidArgumentError(std::move(message));
}

// Checks the characters every key and prefix must avoid, and a leading '/'.
Status CheckCharacters(std::string_view what, std::string_view key) {
  if (!key.empty() && key.front() == '/') return Invalid(what, key, "must not start with '/'");
  if (key.find('\0') != std::string_view::npos) {
    return Invalid(what, key, "must not contain a NUL byte");
  }
  if (key.find('\\') != std::string_view::npos) {
    return Invalid(what, key, "must not contain a backslash");
  }
  return OkStatus();
}

// Checks one complete component (between two '/' or the ends of a key).
Status CheckComponent(std::string_view what, std::string_view key, std::string_view component) {
  if (component.empty()) return Invalid(what, key, "must not contain an empty component");
  if (component == "." || component == "..") {
    return Invalid(what, key, "must not contain a \".\" or \"..\" component");
  }
  if (component.find(".tmp-") != std::string_view::npos) {
    return Invalid(what, key, "\".tmp-\" is reserved for temporaries");
  }
  return OkStatus();
}

}  // namespace

Status ValidateObjectKey(std::string_view key) {
  if (key.empty()) return Invalid("key", key, "must not be empty");
  LB_RETURN_IF_ERROR(CheckCharacters("key", key));
  size_t start = 0;
  while (true) {
    const size_t slash = key.find('/', start);
    const std::string_view component =
        key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    LB_RETURN_IF_ERROR(CheckComponent("key", key, component));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return OkStatus();
}

Status ValidateObjectKeyPrefix(std::string_view prefix) {
  LB_RETURN_IF_ERROR(CheckCharacters("key prefix", prefix));
  // Only the components followed by a '/' are complete; the rest is a filter on names.
  size_t start = 0;
  for (size_t slash = prefix.find('/'); slash != std::string_view::npos;
       slash = prefix.find('/', start)) {
    LB_RETURN_IF_ERROR(CheckComponent("key prefix", prefix, prefix.substr(start, slash - start)));
    start = slash + 1;
  }
  return OkStatus();
}

}  // namespace lifeboat
