// Random small medium programs for differential testing and the self-check campaign.
//
// A program is a list of Events (seq = 0) over the region [0, region_bytes) and a few lanes:
// stores of 1..24 bytes (aligned and unaligned, straddling words and lines), non-temporal stores,
// all three flush kinds and both fences. Deterministic in the Prng.
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <vector>

#include "sim/event.h"
#include "sim/medium.h"
#include "sim/reference_model.h"
#include "util/prng.h"
#include "util/status.h"

namespace tearproof::sim {

struct ProgramOptions {
  uint32_t max_stores = 12;
  uint32_t lanes = 3;
  uint64_t region_bytes = 192;  // multiple of 64
  bool non_temporal = true;
};

std::vector<Event> RandomProgram(Prng& prng, const ProgramOptions& options);

// Applies every event to the medium, stopping at the first error.
Status RunProgram(Medium& medium, std::span<const Event> program);

// The region image [0, region_bytes) of a medium, as words (resolving lazy words it reads).
Result<CrashImage> RegionImage(Medium& medium, uint64_t region_bytes);

// Every crash state of the medium by eager enumeration, as region images. kUnsupported when
// CrashSpace() exceeds max_states.
Result<std::set<CrashImage>> EagerCrashImages(const Medium& medium, uint64_t region_bytes,
                                              uint64_t max_states);

// Every resolution of a lazy crash view of the medium that reads the whole region, word by word in
// the order given by word_order (indices into the region). *runs gets the odometer's run count.
Result<std::set<CrashImage>> LazyCrashImages(const Medium& medium, uint64_t region_bytes,
                                             std::span<const uint64_t> word_order,
                                             uint64_t max_runs, uint64_t* runs);

}  // namespace tearproof::sim
