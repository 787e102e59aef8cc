// Prng: determinism (same seed, same stream), independence of forks, bounds respected.
#include "util/prng.h"

#include <gtest/gtest.h>

#include <array>
#include <set>

namespace tearproof {
namespace {

TEST(Prng, SameSeedSameStream) {
  Prng a(42), b(42);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.Next(), b.Next());
}

TEST(Prng, DifferentSeedsDiffer) {
  Prng a(1), b(2);
  int equal = 0;
  for (int i = 0; i < 100; ++i) equal += a.Next() == b.Next();
  EXPECT_LT(equal, 2);
}

TEST(Prng, GoldenValuesNeverChange) {
  // Traces store seeds, so the stream for a seed is part of the trace format: pin it.
  // The first SplitMix64 output for state 0 is the published reference value.
  uint64_t sm = 0;
  EXPECT_EQ(SplitMix64(sm), 0xE220A8397B1DCDAFULL);
  Prng p(0);
  const uint64_t first = p.Next();
  Prng q(0);
  EXPECT_EQ(q.Next(), first);
  EXPECT_NE(first, 0u);
}

TEST(Prng, BelowStaysInBoundAndCoversIt) {
  Prng p(7);
  std::array<int, 5> seen{};
  for (int i = 0; i < 5000; ++i) {
    uint64_t v = p.Below(5);
    ASSERT_LT(v, 5u);
    ++seen[v];
  }
  for (int count : seen) EXPECT_GT(count, 800);
}

TEST(Prng, RangeIsInclusive) {
  Prng p(9);
  std::set<uint64_t> values;
  for (int i = 0; i < 1000; ++i) values.insert(p.Range(3, 5));
  EXPECT_EQ(values, (std::set<uint64_t>{3, 4, 5}));
}

TEST(Prng, ForkIsDeterministicAndIndependentOfSiblingUse) {
  Prng parent1(5), parent2(5);
  Prng a1 = parent1.Fork(1);
  Prng b1 = parent1.Fork(2);
  Prng a2 = parent2.Fork(1);
  for (int i = 0; i < 50; ++i) a2.Next();  // drawing from a sibling does not shift b
  Prng b2 = parent2.Fork(2);
  EXPECT_EQ(b1.Next(), b2.Next());
  EXPECT_NE(a1.Next(), b1.Next());
}

TEST(PrngDeathTest, BelowZeroAborts) {
  Prng p(1);
  EXPECT_DEATH((void)p.Below(0), "PRNG-BOUND-POSITIVE");
}

}  // namespace
}  // namespace tearproof
