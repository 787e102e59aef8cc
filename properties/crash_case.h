// The case the crash and recovery families share: a device, a history and one crash in it.
// DrawCrashCase draws with `*gen`, so it is called from a property body only; RunCrashCase runs
// the case to its crash and recovers it, failing the property (RC_FAIL) on any violation.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "properties/sim_device.h"

namespace tearproof::properties {

struct CrashCase {
  DeviceConfig config;
  uint64_t nlba = 0;
  std::vector<Op> history;  // at least one operation
  CrashSpec crash;          // any fence of the history, or its end
};
CrashCase DrawCrashCase();

struct CrashOutcome {
  CrashedHistory run;
  Recovery recovery;  // judged: ORACLE-RECOVER, -RO-EQUALS-RW, -CHECK (and -IDEMPOTENT)
  std::string where;  // "crash during w3#7": context for later failures
};
// Runs `c`, recovers with `recovery_crash` (sim_device.h Recover) and checks ORACLE-ATOMIC on
// every LBA against the history.
CrashOutcome RunCrashCase(const CrashCase& c, const std::optional<CrashSpec>& recovery_crash);

}  // namespace tearproof::properties
