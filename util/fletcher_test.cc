// Fletcher64: the checksum field counts as zero, an excluded tail counts as zero but still feeds
// hi, and any flipped counted byte changes the result. Golden values were computed independently
// (a few lines of Python following shared/reference/btt-format.md §1.3 and §4.1).
#include "util/fletcher.h"

#include <gtest/gtest.h>

#include <array>

namespace tearproof {
namespace {

std::array<std::byte, 4096> PatternBlock() {
  std::array<std::byte, 4096> blk;
  for (size_t i = 0; i < blk.size(); ++i) blk[i] = std::byte((i * 7 + 3) & 0xff);
  for (size_t i = 4088; i < 4096; ++i) blk[i] = std::byte{0x11};
  return blk;
}

TEST(Fletcher64, MatchesIndependentGoldenValue) {
  auto blk = PatternBlock();
  EXPECT_EQ(Fletcher64(blk, 4088, blk.size()), 0x5c79c9832032424eULL);
}

TEST(Fletcher64, Cksum2kTailCountsAsZero) {
  auto blk = PatternBlock();
  EXPECT_EQ(Fletcher64(blk, 4088, 2048), 0x8e93af00ff010200ULL);
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

}  // namespace
}  // namespace tearproof
