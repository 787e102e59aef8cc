#include "util/fletcher.h"

#include <algorithm>

#include "util/assert.h"
#include "util/endian.h"

namespace tearproof {

// The definition is a loop over every 4-byte word w_i (i < n): lo += w'_i; hi += lo, where w'_i
// is w_i or 0 (skipped or excluded word). Unrolled, that is
//   lo = Σ w'_i,   hi = Σ (n − i) · w'_i   (all mod 2^32).
// Crash exploration checksums two or more 4 KiB info blocks per crash state, so this is computed
// without the per-word branch and the serial lo → hi dependency of that loop:
//   1. Words at byte offset >= zero_from are all at the end; they add nothing to lo and add lo
//      once each to hi, so only the `counted` words before them are loaded, and the tail adds
//      (n − counted) · lo to hi.
//   2. The counted words are summed in kLanes independent lanes (vectorized by the compiler):
//      lane j keeps A_j = Σ_g w_{gK+j} and B_j = Σ_g (G − g) · w_{gK+j} over the G full groups
//      of K = kLanes words (B_j += A_j after each group). For the m = G·K words of the groups,
//      m − i = K·(G − g) − j, so lo_m = Σ_j A_j and hi_m = K · Σ_j B_j − Σ_j j · A_j. The
//      last counted words (fewer than K) continue the definition's loop.
//   3. A word in the skipped field [skip_offset, skip_offset + 8) was added like any other;
//      its contribution (w_i to lo, (n − i) · w_i to hi) is subtracted again.
// Unsigned 32-bit arithmetic wraps, i.e. computes mod 2^32 exactly, so every step above (sums,
// products and differences) gives the definition's result bit for bit; util/fletcher_test.cc
// compares this with the definition's loop over random blocks, skips and tails.
uint64_t Fletcher64(std::span<const std::byte> data, size_t skip_offset, size_t zero_from) {
  TP_ASSERT(data.size() % 4 == 0, "FLETCHER-WORD-MULTIPLE");
  constexpr size_t kLanes = 8;
  const std::byte* const p = data.data();
  const size_t n = data.size() / 4;
  // Word i is counted iff its byte offset 4i < zero_from, i.e. i < ceil(zero_from / 4).
  const size_t counted = std::min(n, zero_from / 4 + (zero_from % 4 != 0 ? 1 : 0));

  uint32_t a[kLanes] = {};
  uint32_t b[kLanes] = {};
  const size_t groups = counted / kLanes;
  for (size_t g = 0; g < groups; ++g) {
    const std::byte* q = p + g * kLanes * 4;
    for (size_t j = 0; j < kLanes; ++j) {
      a[j] += LoadLe32(q + 4 * j);
      b[j] += a[j];
    }
  }
  uint32_t lo = 0;
  uint32_t hi = 0;
  for (size_t j = 0; j < kLanes; ++j) {
    lo += a[j];
    hi += static_cast<uint32_t>(kLanes) * b[j] - static_cast<uint32_t>(j) * a[j];
  }
  for (size_t i = groups * kLanes; i < counted; ++i) {
    lo += LoadLe32(p + 4 * i);
    hi += lo;
  }
  hi += static_cast<uint32_t>(n - counted) * lo;

  // Words i < counted whose offset lies in [skip_offset, skip_offset + 8) (written without
  // skip_offset + 8, which may overflow).
  for (size_t i = skip_offset / 4; i < counted; ++i) {
    const size_t off = 4 * i;
    if (off < skip_offset) continue;
    if (off - skip_offset >= 8) break;
    const uint32_t w = LoadLe32(p + off);
    lo -= w;
    hi -= static_cast<uint32_t>(n - i) * w;
  }
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

}  // namespace tearproof
