// traces::Trace — one run pinned down so that it can be replayed bit for bit. Four kinds:
//   - a crash trace: one crash-exploration run: the device and its configuration, the workload
//     (per lane), the crash point, the resolution of the crash state (which candidate each word
//     read after the crash takes) and the expected verdict;
//   - a bad-input trace: a BTT, a workload completed and shut down cleanly, byte patches applied
//     to the persisted image (a metadata corruption), and the expected verdict of opening it
//     (traces/bad_input.h runs it);
//   - a format round-trip trace: the same records for the format family's round trip: a fresh
//     format, a first history, byte patches that only move flog slots into the other slot layout
//     and corrupt primary info blocks, a second history (traces/format_round_trip.h runs it);
//   - a concurrent trace: one run of the concurrent search (harness/concurrent_search.h): setup
//     ops, the lanes' programs and the schedule the run took, with no crash, judged by that
//     search's oracle (whole sectors, linearizable histories, a clean Check, liveness).
//
// The file format (docs/traces.md) is JSON lines: a header line, then one line per record, in
// order: "config", "workload", "crash", "expect" for a crash trace; "config", "workload",
// "corruption", "expect" for a bad-input or format round-trip trace; "config", "workload", "run",
// "expect" for a concurrent trace. Version 1 has crash traces only; version 2 adds the header
// field "case" and with it bad-input traces; version 3 adds the crash config field "track_lbas"
// and format round-trip traces; version 4 adds concurrent traces. The writer writes the lowest
// version that expresses a trace (a crash trace that tracks no extra LBA is still version 1, so
// older readers read it), the reader reads all four. The reader is strict: any missing, unknown,
// duplicated or ill-typed field is an error naming the line and the field; it never crashes on
// malformed input. Pure data + text; no simulation happens here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/concurrent_search.h"
#include "harness/explorer.h"
#include "properties/sim_device.h"
#include "util/status.h"

