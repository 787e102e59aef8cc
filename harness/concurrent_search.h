// harness::SearchConcurrent — the production BTT core under interleaved lanes, judged by an
// oracle: the concurrent search of `tearproof prove` (phase `concurrent`, docs/report.md) and of
// the kill matrix's concurrency family (tools/report_mutant_hunt.cc).
//
// Each workload is formatted (linux profile, 512 B sectors, nfree 2, one minimum-size arena, px86
// medium), optionally aged by sequential setup ops, then its lanes run as sim::Scheduler fibers
// over FiberSync (harness/fiber_sync.h): every medium operation, load result, lane acquisition,
// map lock and spin-wait is a scheduling point. No crash is injected: this judges what a running
// BTT returns and keeps, not what survives a power failure.
//
// Two parts, never mixed (their numbers are kept apart):
//   - exhaustive: every schedule with at most `preemption_bound` preemptions
//     (sim::ExhaustiveStrategy). With no violation and no error this is a proof to that bound,
//     for these workloads.
//   - sampled: `pct_seeds` PCT runs (depth 2 and 3 alternately) and `random_seeds` uniformly
//     random runs per workload, seeds sim::RunSeed(seed_base, i). Evidence on N runs only.
// Oracle, per run:
//   - ORACLE-CONCURRENT-READ: every read returns a whole sector of some write to that LBA (of
//     the workload or its setup) or zeros: never torn, never another LBA's;
//   - ORACLE-LINEARIZABLE: each LBA's history (invocation and response on the run's logical
//     clock, then a sequential read-back after the lanes) has a linearization (Wing & Gong);
//   - ORACLE-CHECK: Btt::Check is clean after the run;
//   - ORACLE-LIVENESS: the run completes (no deadlock, no livelock past the step bound).
// A run the core refused (an op error) or whose schedule no longer fits counts as an error, not a
// violation (as in the crash explorer, a refusal is the core detecting something).
// Deterministic: no clock, no thread; the same options give the same result bit for bit.
// RunConcurrent runs one workload under one strategy (what the search does per run, for replays
// and tests); Linearizable and IdentifySector are the oracle's pieces (harness/concurrency_test.cc
// tests them on synthetic histories and sectors).
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "btt/mutant.h"
#include "harness/explorer.h"
#include "sim/event.h"
#include "sim/scheduler.h"
#include "util/status.h"

