#include "btt/namespace.h"

#include <string>

namespace tearproof::btt {

Status Namespace::CheckRange(uint64_t offset, uint64_t size_bytes) const {
  const uint64_t size = SizeBytes();
  if (offset > size || size_bytes > size - offset) {
    return OutOfRange("namespace access [" + std::to_string(offset) + ", +" +
                      std::to_string(size_bytes) + ") outside namespace of " +
                      std::to_string(size) + " bytes");
  }
  return Status::Ok();
}

}  // namespace tearproof::btt
