// Seeded mutants of the simulated medium — TEST-ONLY.
//
// Setting the environment variable TEARPROOF_SIM_MUTANT=<name> (read once, at the first Medium
// construction of the process) makes every Medium drop one rule of its persistency semantics. The
// mutants exist only to prove that sim/'s tests detect each broken rule; ctest runs the property
// binary under each one and requires it to fail (docs/persistency.md lists which test kills which).
// The reference enumerator (reference_model.h) never reads the variable. Never set it otherwise.
#pragma once

#include <optional>
#include <string_view>

namespace tearproof::sim {

enum class Mutant : uint8_t {
  kNone,
  kClflushUnordered,  // "clflush-unordered": clflush behaves like clflushopt (needs a fence)
  kPx86NoPrefix,      // "px86-no-prefix": px86 forgets the per-line prefix rule (acts as word8)
  kNtDurable,         // "nt-durable": non-temporal stores are durable without a fence
  kWideStoreAtomic,   // "wide-store-atomic": stores wider than 8 bytes persist at once, untorn
  kSfenceAllLanes,    // "sfence-all-lanes": a fence also commits other lanes' clwb snapshots
};

const char* MutantName(Mutant mutant);
std::optional<Mutant> ParseMutant(std::string_view name);

// The process-wide mutant from TEARPROOF_SIM_MUTANT; kNone when unset. An unknown name aborts
// (INV-SIM-MUTANT-NAME) so that a typo cannot make a mutant test pass vacuously.
Mutant ActiveMutant();

}  // namespace tearproof::sim
