#include "util/assert.h"

#include <cstdio>
#include <cstdlib>

namespace tearproof {
namespace {
thread_local bool seed_set = false;
thread_local uint64_t current_seed = 0;
}  // namespace

void SetAssertSeed(uint64_t seed) {
  seed_set = true;
  current_seed = seed;
}

void ClearAssertSeed() { seed_set = false; }

void AssertFail(const char* expr, const char* invariant, const char* file, int line) {
  std::fprintf(stderr, "tearproof: assertion failed: %s\n  invariant: %s\n  at: %s:%d\n", expr,
               invariant, file, line);
  if (seed_set) {
    std::fprintf(stderr, "  seed: %llu\n", static_cast<unsigned long long>(current_seed));
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace tearproof
