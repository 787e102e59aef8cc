#include "util/fletcher.h"

#include "util/assert.h"
#include "util/endian.h"

namespace tearproof {

uint64_t Fletcher64(std::span<const std::byte> data, size_t skip_offset, size_t zero_from) {
  TP_ASSERT(data.size() % 4 == 0, "FLETCHER-WORD-MULTIPLE");
  uint32_t lo = 0;
  uint32_t hi = 0;
  for (size_t off = 0; off < data.size(); off += 4) {
    const bool counted = off < zero_from && (off < skip_offset || off >= skip_offset + 8);
    const uint32_t word = counted ? LoadLe32(data.data() + off) : 0;
    lo += word;
    hi += lo;
  }
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

}  // namespace tearproof
