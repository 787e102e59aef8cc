// Fletcher64: the checksum field counts as zero, an excluded tail counts as zero but still feeds
// hi, and any flipped counted byte changes the result. Golden values were computed independently
// (a few lines of Python following shared/reference/btt-format.md §1.3 and §4.1). Fletcher64 is
// computed in lanes (util/fletcher.cc), so it is also compared, bit for bit, with the definition's
// one-word-at-a-time loop (the implementation it replaced) over random blocks, sizes, skipped
// fields and excluded tails, including every alignment of both offsets.
#include "util/fletcher.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "util/endian.h"
#include "util/prng.h"

namespace tearproof {
namespace {

// The definition (kernel nd_fletcher64, PMDK util_checksum), one word at a time.
uint64_t DefinitionFletcher64(std::span<const std::byte> data, size_t skip_offset,
                              size_t zero_from) {
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

std::array<std::byte, 4096> PatternBlock() {
  std::array<std::byte, 4096> blk;
  for (size_t i = 0; i < blk.size(); ++i) blk[i] = std::byte((i * 7 + 3) & 0xff);
  for (size_t i = 4088; i < 4096; ++i) blk[i] = std::byte{0x11};
  return blk;
}

TEST(Fletcher64, MatchesIndependentGoldenValue) {
  auto blk = PatternBlock();
  EXPECT_EQ(Fletcher64(blk, 4088, blk.size()), 0x5c79c9832032424eULL);
  EXPECT_EQ(DefinitionFletcher64(blk, 4088, blk.size()), 0x5c79c9832032424eULL);
}

TEST(Fletcher64, Cksum2kTailCountsAsZero) {
  auto blk = PatternBlock();
  EXPECT_EQ(Fletcher64(blk, 4088, 2048), 0x8e93af00ff010200ULL);
  EXPECT_EQ(DefinitionFletcher64(blk, 4088, 2048), 0x8e93af00ff010200ULL);
}

TEST(Fletcher64, ChecksumFieldIsIgnored) {
  auto blk = PatternBlock();
  const uint64_t before = Fletcher64(blk, 4088, blk.size());
  blk[4090] = std::byte{0xEE};
  EXPECT_EQ(Fletcher64(blk, 4088, blk.size()), before);
}

TEST(Fletcher64, EveryCountedByteMatters) {
  auto blk = PatternBlock();
  const uint64_t before = Fletcher64(blk, 4088, blk.size());
  for (size_t i = 0; i < 4088; i += 97) {
    auto copy = blk;
    copy[i] ^= std::byte{0x01};
    EXPECT_NE(Fletcher64(copy, 4088, copy.size()), before) << "byte " << i;
  }
}

TEST(Fletcher64, EmptyIsZero) { EXPECT_EQ(Fletcher64({}, 0, 0), 0u); }

// Words of all ones make lo and hi wrap many times: the lanes' sums must wrap exactly as the
// definition's do.
TEST(Fletcher64, WrapsLikeTheDefinition) {
  std::vector<std::byte> blk(4096, std::byte{0xFF});
  for (size_t skip : {size_t{0}, size_t{4088}, size_t{2000}}) {
    for (size_t zero_from : {size_t{4096}, size_t{2048}, size_t{3}}) {
      EXPECT_EQ(Fletcher64(blk, skip, zero_from), DefinitionFletcher64(blk, skip, zero_from))
          << "skip " << skip << " zero_from " << zero_from;
    }
  }
}

// Every size up to a few lane groups, every skip and tail offset (aligned or not, inside, at the
// edge of and past the data, and the largest size_t), over random bytes.
TEST(Fletcher64, EqualsTheDefinitionOnRandomBlocks) {
  Prng prng(0xF1E7C4E5);
  size_t cases = 0;
  for (size_t words = 0; words <= 40; ++words) {
    std::vector<std::byte> blk(words * 4);
    for (auto& b : blk) b = std::byte(prng.Below(256));
    const size_t size = blk.size();
    for (size_t skip = 0; skip <= size + 9; ++skip) {
      for (size_t zero_from : {size_t{0}, size_t{1}, size / 2, size / 2 + 1, size / 2 + 3,
                               size > 0 ? size - 1 : 0, size, size + 5, SIZE_MAX}) {
        ASSERT_EQ(Fletcher64(blk, skip, zero_from), DefinitionFletcher64(blk, skip, zero_from))
            << words << " words, skip " << skip << ", zero_from " << zero_from;
        ++cases;
      }
    }
    ASSERT_EQ(Fletcher64(blk, SIZE_MAX, SIZE_MAX), DefinitionFletcher64(blk, SIZE_MAX, SIZE_MAX));
    ASSERT_EQ(Fletcher64(blk, SIZE_MAX - 3, size), DefinitionFletcher64(blk, SIZE_MAX - 3, size));
  }
  // Info block and pool header sized blocks with random skip/tail, as the BTT and PMDK use them.
  for (int round = 0; round < 200; ++round) {
    std::vector<std::byte> blk(4096);
    for (auto& b : blk) b = std::byte(prng.Below(256));
    const size_t skip = prng.Below(4100);
    const size_t zero_from = prng.Below(4200);
    ASSERT_EQ(Fletcher64(blk, skip, zero_from), DefinitionFletcher64(blk, skip, zero_from))
        << "skip " << skip << ", zero_from " << zero_from;
    ++cases;
  }
  EXPECT_GT(cases, 10000u);  // the loops above really ran
}

}  // namespace
}  // namespace tearproof
