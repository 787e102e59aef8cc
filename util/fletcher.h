// The Fletcher-64 checksum of BTT info blocks and PMDK pool headers.
//
// The block is read as little-endian u32 words; lo and hi start at 0; for each word,
// lo += w and hi += lo, both mod 2^32; the result is (hi << 32) | lo. Words that overlap the
// checksum field itself, or lie in an excluded tail, count as zero but still take part in the
// loop (so hi keeps accumulating lo). This is the Linux kernel's nd_fletcher64 and PMDK's
// util_checksum; see shared/reference/btt-format.md §1.3 and §4.1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tearproof {

// Fletcher-64 over `data` (size a multiple of 4). Words whose byte offset lies in
// [skip_offset, skip_offset + 8) are taken as zero, and so is every word at byte offset
// >= zero_from (pass data.size() for none). REQUIRES: data.size() % 4 == 0.
uint64_t Fletcher64(std::span<const std::byte> data, size_t skip_offset, size_t zero_from);

}  // namespace tearproof
