// The trace form of the format family's cases (format_prop.cc):
//   - an interrupted format is explored by harness::Explore with ExploreConfig::crash_in_format
//     on the case's profile, sector size, nfree and model (every crash point of format,
//     ORACLE-FORMAT): a crash trace;
//   - a round trip (format, first history, the flog rewritten into another slot layout and a
//     primary info block corrupted, second history) is run by traces::RunFormatRoundTrip
//     (traces/format_round_trip.h), the executor the family judges it with, and becomes a format
//     round-trip trace (docs/traces.md): the device, both histories and the rewrite as the byte
//     patches it made, which `tearproof replay` runs through the same executor.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "btt/mutant.h"
#include "properties/sim_device.h"
#include "traces/trace.h"
#include "util/status.h"

namespace tearproof::properties {

struct FailedFormatCase {
  DeviceConfig config;
  bool interrupted = false;  // a crash inside format, else a round trip
  // A round trip: its two histories and the patches its rewrite made (device = config).
  traces::BadInputCase round_trip;
  // A round trip: what its executor found (an interrupted format's failure is found anew by
  // exploring it).
  std::optional<Violation> violation;
};

// The last case FormatProperty failed on in this thread (RapidCheck's shrunk counterexample
// after a failed run), or std::nullopt; taking it clears it.
std::optional<FailedFormatCase> TakeLastFailedFormatCase();

// Writes the trace of `c`, recorded on `mutant`, as `<dir>/<stem>.jsonl` and returns the path.
// kNotFound when the trace does not reproduce the failure: the explorer finds no violation of
// an interrupted format on its device, or (a bug: the executor is deterministic) the round
// trip's replay differs.
Result<std::string> WriteFormatCaseTrace(const FailedFormatCase& c, const std::string& dir,
                                         btt::Mutant mutant = btt::Mutant::kNone);

// Family::write_trace of the format family.
std::string WriteFormatTraceOfLastFailure();

}  // namespace tearproof::properties