namespace tearproof::traces {

// The newest format version this reader reads.
inline constexpr int kFormatVersion = 4;
// Crash traces are written in version 1 unless they need a later field.
inline constexpr int kCrashFormatVersion = 1;
// Bad-input traces (the header field "case") exist from version 2 on.
inline constexpr int kBadInputFormatVersion = 2;
// A crash trace whose config tracks extra LBAs (ExploreConfig::track_lbas != 0) is version 3: an
// older reader must refuse it by its version rather than replay it judging fewer LBAs.
inline constexpr int kTrackLbasFormatVersion = 3;
// Format round-trip traces ("case": "format-round-trip") exist from version 3 on.
inline constexpr int kFormatRoundTripFormatVersion = 3;
// Concurrent traces ("case": "concurrent") exist from version 4 on.
inline constexpr int kConcurrentFormatVersion = 4;

enum class TraceKind : uint8_t { kCrash, kBadInput, kFormatRoundTrip, kConcurrent };

// One corruption of a persisted image: `bytes` replace the bytes at namespace offset `offset`.
struct BytePatch {
  uint64_t offset = 0;
  std::vector<std::byte> bytes;
  uint64_t end() const { return offset + bytes.size(); }
  friend bool operator==(const BytePatch&, const BytePatch&) = default;
};

// A bad-input case (traces/bad_input.h runs and judges it): a one-arena BTT formatted on a fresh
// simulated medium, `ops` run to completion and the device closed (a clean shutdown), then
// `patches` stored durably into the persisted image. A format round trip
// (traces/format_round_trip.h) is the same data plus `after_ops`, run after the patches, on any
// number of arenas.
struct BadInputCase {
  properties::DeviceConfig device;
  // Writes, zeros and error flags. Write ids are 1, 2, ... in order over `ops` and then
  // `after_ops` (NumberBadInputWrites): the file names no ids.
  std::vector<properties::Op> ops;
  std::vector<BytePatch> patches;         // ascending, non-overlapping, inside the namespace
  std::vector<properties::Op> after_ops;  // format round trips only: the second history
};
// Bounds of a bad-input case the reader accepts: one arena (far below 512 GiB) small enough to
// simulate whole, and few enough writes and LBAs that the ids of the workload's writes and of
// the rewrite of every LBA (PROP-CLEAN-CHECK-USABLE) stay below 2^16 (a sector tag's id field).
inline constexpr uint64_t kMaxBadInputNamespaceBytes = uint64_t{16} << 20;
inline constexpr size_t kMaxBadInputOps = 4096;
// Gives the writes of `ops` the ids 1, 2, ... in order.
void NumberBadInputWrites(std::vector<properties::Op>& ops);
// Gives the writes of `c.ops`, then of `c.after_ops`, the ids 1, 2, ... in order.
void NumberBadInputWrites(BadInputCase& c);
// A format round trip may span several arenas (the format family's sparse multi-arena devices,
// 2-3 arenas of up to 512 GiB): its executor reads only the flog and info blocks of each arena,
// never the whole image. Four full arenas at most.
inline constexpr uint64_t kMaxFormatRoundTripNamespaceBytes = 4 * btt::kMaxArenaSize;

// A concurrent trace's run: on the concurrent search's device (linux profile, 512-byte sectors,
// nfree 2, px86; harness::kConcurrentSectorBytes), `setup` run to completion by the real core,
// then `lanes` on fibers following `schedule` (one lane pick per scheduling decision).
struct ConcurrentTraceRun {
  std::vector<harness::WorkloadOp> setup;               // writes and zeros
  std::vector<std::vector<harness::WorkloadOp>> lanes;  // 1 to harness::kConcurrentMaxLanes
  std::vector<uint32_t> schedule;
  // Preemptions of the recorded run: minimize, and a replay whose run leaves the schedule,
  // search every schedule within max(1, this) preemptions (at most 3) instead.
  uint64_t preemptions = 0;
  std::string strategy;  // informational: how the search found the run ("pct seed 7", ...)
  harness::ConcurrentWorkload Workload() const;  // as the search spells it
};
// The bounds a concurrent trace's reader accepts: a run of these is small (its histories are
// checked for linearizability by a search exponential in their length).
inline constexpr size_t kMaxConcurrentOpsPerLane = 8;
inline constexpr size_t kMaxConcurrentSetupOps = 64;
inline constexpr size_t kMaxConcurrentScheduleDecisions = 1 << 16;

struct Trace {
  TraceKind kind = TraceKind::kCrash;
  std::string tool_commit;      // the tearproof commit that wrote the trace (informational)
  std::string mutant = "none";  // the btt::Mutant the run used, as MutantByName spells it
  // Device, geometry, model, flush kind, checks, setup ops, workload lanes and schedule. The
  // `mutant` and `target` fields are not used (see `mutant` and crash_point/resolution).
  // config.medium_size 0 (the field absent from the file) means the size every trace had before
  // the field existed, harness::MaxExploreMediumSize; TraceFromViolation always pins the size.
  // config.track_lbas 0 (the field absent) judges only the LBAs the ops name after the crash.
  // A bad-input or format round-trip trace uses only config.device (always kBtt).
  harness::ExploreConfig config;
  BadInputCase bad_input;         // kBadInput and kFormatRoundTrip only
  ConcurrentTraceRun concurrent;  // kConcurrent only
  // kCrash only:
  uint64_t seed = 0;          // the seed of a random run (0 for exhaustive exploration)
  uint64_t crash_point = 0;   // 1-based; 0 = no crash (a workload read failed)
  int64_t op_in_flight = -1;  // informational: the op that issued the crash point's fence
  std::vector<harness::Choice> resolution;  // in read order
  struct Expect {
    bool violation = true;
    std::string check;   // ORACLE-* (bad-input traces: also PROP-*), when violation
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

// The trace of the concurrent search's first violation in `result` (its workload, schedule and
// strategy), found with `mutant`. InvalidArgument when `result` holds no violation.
Result<Trace> TraceFromConcurrentViolation(const harness::ConcurrentSearchResult& result,
                                           const std::vector<harness::ConcurrentWorkload>& searched,
                                           btt::Mutant mutant);

// The exploration that replays a crash trace: its config, the mutant resolved (an error in a
// build without mutants), and the target crash point + resolution. A bad-input trace has none
// (InvalidArgument).
Result<harness::ExploreConfig> ReplayConfig(const Trace& trace);

// "linux-512-px86-nfree1-w0_w0-p5", "bad-input-linux-512-px86-nfree1-2ops-1patch",
// "format-round-trip-linux-512-px86-nfree1-3ops-2patches",
// "concurrent-linux-512-px86-nfree2-setup_w3_w0-r1--w1_w2": a file-name stem that says what it is.
std::string TraceStem(const Trace& trace);

// The commit this binary was configured from ("unknown" outside a git checkout).
const char* ToolCommit();

}  // namespace tearproof::traces
