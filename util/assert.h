// Always-on assertions for programmer errors and broken internal invariants.
//
// TP_ASSERT(cond, "INV-NAME") is compiled into every build type. On failure it prints the
// expression, the source location, the invariant's name (as numbered in docs/), and the seed of
// the simulation that is running (if any), then aborts. Never use it on bytes read from a medium:
// those are untrusted input and get a Status.
#pragma once

#include <cstdint>

namespace tearproof {

[[noreturn]] void AssertFail(const char* expr, const char* invariant, const char* file, int line);

// The seed printed by a failing assertion. Harnesses set it when a seeded run starts, so the
// crash message names the command that replays it. Thread-local: each thread runs its own sims.
void SetAssertSeed(uint64_t seed);
void ClearAssertSeed();

}  // namespace tearproof

#define TP_ASSERT(cond, invariant)                                               \
  do {                                                                           \
    if (__builtin_expect(!(cond), 0)) {                                          \
      ::tearproof::AssertFail(#cond, invariant, __FILE__, __LINE__);             \
    }                                                                            \
  } while (0)
