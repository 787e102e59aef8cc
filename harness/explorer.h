// harness::Explore — crash a sector device (the production BTT core, or the plain-pmem control)
// at every crash point of a workload, in a chosen persistency model, and judge every crash state
// that can change the outcome with the atomicity oracle.
//
// What is run: the device is formatted on a fresh simulated medium (the smallest that holds the
// workload), aged by setup ops if any (once: every execution starts from a copy), and opened; then
// the workload's operations (write / zero / read of an LBA) run one after another on one lane, or,
// with other lanes, interleaved on sim::Scheduler fibers by a schedule (or every schedule within a
// preemption bound). Format can be crashed too. Every sector written carries a tag in each 8-byte
// word (LBA, write number, word index), so a torn, stale or misdirected sector is identified
// exactly.
//
// Crash points (fence dominance): with clwb/clflushopt flushes, nothing becomes guaranteed between
// two fences, so the set of crash states only grows until the next fence. Crashing just before
// every fence, and once at the end, therefore covers every crash point of the execution.
//
// Crash states (lazy branching): at each crash point a lazily resolved crash view is created and
// recovery + the oracle run on it; a word's post-crash value is chosen only when it is first read,
// and an odometer enumerates every resolution of the words actually read. This is complete for the
// model: words nobody reads cannot change the verdict.
//
// Repeated crash points (crash point memo): a crash point with the same medium operations and
// expectation as one already judged (another schedule's, or another workload's with a shared
// memo) is the same crash point and is not judged again. Each reduction can be switched off
// (ExploreConfig::reductions) for brute-force comparison.
//
// The oracle, per crash state (docs/explorer.md names each check):
//   ORACLE-RECOVER      read-write open (recovery) succeeds;
//   ORACLE-ATOMIC       every tracked LBA reads as its last completed value or the value of the
//                       operation in flight at the crash: never torn, stale or another LBA's data;
//   ORACLE-RO-EQUALS-RW a read-only open (zero stores) shows the same sectors;
//   ORACLE-CHECK        Btt::Check reports no inconsistency;
//   ORACLE-IDEMPOTENT   a crash at every fence *during* recovery, then recovery again, shows the
//                       same sectors as the uninterrupted recovery.
// and, for a crash inside format (ExploreConfig::crash_in_format):
//   ORACLE-FORMAT       open refuses the medium (no valid BTT: any clear error), read-only and
//                       read-write alike, or both open a BTT that Check finds consistent and
//                       whose every LBA reads as zeros: never a "valid" BTT over garbage.
// and, outside crash states, ORACLE-READ: a workload read returns the last completed value, and
// ORACLE-LIVENESS: concurrent lanes finish (no deadlock, no livelock past the step bound).
// With concurrent lanes (ExploreConfig::other_lanes) "completed" and "in flight" are per LBA
// history: a crash may show any completed value that can be linearized last, or the value of any
// op in flight on any lane; a read any value of an op overlapping it or linearizable before it.
//
// Replay (ExploreConfig::target): instead of exploring, run exactly one crash point with one given
// resolution and report its verdict plus a CrashTimeline (what was pending, which words
// persisted, what recovery read). traces/ builds `tearproof replay` and `--minimize` on it.
//
// Deterministic: same config, same result. Not thread-safe (one simulation per thread; in the
// mutant build the mutant selection is process-wide).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btt/layout.h"
#include "btt/mutant.h"
#include "harness/crash_point_memo.h"
#include "harness/sim_namespace.h"
#include "sim/crash_chooser.h"
#include "sim/event.h"
#include "util/status.h"

