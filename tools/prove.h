// The proof-of-atomicity campaign behind `tearproof prove` (and `make prove`).
//
// Phases, each a real run of a tearproof component on its embedded default:
//   1. medium     sim::RunSelfCheck: the simulated medium against its independent reference
//                 enumerator in all three persistency models;
//   2. explore    harness::RunStandardMatrix: exhaustive crash exploration of the production BTT
//                 core (every crash point, every resolution of what recovery reads);
//   3. control    the same explorer on a platform that loses flushes must find torn sectors
//                 (px86, word8), showing the oracle can fail;
//   4. bmc        Z3 bounded model checks: the protocol is UNSAT (proved to the bound) in every
//                 model, and every protocol mutant is SAT (killed).
// "Proved to bound k" (bmc) and "held on N runs" (explore) are reported separately.
#pragma once

#include <cstdint>
#include <string>

namespace tearproof::tools {

struct ProveOptions {
  uint64_t seed = 1;
  bool quiet = false;
  bool json = false;
  double budget = 1.0;  // scales the campaign (explore depth, bmc timeouts)
};

// Returns the process exit status: 0 all evidence holds, 1 a violation, 2 an environment error.
int RunProve(const ProveOptions& options);

}  // namespace tearproof::tools
