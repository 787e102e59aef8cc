// Reference crash-state enumerator: the persistency models computed directly from their
// definitions, by brute force, independently of sim::Medium.
//
// Given the events of a small program run from an all-zero memory, it returns the set of every
// post-crash image of the region [0, region_bytes) (as little-endian 64-bit words) allowed at the
// end of the program. It shares no logic with medium.cc: it re-splits stores into word pieces,
// decides from the event list alone which pieces are guaranteed, enumerates every subset of the
// other pieces of each line, keeps the subsets the model allows, and takes the latest persisted
// piece of each word. Exponential on purpose; limited to small programs (kUnsupported otherwise).
// Used by sim's differential tests and by RunSelfCheck. Never reads TEARPROOF_SIM_MUTANT.
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <vector>

#include "sim/event.h"
#include "util/status.h"

namespace tearproof::sim {

struct ReferenceLimits {
  uint32_t max_free_pieces_per_line = 14;  // 2^14 subsets per line
  uint64_t max_states = uint64_t{1} << 18;
};

using CrashImage = std::vector<uint64_t>;  // region words, word i = bytes [8i, 8i + 8)

// REQUIRES: region_bytes is a multiple of 64; every event addresses bytes inside the region.
Result<std::set<CrashImage>> ReferenceCrashStates(std::span<const Event> events,
                                                  PersistencyModel model, uint64_t region_bytes,
                                                  const ReferenceLimits& limits = {});

}  // namespace tearproof::sim
