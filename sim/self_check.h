// The medium's self-check campaign: random small programs run through sim::Medium and through the
// independent reference enumerator (reference_model.h) in all three persistency models.
//
// For every program and model it compares, as sets of region images: eager enumeration
// (Medium::ForEachCrashState), the lazy view driven by an odometer (Medium::LazyCrash, reading the
// words in a random order), and the reference; it checks that CrashSpace() counts exactly the
// enumerated states, that the recorded event log equals the program, and the inclusions
// eadr ⊆ px86 ⊆ word8. Deterministic in the seed; the default takes well under a second.
// The CLI's `prove` command prints the summary.
#pragma once

#include <cstdint>
#include <string>

namespace tearproof::sim {

struct SelfCheckOptions {
  uint64_t seed = 1;
  uint32_t programs = 300;
  uint32_t max_stores = 8;
  uint32_t lanes = 3;
  bool stop_at_first_mismatch = false;  // for mutant tests: a failing campaign ends at once
};

struct SelfCheckSummary {
  uint32_t programs_run = 0;
  uint32_t programs_skipped = 0;  // too large for the reference (counted, not compared)
  // Crash states compared against the reference, per model (index: 0 px86, 1 word8, 2 eadr).
  uint64_t crash_states_compared[3] = {0, 0, 0};
  uint64_t lazy_runs = 0;          // odometer runs of the lazy views
  uint64_t inclusion_checks = 0;   // eadr ⊆ px86 and px86 ⊆ word8, per program
  uint64_t mismatches = 0;
  std::string first_mismatch;      // empty when mismatches == 0; names seed and program index
  bool ok() const { return mismatches == 0 && programs_run > 0; }
  // A few lines for humans, e.g. for `tearproof prove`.
  std::string ToString() const;
};

SelfCheckSummary RunSelfCheck(const SelfCheckOptions& options);

}  // namespace tearproof::sim
