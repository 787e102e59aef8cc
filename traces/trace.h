// traces::Trace — one crash-exploration run, pinned down so that it can be replayed bit for bit:
// the device and its configuration, the workload (per lane), the crash point, the resolution of
// the crash state (which candidate each word read after the crash takes) and the expected verdict.
//
// The file format (docs/traces.md) is JSON lines, version kFormatVersion: a header line, then one
// line each for "config", "workload", "crash" and "expect", in that order. The reader is strict:
// any missing, unknown, duplicated or ill-typed field is an error naming the line and the field;
// it never crashes on malformed input. Pure data + text; no simulation happens here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/explorer.h"
#include "util/status.h"

namespace tearproof::traces {

inline constexpr int kFormatVersion = 1;

struct Trace {
  std::string tool_commit;      // the tearproof commit that wrote the trace (informational)
  std::string mutant = "none";  // the btt::Mutant the run used, as MutantByName spells it
  // Device, geometry, model, flush kind, checks, setup ops, workload lanes and schedule. The
  // `mutant` and `target` fields are not used (see `mutant` and crash_point/resolution).
  // config.medium_size 0 (the field absent from the file) means the size every trace had before
  // the field existed, harness::MaxExploreMediumSize; TraceFromViolation always pins the size.
  harness::ExploreConfig config;
  uint64_t seed = 0;          // the seed of a random run (0 for exhaustive exploration)
  uint64_t crash_point = 0;   // 1-based; 0 = no crash (a workload read failed)
  int64_t op_in_flight = -1;  // informational: the op that issued the crash point's fence
  std::vector<harness::Choice> resolution;  // in read order
  struct Expect {
    bool violation = true;
    std::string check;   // ORACLE-*, when violation
    std::string detail;  // the violation's detail, as recorded (informational)
  } expect;
};

// Strict parse of a whole trace file's text. Errors are InvalidArgument("line N (record): ...").
Result<Trace> ParseTrace(std::string_view text);
// The trace as JSON lines, newline-terminated; ParseTrace(SerializeTrace(t)) == t.
std::string SerializeTrace(const Trace& trace);

Result<Trace> ReadTraceFile(const std::string& path);
Status WriteTraceFile(const std::string& path, const Trace& trace);

// The trace of `violation`, found by exploring `config` (whose mutant it names).
Trace TraceFromViolation(const harness::ExploreConfig& config, const harness::Violation& violation);

// The exploration that replays the trace: its config, the mutant resolved (an error in a build
// without mutants), and the target crash point + resolution.
Result<harness::ExploreConfig> ReplayConfig(const Trace& trace);

// "linux-512-px86-nfree1-w0_w0-p5": a file-name stem that says what the trace is.
std::string TraceStem(const Trace& trace);

// The commit this binary was configured from ("unknown" outside a git checkout).
const char* ToolCommit();

}  // namespace tearproof::traces
