#include "base/byte_stream.h"

#include <algorithm>
#include <cstring>

namespace lifeboat {

Status ByteReader::ReadExactly(char* buf, size_t n, const char* what) {
  size_t done = 0;
  while (done < n) {
    LB_ASSIGN_OR_RETURN(size_t got, Read(buf + done, n - done));
    if (got == 0) {
      return DataLossError(std::string(what) + " is truncated: expected " + std::to_string(n) +
                           " more bytes, found " + std::to_string(done));
    }
    done += got;
  }
  return OkStatus();
}

Result<size_t> StringReader::Read(char* buf, size_t n) {
  size_t take = std::min(n, data_.size());
  if (take > 0) std::memcpy(buf, data_.data(), take);
  data_.remove_prefix(take);
  return take;
}

}  // namespace lifeboat