namespace tearproof::harness {

// The device every concurrent run uses (a concurrent trace records it, docs/traces.md): the linux
// profile, 512-byte sectors, nfree 2 (two BTT lanes), one minimum-size arena, px86.
inline constexpr uint32_t kConcurrentSectorBytes = 512;
inline constexpr uint32_t kConcurrentNfree = 2;
inline constexpr uint32_t kConcurrentMaxLanes = 4;
// The lanes' writes are numbered 1, 2, ... lane by lane (the number is in each sector's tags); the
// setup's writes from here, so that the two never collide.
inline constexpr uint64_t kConcurrentSetupWriteBase = 0x8000;

struct ConcurrentWorkload {
  std::string setup;               // sequential ops after format ("w3 w0"), may be empty
  std::vector<std::string> lanes;  // one op string per lane ("w1 r2"); reads allowed
  std::string Name() const;        // "[w3 w0] r1 || w1 w2"
};

// The standard workloads: two and three lanes over LBAs 0-3, reads racing writes and zeros, and
// an aged medium whose lane-1 free block is block 0 (so a write maps an LBA to block 0, whose
// bare number equals an identity map entry's).
const std::vector<ConcurrentWorkload>& StandardConcurrentWorkloads();

struct ConcurrentSearchOptions {
  uint32_t preemption_bound = 1;  // exhaustive part; 0..3
  uint64_t pct_seeds = 16;        // sampled part, per workload
  uint64_t random_seeds = 16;     // sampled part, per workload
  uint64_t seed_base = 20261126;
  bool stop_at_first_violation = true;
  // The seeded core mutant active while the lanes run (setup always runs unmutated). Only the
  // mutant build (tearproof_harness_mutants) accepts anything but kNone.
  btt::Mutant mutant = btt::Mutant::kNone;
};

// One part's numbers.
struct ConcurrentPartStats {
  uint64_t runs = 0;
  uint64_t runs_with_contention = 0;  // a BTT lane or map lock was found held
  uint64_t preemptions_max = 0;
  uint64_t steps = 0;       // scheduling points, summed
  uint64_t violations = 0;  // runs with an ORACLE-* verdict
  uint64_t errors = 0;      // runs the core refused, or whose schedule did not fit
  void Add(const ConcurrentPartStats& o);
};

struct ConcurrentSearchResult {
  ConcurrentPartStats exhaustive;
  ConcurrentPartStats sampled;
  uint64_t workloads = 0;            // workloads searched (fewer when stopped at a violation)
  bool exhaustive_complete = false;  // every workload's bounded enumeration ran to its end
  // The first ORACLE violation: its check and detail, where (workload, strategy) and the
  // schedule (sim::ScheduleToString) that replays it.
  std::string first_violation;
  std::string violation_check;  // "ORACLE-CONCURRENT-READ", ...
  std::string violation_workload;
  std::string violation_strategy;
  std::string violation_schedule;
  uint64_t violation_preemptions = 0;
  std::string first_error;  // the first refused or unfit run, likewise
};

// Runs the search. A Status only for bad options (a bad workload, a mutant in the production
// build) or a harness failure (format, scheduler creation).
Result<ConcurrentSearchResult> SearchConcurrent(const std::vector<ConcurrentWorkload>& workloads,
                                                const ConcurrentSearchOptions& options);

// One run of `workload` under `strategy`, as the search runs it: format and setup on the real
// core, then the lanes with `mutant` active (restored to kNone after), then the oracle.
// One completed op of a run as the oracle saw it, on the run's logical clock (lanes run one at a
// time, so invoke < respond orders ops in real time).
struct ConcurrentOpRecord {
  uint32_t lane = 0;
  uint32_t index = 0;  // within its lane
  WorkloadOp op;
  uint64_t value = 0;  // the write number written (0 for a zero) or the value read
  uint64_t invoke = 0;
  uint64_t respond = 0;
  std::string problem;  // a read whose sector is none of its LBA's values: what it holds
};

struct ConcurrentRun {
  sim::RunReport report;
  std::vector<ConcurrentOpRecord> ops;  // the ops that completed, in response order
  // "" when every check held; else the ORACLE-* check, or "ERROR" (an op the core refused, a
  // schedule that does not fit the run).
  std::string check;
  std::string detail;
  bool contention = false;         // a BTT lane or map lock was found held
  std::vector<sim::Event> events;  // every medium event of the lanes, with record_events
};
Result<ConcurrentRun> RunConcurrent(const ConcurrentWorkload& workload, sim::Scheduler& scheduler,
                                    sim::Strategy& strategy,
                                    btt::Mutant mutant = btt::Mutant::kNone,
                                    bool record_events = false);

// The run a concurrent trace records: `workload` on `mutant` with `schedule` followed strictly
// (sim::ReplayStrategy: a run that leaves it ends as kScheduleError, check "ERROR"), on a
// scheduler like the search's.
Result<ConcurrentRun> ReplayConcurrent(const ConcurrentWorkload& workload,
                                       const std::vector<uint32_t>& schedule,
                                       btt::Mutant mutant = btt::Mutant::kNone);

// --- The oracle's pieces ----------------------------------------------------------------------

// One register operation of an LBA's history, on the run's logical clock.
struct HistoryOp {
  WorkloadOp::Kind kind = WorkloadOp::Kind::kRead;
  uint64_t value = 0;  // the write number written (0 for a zero) or the value read
  uint64_t invoke = 0;
  uint64_t respond = 0;
};
// ORACLE-LINEARIZABLE for one register starting at `initial`: is there an order of `ops` that
// respects real time (an op that responded before another was invoked comes first) in which
// every read returns the latest write? (Wing & Gong; at most 63 ops, asserted.)
bool Linearizable(const std::vector<HistoryOp>& ops, uint64_t initial);
// ORACLE-CONCURRENT-READ for one sector read from `lba`: the write number whose whole tagged
// sector it is (0 for zeros), when that number is in `values`; otherwise *problem says what the
// sector holds (a torn mix, another LBA's data, an unknown write) and 0 is returned.
uint64_t IdentifySector(uint64_t lba, std::span<const std::byte> sector,
                        const std::set<uint64_t>& values, std::string* problem);

}  // namespace tearproof::harness
