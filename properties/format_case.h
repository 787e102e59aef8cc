// The trace form of the format family's cases (format_prop.cc): an interrupted format is
// explored by harness::Explore with ExploreConfig::crash_in_format on the case's profile, sector
// size, nfree and model (every crash point of format, ORACLE-FORMAT); a round trip by its
// histories, as the crash family's cases are. The flog-layout rewrite and the info-block
// corruption of a round trip have no trace form and are not part of the trace.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "btt/mutant.h"
#include "properties/sim_device.h"
#include "util/status.h"

namespace tearproof::properties {

struct FailedFormatCase {
  DeviceConfig config;
  bool interrupted = false;  // a crash inside format, else a round trip
  std::vector<Op> history;   // the round trip's two histories, in order
};

// The last case FormatProperty failed on in this thread (RapidCheck's shrunk counterexample
// after a failed run), or std::nullopt; taking it clears it.
std::optional<FailedFormatCase> TakeLastFailedFormatCase();

// Writes the trace of `c` as `<dir>/<stem>.jsonl` and returns the path; kNotFound when the
// explorer does not reproduce it on its device.
Result<std::string> WriteFormatCaseTrace(const FailedFormatCase& c, const std::string& dir,
                                         btt::Mutant mutant = btt::Mutant::kNone);

// Family::write_trace of the format family.
std::string WriteFormatTraceOfLastFailure();

}  // namespace tearproof::properties