namespace tearproof::harness {

struct WorkloadOp {
  // kRead checks, outside any crash, that the device returns the LBA's last completed value.
  enum class Kind : uint8_t { kWrite, kZero, kRead };
  Kind kind = Kind::kWrite;
  uint64_t lba = 0;
};

// Which sector device the explorer runs.
enum class Device : uint8_t {
  kBtt,        // the production BTT core (btt/)
  kPlainPmem,  // the control: no BTT, memcpy + flush + fence per sector (harness/plain_pmem.h)
};
const char* DeviceName(Device device);  // "btt", "plain-pmem"
std::optional<Device> ParseDevice(std::string_view name);

using Choice = sim::OdometerChooser::Choice;

// Replay of one crash state: the crash point and the resolution of the words read there.
struct CrashTarget {
  // 1-based, as Violation::crash_point. 0 = no crash: only the workload runs (ORACLE-READ).
  uint64_t crash_point = 0;
  // Forced choices, looked up by word address (each word is resolved at most once per crash);
  // a word not listed takes candidate 0 (its guaranteed value), an index past the word's
  // candidate count is clamped (and counted in CrashTimeline::diverged_choices).
  std::vector<Choice> resolution;
};

struct ExploreConfig {
  Device device = Device::kBtt;
  btt::Profile profile = btt::Profile::kLinux;  // kBtt only
  uint32_t external_lbasize = 512;
  uint32_t nfree = 1;  // kBtt only
  // Bytes of simulated medium (kBtt). 0 = the smallest namespace the BTT accepts for the profile,
  // sector size and nfree that still holds every LBA the workload and setup name
  // (ExploreMediumSize): recovery, reads and Check run per crash state, and all of them scale with
  // the arena's map. Nonzero: exactly this size (a trace pins it, so a replay sees the same layout
  // and addresses); at most kMaxExploreMediumSize. The plain-pmem device has one size; 0 or that
  // size.
  uint64_t medium_size = 0;
  sim::PersistencyModel model = sim::PersistencyModel::kPx86;
  // The workload. `ops` is lane 0's program; `other_lanes[i]` is lane i + 1's. With other lanes,
  // the lanes run as sim::Scheduler fibers (FiberSync: every medium operation, lane acquisition,
  // map lock and spin-wait is a scheduling point) and are interleaved by `schedule`: the lane
  // picked at each scheduling decision (sim::ReplayStrategy; past its end, no preemption). A
  // replay (`target`) follows it strictly: a schedule that no longer fits the run is an error.
  // Ops are numbered lane by lane (lane 0's first, then lane 1's, ...): Violation::op_in_flight,
  // CrashTimeline::ops and the write numbers in sector tags (1 + that index) use this numbering.
  std::vector<WorkloadOp> ops;
  std::vector<std::vector<WorkloadOp>> other_lanes;
  std::vector<uint32_t> schedule;
  // With other lanes: explore every schedule with at most this many preemptions
  // (sim::ExhaustiveStrategy), each one an execution crashed at every crash point; `schedule`
  // must then be empty. Unset: the one schedule above.
  std::optional<uint32_t> preemption_bound;
  // Resolutions explored per crash point before the point is reported incomplete.
  uint64_t max_states_per_point = 1 << 14;
  // The reductions (docs/explorer.md "Reductions"). Each keeps the search complete for the
  // persistency model; switching one off gives the brute-force search it replaces, which a test
  // compares verdict for verdict (harness/reduction_test.cc).
  struct Reductions {
    // Crash only just before each fence (and at the end): between two fences the crash states
    // only grow. Off: a crash point after every store and every flush as well.
    bool fence_dominance = true;
    // Resolve a crashed word only when it is read and enumerate the resolutions of the words read
    // (sim::OdometerChooser). Off: every crash state of the medium (Medium::ForEachCrashState),
    // each materialized and judged; a point with more than max_states_per_point states is
    // incomplete.
    bool lazy_branching = true;
    // A crash point whose medium operations (every store, flush and fence since the medium was
    // created, with its lane and bytes) and expectation equal those of a crash point already
    // judged is the same crash point: it is counted but not judged again
    // (harness/crash_point_memo.h). Meets the points that the executions of a schedule search
    // share (a common decision prefix, or schedules differing only where loads interleave) and,
    // with `memo`, those that explorations of workloads with a common prefix share.
    bool memo_crash_points = true;
  };
  Reductions reductions;
  // With memo_crash_points: the memo to use, shared by several explorations that differ only in
  // their workload (the standard matrix shares one per cell; a different configuration is an
  // error). Null: a fresh memo per exploration (which helps only a schedule search).
  std::shared_ptr<CrashPointMemo> memo;
  // Also judge LBAs 0 .. track_lbas - 1 after every crash (the workload's LBAs always are): an
  // LBA no op names must keep its value. The standard matrix tracks every LBA of its cell, so all
  // its workloads judge the same LBAs and share crash points.
  uint32_t track_lbas = 0;
  // Count every judged crash point's full crash-state space (ExploreStats::eager_states, what lazy
  // branching saved). A statistic only; off, a point costs less.
  bool count_eager_states = true;
  bool check_layout = true;       // ORACLE-CHECK on every state
  bool crash_in_recovery = true;  // ORACLE-IDEMPOTENT
  // kBtt: crash format too, at every fence it issues (ORACLE-FORMAT on each state). These crash
  // points come first (1..F), the workload's follow.
  bool crash_in_format = false;
  // How the workload's flushes reach the medium. kNone injects a platform fault (every flush
  // lost) to show that the oracle fails when durability points are missing.
  FlushKind workload_flush = FlushKind::kClwb;
  // Stop judging crash states after the first violation (the workload still runs to its end).
  // For mutant hunting: one violation is a kill. A stopped run reports no incomplete points.
  bool stop_at_first_violation = false;
  // When set, only violations of this check are recorded (and stop the run): minimization looks
  // for the same check, not whichever fires first.
  std::string only_check;
  // An aged medium: these operations run after format, to completion and without crash points,
  // through their own open of the device; their values are the starting expectation. Then
  // `after_setup` (if set) runs, and the device is opened afresh for `ops`. Used to start from
  // flog slots that have already wrapped. Format, setup and after_setup run once per
  // exploration; every execution of a schedule search starts from a copy of what they left.
  std::vector<WorkloadOp> setup_ops;
  std::function<void()> after_setup;
  // The seeded mutant of the BTT core to run (btt/mutant.h). Only the mutant build
  // (tearproof_harness_mutants) accepts anything but kNone. With mutant_after_setup the real core
  // formats and runs setup_ops, and the mutant takes over for the workload (it then reads a medium
  // written by a correct implementation). Explore restores kNone before it returns.
  btt::Mutant mutant = btt::Mutant::kNone;
  bool mutant_after_setup = false;
  // Replay one crash state instead of exploring (see CrashTarget); fills ExploreResult::timeline.
  std::optional<CrashTarget> target;
};

struct Violation {
  std::string check;          // ORACLE-*
  uint64_t crash_point = 0;   // 1-based, within its execution; 0 = outside any crash
  int64_t op_in_flight = -1;  // the op (numbered lane by lane) whose fence it is, -1 when none
  std::string detail;
  std::vector<Choice> resolution;  // the crash state, as choices in read order
  // With other lanes: the schedule of the execution that found it (every decision), which
  // replays it. Empty for one lane.
  std::vector<uint32_t> schedule;
};

struct ExploreStats {
  uint64_t executions = 0;  // one per schedule run
  uint64_t crash_points = 0;
  // Of crash_points: those identical to a crash point already judged, not judged again
  // (Reductions::memo_crash_points).
  uint64_t crash_points_repeated = 0;
  uint64_t events = 0;                 // medium events of the workloads
  uint64_t states_checked = 0;         // resolutions judged by the oracle
  uint64_t recovery_crash_states = 0;  // nested states checked for ORACLE-IDEMPOTENT
  // Σ over the judged crash points of their full crash-state counts (saturating at UINT64_MAX);
  // 0 without ExploreConfig::count_eager_states.
  uint64_t eager_states = 0;
  uint64_t incomplete_points = 0;  // points that hit max_states_per_point
  void Add(const ExploreStats& other);
};

// What a replayed crash looked like, for `tearproof replay`'s timeline.
struct CrashTimeline {
  struct Op {
    uint32_t lane = 0;
    WorkloadOp op;
    uint64_t write_id = 0;                    // the write number in the sector tags (writes only)
    uint64_t first_event = 0, end_event = 0;  // medium events [first, end) of the op
    uint64_t first_crash_point = 0, last_crash_point = 0;  // 0, 0 when it has none
  };
  struct PendingStore {
    sim::Event event;    // a workload store with at least one word not yet guaranteed
    int64_t op = -1;     // index into ops
    std::string region;  // the BTT structure at its first byte ("flog lane 0 slot 1 half A")
  };
  struct ResolvedWord {
    Choice choice;             // the word, its candidate count and the index chosen
    uint64_t value = 0;        // the post-crash value
    uint64_t guaranteed = 0;   // the value at its guaranteed persist point (candidate 0)
    int64_t store_event = -1;  // seq of the workload store that produced `value`, -1 if none
    int64_t store_op = -1;     // index into ops of that store
    std::string region;        // the BTT structure it belongs to ("map entries of premap 0-1")
  };
  struct SectorView {
    uint64_t lba = 0;
    bool ok = false;  // old or in-flight value
    // "ok"; else "torn" (words of several sources), "misdirected" (another LBA's write) or
    // "stale" (one source of this LBA, neither the completed nor the in-flight value).
    std::string verdict;
    std::string read;      // DescribeSector of what recovery read
    std::string expected;  // the acceptable value(s)
  };
  std::vector<Op> ops;
  bool reached = false;    // the target crash point exists in this run
  bool in_format = false;  // the target crash point is inside format
  uint64_t crash_point = 0;
  uint64_t crash_points_total = 0;
  int64_t op_in_flight = -1;
  std::vector<PendingStore> pending;
  std::vector<ResolvedWord> words;  // in read order
  std::vector<SectorView> sectors;  // the read-write recovery's view
  uint64_t unused_choices = 0;      // target choices for words this run never read
  uint64_t diverged_choices = 0;    // target choices whose candidate count differs (clamped)
};

struct ExploreResult {
  ExploreStats stats;
  std::vector<Violation> violations;      // at most the first few
  std::optional<CrashTimeline> timeline;  // with ExploreConfig::target only
  bool ok() const { return violations.empty() && stats.incomplete_points == 0; }
};

// Lanes one exploration runs at most (1 + other_lanes).
inline constexpr uint32_t kMaxExploreLanes = 4;

// REQUIRES nothing of config: invalid geometry, LBAs or options come back as a Status.
Result<ExploreResult> Explore(const ExploreConfig& config);

// The largest explored BTT medium: the BTT offset plus one minimum-size (16 MiB) arena. It was the
// only size before ExploreConfig::medium_size existed, so traces that do not name a size use it.
uint64_t MaxExploreMediumSize(btt::Profile profile);
// The medium size Explore uses for `config` (resolves medium_size 0; errors as Explore reports
// them: bad geometry, an LBA that no allowed size holds, a size the BTT refuses).
Result<uint64_t> ExploreMediumSize(const ExploreConfig& config);

// The tag a workload writes into word `word` of the sector written by write number `write_id`.
uint64_t SectorTag(uint64_t lba, uint64_t write_id, uint64_t word);
// "words 0-31 write 2 of lba 1, words 32-63 zero": which write produced each word of a sector.
std::string DescribeSector(std::span<const std::byte> sector);
// "write 2 of lba 1 word 5", "zero" or "untagged": the source of one tagged word.
std::string DescribeWord(uint64_t value);

// Formats a BTT as every simulation does: fixed UUIDs (a run must not depend on randomness) and
// a medium known to read as zero (format skips zeroing the map). Persists everything it writes.
Status FormatSimulatedBtt(btt::Namespace& ns, btt::Profile profile, uint32_t external_lbasize,
                          uint32_t nfree);

// Mutant names as traces spell them ("none", "seq-skips", ...). The production build knows only
// "none" and says so for any other name; the mutant build knows every btt::Mutant.
Result<btt::Mutant> MutantByName(std::string_view name);
std::string NameOfMutant(btt::Mutant mutant);
bool MutantsCompiledIn();

}  // namespace tearproof::harness
