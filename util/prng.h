// Deterministic pseudo-random numbers: the only source of randomness in tearproof.
//
// Contract: the sequence depends only on the seed (and, for Fork, on the parent's state and the
// tag). Same seed, same numbers, on every platform and build type. Not thread-safe: give each
// lane or sub-generator its own Prng via Fork. Algorithm: xoshiro256** seeded through SplitMix64
// (public-domain algorithms by Blackman and Vigna), chosen for speed and a 2^256 period.
#pragma once

#include <cstdint>

#include "util/assert.h"

namespace tearproof {

// One step of SplitMix64: a good 64-bit mixer, also used to derive seeds.
constexpr uint64_t SplitMix64(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ULL;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Prng {
 public:
  explicit Prng(uint64_t seed) : seed_(seed) {
    uint64_t sm = seed;
    for (uint64_t& word : s_) word = SplitMix64(sm);
  }

  uint64_t seed() const { return seed_; }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, bound). REQUIRES: bound > 0. Rejection sampling: no modulo bias.
  uint64_t Below(uint64_t bound) {
    TP_ASSERT(bound > 0, "PRNG-BOUND-POSITIVE");
    const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    for (;;) {
      const uint64_t x = Next();
      if (x < limit) return x % bound;
    }
  }

  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  uint64_t Range(uint64_t lo, uint64_t hi) {
    TP_ASSERT(lo <= hi, "PRNG-RANGE-ORDERED");
    if (hi - lo == UINT64_MAX) return Next();
    return lo + Below(hi - lo + 1);
  }

  // True with probability numerator/denominator.
  bool Chance(uint64_t numerator, uint64_t denominator) { return Below(denominator) < numerator; }

  // An independent generator derived from this one's next output and a tag, so that sub-streams
  // (per lane, per phase) do not shift when another sub-stream draws more numbers.
  Prng Fork(uint64_t tag) {
    uint64_t sm = Next() ^ (tag * 0xD1B54A32D192ED03ULL);
    return Prng(SplitMix64(sm));
  }

 private:
  static constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t seed_;
  uint64_t s_[4];
};

}  // namespace tearproof
