// The concurrent family's case (concurrent_prop.cc): lanes of operations interleaved by a
// schedule on sim::Scheduler fibers, with an optional crash. Exposed so that a directed case can
// be run and judged without RapidCheck (kill_matrix_test.cc).
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "properties/sim_device.h"
#include "util/status.h"

namespace tearproof::properties {

struct LaneOp {
  enum class Kind : uint8_t { kWrite, kZero, kRead };
  Kind kind = Kind::kWrite;
  uint64_t lba = 0;
};

void showValue(const LaneOp& op, std::ostream& os);  // "w3", "z1", "r0"

struct ConcurrentCase {
  DeviceConfig config;
  std::vector<Op> setup;                      // run to completion before the lanes start
  std::vector<std::vector<LaneOp>> programs;  // one per lane (at most 3)
  std::vector<uint32_t> schedule;             // choice per decision: 0 stay, k k-th other lane
  std::optional<CrashSpec> crash;             // counted over every lane's fences
};

struct ConcurrentOutcome {
  std::optional<Violation> violation;
  std::string schedule;      // the lanes the run actually picked ("0,0,1,..."), for reports
  bool contention = false;   // a lane or map lock was found held
  bool crash_fired = false;  // the crash came during the run (not after it)
};

// Draws a case with `*gen`: call from a property body only.
ConcurrentCase DrawConcurrentCase();
// Runs and judges a case (no RapidCheck inside); a Status only when the harness itself fails.
Result<ConcurrentOutcome> RunConcurrentCase(const ConcurrentCase& c);

}  // namespace tearproof::properties
