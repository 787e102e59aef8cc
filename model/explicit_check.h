// An independent explicit-state cross-check of the Z3 encoding (model/bmc.h), for tiny bounds.
//
// RunExplicit() enumerates every op assignment (kind and LBA of each op, no symmetry breaking),
// every interleaving of the lanes' steps (depth-first, memoised on the full state), every crash
// point and every crash state the persistency model allows (per ordering unit a prefix of its
// stores that contains every durable one), then runs recovery, crashes recovery after every
// possible number of lanes, re-runs it, and evaluates the same properties as RunBmc(). It shares
// no code with the Z3 encoding: the protocol steps and properties are written again, operationally.
// Its verdict must equal RunBmc()'s (violation found <=> SAT); tests compare them for every mutant.
//
// Contract: deterministic; cost grows exponentially, so only for lanes * ops_per_lane <= 4.
#pragma once

#include <cstdint>
#include <string>

#include "model/bmc.h"
#include "util/status.h"

namespace tearproof::model {

struct ExplicitResult {
  bool violation_found = false;
  std::string violation;        // first violation found: property and a short description
  uint64_t states_visited = 0;  // distinct (memoised) schedule states
  uint64_t crash_states = 0;    // crash states checked (recovery + properties each)
};

// Honours lanes, lbas, nfree, ops_per_lane, model, mutant, properties, op_mix,
// crash_during_recovery. REQUIRES: lanes * ops_per_lane <= 4, lbas <= 4.
Result<ExplicitResult> RunExplicit(const BmcOptions& options);

}  // namespace tearproof::model
