// The production BTT core under interleaved lanes: btt::Btt on SimNamespace + FiberSync, every
// medium operation, load result, lane acquisition, map lock and spin-wait a scheduling point of
// sim::Scheduler (linux profile, 512 B sectors, nfree 2, one minimum-size arena).
// Invariants checked, and how:
//   - ORACLE-CONCURRENT-READ: every read returns a whole sector that was written to that LBA (or
//     zeros): each word carries a tag (LBA, write number, word), so a torn sector or another
//     LBA's data is identified exactly;
//   - ORACLE-LINEARIZABLE: the history of every LBA (each operation's invocation and response on
//     the run's logical clock, then a final sequential read-back) has a linearization: an order
//     that respects real time in which every read returns the latest write or zero (Wing & Gong
//     search; LBAs are independent registers, and linearizability is local);
//   - ORACLE-CHECK: Btt::Check is clean after the run; the run itself completes (no deadlock,
//     no livelock past the step bound, no operation error);
//   - the same search runs under many random and PCT seeds and exhaustively within a small
//     preemption bound; the schedule and the medium's event log are deterministic, and every
//     medium event is issued by the simulated lane that runs the operation;
//   - the oracle can fail: synthetic torn, misdirected and non-linearizable histories are caught,
//     and (mutant build) the seeded mutant read-recheck-block-only, which survives the sequential
//     crash explorer, is killed by this concurrent search while the real core passes it.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "btt/btt.h"
#include "btt/mutant.h"
#include "harness/explorer.h"
#include "harness/fiber_sync.h"
#include "harness/sequential_sync.h"
#include "harness/sim_namespace.h"
#include "sim/medium.h"
#include "sim/scheduler.h"

namespace tearproof::harness {
namespace {

constexpr uint32_t kSectorBytes = 512;
constexpr uint64_t kSetupWriteBase = 0x8000;  // write numbers of setup writes

// The mutant build (btt/mutant.h) selects mutants at run time; the production build has none.
void SetMutantIfBuilt([[maybe_unused]] btt::Mutant m) {
#ifdef TEARPROOF_BTT_MUTANTS
  btt::SetMutant(m);
#else
  TP_ASSERT(m == btt::Mutant::kNone, "TEST-MUTANTS-NOT-BUILT");
#endif
}

// --- Workloads --------------------------------------------------------------------------------

struct Op {
  enum class Kind : uint8_t { kWrite, kZero, kRead };
  Kind kind = Kind::kRead;
  uint64_t lba = 0;
};

// "w1 r2 z1": write, read, zero of an LBA.
std::vector<Op> ParseOps(std::string_view text) {
  std::vector<Op> ops;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    Op op;
    op.kind = text[i] == 'w'   ? Op::Kind::kWrite
              : text[i] == 'z' ? Op::Kind::kZero
                               : Op::Kind::kRead;
    TP_ASSERT(text[i] == 'w' || text[i] == 'z' || text[i] == 'r', "TEST-OP-KIND");
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9')
      op.lba = op.lba * 10 + (text[i++] - '0');
    ops.push_back(op);
  }
  return ops;
}

struct Workload {
  std::string setup;               // run sequentially after format, before the lanes
  std::vector<std::string> lanes;  // one op string per scheduler lane
  std::string Name() const {
    std::string n = setup.empty() ? "" : "[" + setup + "] ";
    for (size_t i = 0; i < lanes.size(); ++i) {
      if (i > 0) n += " || ";
      n += lanes[i];
    }
    return n;
  }
};

// --- Sector values ----------------------------------------------------------------------------

std::vector<std::byte> TaggedSector(uint64_t lba, uint64_t write_id) {
  std::vector<std::byte> s(kSectorBytes);
  for (uint64_t w = 0; w < kSectorBytes / 8; ++w) {
    const uint64_t tag = SectorTag(lba, write_id, w);
    std::memcpy(s.data() + w * 8, &tag, 8);
  }
  return s;
}

// What a sector read from `lba` holds: zeros (value 0), one whole write of this LBA (value =
// its write number), or a violation (torn, another LBA's, untagged).
struct Observed {
  bool whole = true;
  uint64_t value = 0;
  std::string problem;
};

Observed Identify(uint64_t lba, std::span<const std::byte> sector) {
  std::vector<uint64_t> words(sector.size() / 8);
  std::memcpy(words.data(), sector.data(), sector.size());
  Observed o;
  if (std::all_of(words.begin(), words.end(), [](uint64_t w) { return w == 0; })) return o;
  const uint64_t first = words[0];
  const uint64_t write_id = (first >> 16) & 0xFFFF;
  const uint64_t source_lba = (first >> 32) & 0xFFFF;
  for (uint64_t w = 0; w < words.size(); ++w) {
    if (words[w] != SectorTag(source_lba, write_id, w)) {
      o.whole = false;
      o.problem =
          "torn: word 0 is write " + std::to_string(write_id) + " of lba " +
          std::to_string(source_lba) + " but word " + std::to_string(w) + " is 0x" + [&] {
            char b[17];
            std::snprintf(b, sizeof(b), "%016llx", static_cast<unsigned long long>(words[w]));
            return std::string(b);
          }();
      return o;
    }
  }
  if (source_lba != lba) {
    o.whole = false;
    o.problem = "misdirected: reads write " + std::to_string(write_id) + " of lba " +
                std::to_string(source_lba);
    return o;
  }
  o.value = write_id;
  return o;
}

// --- Linearizability --------------------------------------------------------------------------

struct HistoryOp {
  Op::Kind kind = Op::Kind::kRead;
  uint64_t value = 0;  // written value (0 for zero) or value read
  uint64_t invoke = 0;
  uint64_t respond = 0;
  std::string Describe() const {
    const char* k = kind == Op::Kind::kWrite ? "write" : kind == Op::Kind::kZero ? "zero" : "read";
    std::string d = k;
    for (const std::string& part :
         {std::string("="), std::to_string(value), std::string("@["), std::to_string(invoke),
          std::string(","), std::to_string(respond), std::string("]")}) {
      d += part;
    }
    return d;
  }
};

// Is there a linearization of `ops` (one register, starting at `initial`)? Depth-first over the
// ops that may go next (no op is still pending that responded before it was invoked), memoized
// on (ops done, register value).
bool Linearizable(const std::vector<HistoryOp>& ops, uint64_t initial) {
  TP_ASSERT(ops.size() <= 63, "TEST-HISTORY-SMALL");
  std::set<std::pair<uint64_t, uint64_t>> seen;
  const uint64_t all = ops.size() == 64 ? ~0ULL : (1ULL << ops.size()) - 1;
  std::function<bool(uint64_t, uint64_t)> search = [&](uint64_t done, uint64_t value) {
    if (done == all) return true;
    if (!seen.insert({done, value}).second) return false;
    uint64_t earliest_response = UINT64_MAX;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (!(done >> i & 1)) earliest_response = std::min(earliest_response, ops[i].respond);
    }
    for (size_t i = 0; i < ops.size(); ++i) {
      if (done >> i & 1) continue;
      const HistoryOp& op = ops[i];
      // Some pending op finished before this one started: that op must come first.
      if (op.invoke > earliest_response) continue;
      if (op.kind == Op::Kind::kRead) {
        if (op.value == value && search(done | 1ULL << i, value)) return true;
      } else if (search(done | 1ULL << i, op.value)) {
        return true;
      }
    }
    return false;
  };
  return search(0, initial);
}

// "" or the first LBA whose history has no linearization.
std::string CheckHistory(const std::map<uint64_t, std::vector<HistoryOp>>& by_lba,
                         const std::map<uint64_t, uint64_t>& initial) {
  for (const auto& [lba, ops] : by_lba) {
    const auto it = initial.find(lba);
    const uint64_t start = it == initial.end() ? 0 : it->second;
    if (Linearizable(ops, start)) continue;
    std::string d = "ORACLE-LINEARIZABLE: lba " + std::to_string(lba) + " (initially " +
                    std::to_string(start) + "):";
    for (const HistoryOp& op : ops) {
      d += ' ';
      d += op.Describe();
    }
    return d;
  }
  return "";
}

// --- One concurrent run -----------------------------------------------------------------------

// A formatted (and optionally aged) medium that each run copies (copy-on-write).
struct World {
  sim::Medium base;
  std::map<uint64_t, uint64_t> initial;  // value of each LBA the setup wrote
};

btt::OpenOptions OpenOptionsWith(btt::Sync* sync) {
  btt::OpenOptions options;
  options.profile = btt::Profile::kLinux;
  options.sync = sync;
  options.lanes = btt::kMaxNfree;  // every lane in use, independent of the host's CPU count
  return options;
}

World MakeWorld(std::string_view setup) {
  auto medium = sim::Medium::Create(
      {.size_bytes = btt::BttOffsetFor(btt::Profile::kLinux) + btt::kMinArenaSize,
       .model = sim::PersistencyModel::kPx86,
       .event_log = false});
  TP_ASSERT(medium.ok(), "TEST-MEDIUM");
  World world{std::move(*medium), {}};
  SimNamespace ns(world.base);
  btt::FormatOptions format;
  format.profile = btt::Profile::kLinux;
  format.external_lbasize = kSectorBytes;
  format.nfree = 2;
  format.medium_is_zeroed = true;
  TP_ASSERT(btt::Btt::Format(ns, format).ok(), "TEST-FORMAT");
  // Setup runs with SequentialSync: BTT lanes round-robin from 0, so "w3 w0" leaves lane 0 with
  // block 3 free and lane 1 with block 0 free.
  SequentialSync sync;
  auto b = btt::Btt::Open(ns, OpenOptionsWith(&sync));
  TP_ASSERT(b.ok(), "TEST-OPEN");
  const std::vector<Op> ops = ParseOps(setup);
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (op.kind == Op::Kind::kWrite) {
      TP_ASSERT(
          (*b)->Write(btt::ExternalLba(op.lba), TaggedSector(op.lba, kSetupWriteBase + i)).ok(),
          "TEST-SETUP");
      world.initial[op.lba] = kSetupWriteBase + i;
    } else if (op.kind == Op::Kind::kZero) {
      TP_ASSERT((*b)->Zero(btt::ExternalLba(op.lba)).ok(), "TEST-SETUP");
      world.initial[op.lba] = 0;
    }
  }
  return world;
}

// How a run that did not complete is classified: a deadlock or livelock is a liveness failure
// of the core (an oracle verdict); an operation the core refused is a workload error (the core
// detected something, as in the crash explorer it is not counted as a kill); a schedule error is
// a replay that no longer fits the run.
const char* ViolationKind(sim::RunOutcome outcome) {
  switch (outcome) {
    case sim::RunOutcome::kDeadlock:
    case sim::RunOutcome::kStepBound:
      return "ORACLE-LIVENESS";
    case sim::RunOutcome::kLaneFailed:
      return "WORKLOAD-ERROR";
    default:
      return "SCHEDULE-ERROR";
  }
}

struct RunResult {
  sim::RunReport report;
  // "" if every check held, else "ORACLE-...", "WORKLOAD-ERROR" or "SCHEDULE-ERROR" and detail.
  std::string violation;
  uint64_t sync_waits = 0;
  std::vector<sim::Event> events;  // when requested
};

RunResult RunOnce(const World& world, const Workload& workload, sim::Scheduler& scheduler,
                  sim::Strategy& strategy, bool record_events = false) {
  RunResult result;
  sim::Medium medium = world.base.MaterializeCrash(world.base.GuaranteedState());
  medium.set_event_log_enabled(record_events);
  SimNamespace ns(medium);
  FiberSync sync(scheduler);
  auto opened = btt::Btt::Open(ns, OpenOptionsWith(&sync));
  if (!opened.ok()) {
    result.violation = "WORKLOAD-ERROR: open: " + opened.status().ToString();
    return result;
  }
  btt::Btt& b = **opened;

  // Write numbers: 1 + the op's position in the workload (lanes in order).
  std::vector<std::vector<Op>> lane_ops;
  std::vector<std::vector<uint64_t>> write_ids;
  uint64_t next_id = 1;
  for (const std::string& text : workload.lanes) {
    lane_ops.push_back(ParseOps(text));
    write_ids.emplace_back();
    for (size_t i = 0; i < lane_ops.back().size(); ++i) write_ids.back().push_back(next_id++);
  }

  uint64_t clock = 0;  // logical time: lanes run one at a time, so this is real-time order
  std::map<uint64_t, std::vector<HistoryOp>> history;
  std::string read_problem;
  std::vector<sim::LaneBody> bodies;
  for (size_t lane = 0; lane < lane_ops.size(); ++lane) {
    bodies.push_back([&, lane]() -> Status {
      std::vector<std::byte> buffer(kSectorBytes);
      for (size_t i = 0; i < lane_ops[lane].size(); ++i) {
        const Op& op = lane_ops[lane][i];
        HistoryOp h;
        h.kind = op.kind;
        h.invoke = clock++;
        Status s;
        if (op.kind == Op::Kind::kWrite) {
          h.value = write_ids[lane][i];
          s = b.Write(btt::ExternalLba(op.lba), TaggedSector(op.lba, h.value));
        } else if (op.kind == Op::Kind::kZero) {
          s = b.Zero(btt::ExternalLba(op.lba));
        } else {
          s = b.Read(btt::ExternalLba(op.lba), buffer);
          const Observed o = Identify(op.lba, buffer);
          if (!o.whole && read_problem.empty()) {
            read_problem = "ORACLE-CONCURRENT-READ: lane " + std::to_string(lane) +
                           " read of lba " + std::to_string(op.lba) + " is " + o.problem;
          }
          h.value = o.value;
        }
        h.respond = clock++;
        if (!s.ok())
          return s.Annotate("op " + std::to_string(i) + " on lba " + std::to_string(op.lba) + ": ");
        history[op.lba].push_back(h);
      }
      return Status::Ok();
    });
  }
  AttachScheduler(ns, scheduler);
  result.report = scheduler.Run(std::move(bodies), strategy);
  ns.set_op_hook(nullptr);
  scheduler.set_switch_callback(nullptr);
  result.sync_waits = sync.waits();
  if (record_events) result.events = medium.events();
  if (!result.report.ok()) {
    result.violation = std::string(ViolationKind(result.report.outcome)) + ": run " +
                       sim::RunOutcomeName(result.report.outcome) + ": " +
                       result.report.status.ToString();
    return result;
  }
  if (!read_problem.empty()) {
    result.violation = read_problem;
    return result;
  }
  // Final contents: a sequential read-back after every lane finished.
  std::vector<std::byte> buffer(kSectorBytes);
  for (auto& [lba, ops] : history) {
    const Status s = b.Read(btt::ExternalLba(lba), buffer);
    const Observed o = Identify(lba, buffer);
    if (!s.ok() || !o.whole) {
      result.violation = "ORACLE-CONCURRENT-READ: final read of lba " + std::to_string(lba) + ": " +
                         (s.ok() ? o.problem : s.ToString());
      return result;
    }
    HistoryOp h{Op::Kind::kRead, o.value, clock, clock + 1};
    clock += 2;
    ops.push_back(h);
  }
  result.violation = CheckHistory(history, world.initial);
  if (!result.violation.empty()) return result;
  auto check = b.Check(/*repair=*/false);
  if (!check.ok() || !check->Clean()) {
    result.violation =
        "ORACLE-CHECK: " + (check.ok() ? check->ToString() : check.status().ToString());
  }
  return result;
}

std::unique_ptr<sim::Scheduler> MakeScheduler() {
  auto s = sim::Scheduler::Create({.max_lanes = 4, .max_steps = 1 << 16});
  TP_ASSERT(s.ok(), "TEST-SCHEDULER");
  return std::move(*s);
}

// The workloads of the concurrent search. The last two start from an aged medium where lane 1's
// free block is block 0: a write of an identity-mapped LBA then maps it to block 0, whose bare
// number equals that of an identity (flags 00) map entry.
const std::vector<Workload>& SearchWorkloads() {
  static const std::vector<Workload> kWorkloads = {
      {"", {"w0 r1", "w1 r0"}}, {"", {"w0 z0", "r0 r0"}},   {"w1", {"w1 r1", "z1 w1"}},
      {"", {"w0 w1", "w1 w0"}}, {"w3 w0", {"r1", "w1 w2"}}, {"w3 w0", {"r1 r2", "w1 z1 w2"}},
  };
  return kWorkloads;
}

struct SearchStats {
  uint64_t runs = 0;
  uint64_t runs_with_waits = 0;
  uint64_t preemptions_max = 0;
  uint64_t other_errors = 0;    // WORKLOAD-ERROR / SCHEDULE-ERROR runs
  std::string first_violation;  // ORACLE-*, with workload, strategy and schedule
  std::string first_error;      // the first other error, likewise
  Workload failing_workload;
  std::vector<uint32_t> failing_schedule;
};

void Record(SearchStats& stats, const Workload& w, const std::string& strategy,
            const RunResult& r) {
  ++stats.runs;
  stats.runs_with_waits += r.sync_waits > 0 ? 1 : 0;
  stats.preemptions_max = std::max(stats.preemptions_max, r.report.preemptions);
  if (r.violation.empty()) return;
  const std::string where = w.Name() + " under " + strategy + ", schedule " +
                            sim::ScheduleToString(r.report.schedule) + ": " + r.violation;
  if (r.violation.rfind("ORACLE-", 0) != 0) {
    ++stats.other_errors;
    if (stats.first_error.empty()) stats.first_error = where;
  } else if (stats.first_violation.empty()) {
    stats.first_violation = where;
    stats.failing_workload = w;
    stats.failing_schedule = r.report.schedule;
  }
}

// Every workload exhaustively within `bound` preemptions, then under `seeds` PCT (depth 2 and 3)
// and random seeds. Stops at the first ORACLE violation. `mutant` (mutant build) is switched on
// after each workload's setup, so setup always runs on the unmutated core.
SearchStats Search(uint32_t bound, uint64_t seeds, std::optional<btt::Mutant> mutant = {}) {
  SearchStats stats;
  auto scheduler = MakeScheduler();
  for (const Workload& w : SearchWorkloads()) {
    if (mutant) SetMutantIfBuilt(btt::Mutant::kNone);
    const World world = MakeWorld(w.setup);
    if (mutant) SetMutantIfBuilt(*mutant);
    sim::ExhaustiveStrategy ex(bound);
    do {
      Record(stats, w, "exhaustive bound " + std::to_string(bound),
             RunOnce(world, w, *scheduler, ex));
      if (!stats.first_violation.empty()) break;
    } while (ex.Advance());
    for (uint64_t i = 0; i < seeds && stats.first_violation.empty(); ++i) {
      const uint64_t seed = sim::RunSeed(20261126, i);
      sim::PctStrategy pct(seed, 2 + i % 2, 60);
      Record(stats, w, "pct seed " + std::to_string(seed), RunOnce(world, w, *scheduler, pct));
      sim::RandomStrategy random(seed);
      Record(stats, w, "random seed " + std::to_string(seed),
             RunOnce(world, w, *scheduler, random));
      if (!stats.first_violation.empty()) break;
    }
    if (!stats.first_violation.empty()) break;
  }
  if (mutant) SetMutantIfBuilt(btt::Mutant::kNone);
  return stats;
}

#ifndef TEARPROOF_CONCURRENCY_DEEP

// --- The oracle can fail ----------------------------------------------------------------------

TEST(ConcurrencyOracle, IdentifiesTornMisdirectedAndWholeSectors) {
  std::vector<std::byte> s = TaggedSector(4, 7);
  EXPECT_TRUE(Identify(4, s).whole);
  EXPECT_EQ(Identify(4, s).value, 7u);
  EXPECT_FALSE(Identify(5, s).whole);
  EXPECT_NE(Identify(5, s).problem.find("misdirected"), std::string::npos);
  const std::vector<std::byte> other = TaggedSector(4, 8);
  std::memcpy(s.data() + 256, other.data() + 256, 256);
  EXPECT_FALSE(Identify(4, s).whole);
  EXPECT_NE(Identify(4, s).problem.find("torn"), std::string::npos);
  EXPECT_TRUE(Identify(4, std::vector<std::byte>(kSectorBytes)).whole);
  EXPECT_EQ(Identify(4, std::vector<std::byte>(kSectorBytes)).value, 0u);
}

TEST(ConcurrencyOracle, LinearizabilityAcceptsOverlapsAndRejectsStaleReads) {
  using K = Op::Kind;
  // A read overlapping a write may see either value.
  EXPECT_TRUE(Linearizable({{K::kWrite, 5, 0, 3}, {K::kRead, 0, 1, 2}}, 0));
  EXPECT_TRUE(Linearizable({{K::kWrite, 5, 0, 3}, {K::kRead, 5, 1, 2}}, 0));
  // A read after the write completed must see it (stale), and a value never written is wrong.
  EXPECT_FALSE(Linearizable({{K::kWrite, 5, 0, 1}, {K::kRead, 0, 2, 3}}, 0));
  EXPECT_FALSE(Linearizable({{K::kWrite, 5, 0, 3}, {K::kRead, 6, 1, 2}}, 0));
  // Two reads in real-time order cannot see new then old.
  EXPECT_FALSE(Linearizable({{K::kWrite, 5, 0, 9}, {K::kRead, 5, 1, 2}, {K::kRead, 0, 3, 4}}, 0));
  EXPECT_TRUE(Linearizable({{K::kWrite, 5, 0, 9}, {K::kRead, 0, 1, 2}, {K::kRead, 5, 3, 4}}, 0));
  // Zero is a write of 0; the initial value counts.
  EXPECT_TRUE(Linearizable({{K::kZero, 0, 0, 1}, {K::kRead, 0, 2, 3}}, 9));
  EXPECT_FALSE(Linearizable({{K::kRead, 0, 0, 1}}, 9));
  const std::string bad = CheckHistory({{3, {{K::kRead, 1, 0, 1}}}}, {});
  EXPECT_NE(bad.find("ORACLE-LINEARIZABLE: lba 3"), std::string::npos) << bad;
}

// --- FiberSync on its own ---------------------------------------------------------------------

TEST(FiberSync, LanesAreExclusiveAndWaitersPark) {
  auto scheduler = MakeScheduler();
  sim::ExhaustiveStrategy ex(2);
  uint64_t runs = 0, waits = 0;
  do {
    FiberSync sync(*scheduler);
    ASSERT_TRUE(sync.Init(2, 1).ok());
    std::vector<int> holders(2, 0);
    int max_holders = 0;
    auto lane = [&]() -> Status {
      const btt::Lane l = sync.AcquireLane();
      max_holders = std::max(max_holders, ++holders[l.value()]);
      scheduler->Yield("work");
      --holders[l.value()];
      sync.ReleaseLane(l);
      return Status::Ok();
    };
    const sim::RunReport r = scheduler->Run({lane, lane, lane}, ex);
    ASSERT_TRUE(r.ok()) << r.status.ToString();
    EXPECT_EQ(max_holders, 1);
    ++runs;
    waits += sync.waits();
  } while (ex.Advance());
  EXPECT_GT(runs, 10u);
  EXPECT_GT(waits, 0u);  // three lanes, two BTT lanes: some schedule parks a waiter
}

TEST(FiberSync, LockOrderInversionIsFoundAsADeadlock) {
  // The core never holds two map locks; a caller that does, in opposite orders, deadlocks, and
  // the bounded search reports it instead of hanging.
  auto scheduler = MakeScheduler();
  sim::ExhaustiveStrategy ex(1);
  std::string deadlock;
  do {
    FiberSync sync(*scheduler);
    ASSERT_TRUE(sync.Init(1, 2).ok());
    auto locker = [&](uint32_t first, uint32_t second) {
      return [&, first, second]() -> Status {
        sync.LockMap(first);
        sync.LockMap(second);
        sync.UnlockMap(second);
        sync.UnlockMap(first);
        return Status::Ok();
      };
    };
    const sim::RunReport r = scheduler->Run({locker(0, 1), locker(1, 0)}, ex);
    if (r.outcome == sim::RunOutcome::kDeadlock) {
      deadlock = r.status.message();
      break;
    }
    ASSERT_TRUE(r.ok()) << r.status.ToString();
  } while (ex.Advance());
  ASSERT_FALSE(deadlock.empty());
  EXPECT_NE(deadlock.find("'fiber-sync lock map (held)' (1)"), std::string::npos) << deadlock;
  EXPECT_NE(deadlock.find("'fiber-sync lock map (held)' (0)"), std::string::npos) << deadlock;
}

// --- The real core under interleaved lanes ----------------------------------------------------

TEST(ConcurrentBtt, EveryWorkloadIsLinearizableUnderTheSearch) {
  // Exhaustive within 1 preemption, plus 48 PCT and 48 random seeds, per workload (the slow
  // tier, harness_concurrency_deep_test, goes to 2 preemptions).
  const SearchStats stats = Search(/*bound=*/1, /*seeds=*/48);
  EXPECT_EQ(stats.first_violation, "");
  EXPECT_EQ(stats.first_error, "");
  std::printf("concurrent search: %llu runs, %llu reached lane or lock contention\n",
              static_cast<unsigned long long>(stats.runs),
              static_cast<unsigned long long>(stats.runs_with_waits));
  EXPECT_GT(stats.runs_with_waits, 0u);
  EXPECT_GT(stats.preemptions_max, 1u);  // random and PCT go beyond the bound
}

TEST(ConcurrentBtt, SameScheduleSameMediumEventsAndEachEventHasItsLane) {
  const Workload w{"", {"w1 r2", "w2 z1", "r1 w3"}};
  const World world = MakeWorld(w.setup);
  auto scheduler = MakeScheduler();
  for (uint64_t seed = 0; seed < 8; ++seed) {
    sim::RandomStrategy a(seed), b(seed);
    const RunResult r1 = RunOnce(world, w, *scheduler, a, /*record_events=*/true);
    const RunResult r2 = RunOnce(world, w, *scheduler, b, /*record_events=*/true);
    ASSERT_EQ(r1.violation, "");
    EXPECT_EQ(r1.report.schedule, r2.report.schedule);
    EXPECT_EQ(r1.events, r2.events);  // bit for bit, lanes included
    // The data stores of lba 1's, 2's and 3's writes are issued by the lanes that wrote them
    // (lanes 0, 1 and 2): the switch callback kept the medium lane in step.
    int data_stores = 0;
    for (const sim::Event& e : r1.events) {
      if (e.kind != sim::EventKind::kStore || e.data.size() != kSectorBytes) continue;
      uint64_t first = 0;
      std::memcpy(&first, e.data.data(), 8);
      const uint64_t lba = (first >> 32) & 0xFFFF;
      const uint32_t want = lba == 1 ? 0 : lba == 2 ? 1 : 2;
      EXPECT_EQ(sim::LaneIndex(e.lane), want) << e.ToString();
      ++data_stores;
    }
    EXPECT_EQ(data_stores, 3);
  }
}

TEST(ConcurrentBtt, ThreeWritersOnTwoLanesAreLinearizableAndPark) {
  // Three scheduler lanes, nfree 2: writers contend for BTT lanes and for the map lock of the
  // line holding LBAs 0..15.
  const Workload w{"", {"w0 r1", "w1 r2", "w2 w0"}};
  const World world = MakeWorld(w.setup);
  auto scheduler = MakeScheduler();
  uint64_t waited = 0;
  for (uint64_t i = 0; i < 32; ++i) {
    const uint64_t seed = sim::RunSeed(7, i);
    sim::RandomStrategy random(seed);
    sim::PctStrategy pct(seed, 3, 80);
    for (sim::Strategy* strategy : std::array<sim::Strategy*, 2>{&random, &pct}) {
      const RunResult r = RunOnce(world, w, *scheduler, *strategy);
      ASSERT_EQ(r.violation, "") << "seed " << seed;
      waited += r.sync_waits > 0 ? 1 : 0;
    }
  }
  EXPECT_GT(waited, 0u);
}

#ifdef TEARPROOF_BTT_MUTANTS

TEST(ConcurrentMutants, ReadRecheckBlockOnlyIsKilledAndTheRealCorePassesTheSameSearch) {
  // The identical search, bound 1 then 16 PCT/random seeds per workload, stopping at the first
  // ORACLE violation.
  const SearchStats real = Search(/*bound=*/1, /*seeds=*/16, btt::Mutant::kNone);
  EXPECT_EQ(real.first_violation, "");
  EXPECT_EQ(real.first_error, "");
  const SearchStats mutant = Search(/*bound=*/1, /*seeds=*/16, btt::Mutant::kReadRecheckBlockOnly);
  ASSERT_NE(mutant.first_violation, "")
      << "read-recheck-block-only survived " << mutant.runs << " concurrent runs";
  std::printf("read-recheck-block-only killed after %llu runs (real core: %llu runs clean): %s\n",
              static_cast<unsigned long long>(mutant.runs),
              static_cast<unsigned long long>(real.runs), mutant.first_violation.c_str());
  // The kill is a read returning another LBA's sector (the freed block was reused).
  EXPECT_NE(mutant.first_violation.find("ORACLE-CONCURRENT-READ"), std::string::npos);

  // The failing schedule replays: the mutant fails again, the real core passes it.
  const World world = MakeWorld(mutant.failing_workload.setup);
  auto scheduler = MakeScheduler();
  SetMutantIfBuilt(btt::Mutant::kReadRecheckBlockOnly);
  sim::ReplayStrategy replay(mutant.failing_schedule);
  const RunResult again = RunOnce(world, mutant.failing_workload, *scheduler, replay);
  SetMutantIfBuilt(btt::Mutant::kNone);
  EXPECT_EQ(again.violation.rfind("ORACLE-CONCURRENT-READ", 0), 0u) << again.violation;
  EXPECT_EQ(again.report.schedule, mutant.failing_schedule);
  sim::ReplayStrategy prefix(mutant.failing_schedule, /*strict=*/false);
  const RunResult clean = RunOnce(world, mutant.failing_workload, *scheduler, prefix);
  // The real core sees the changed map entry and retries, so its run leaves the recorded
  // schedule there: it completes cleanly, or the replay no longer fits (a schedule error).
  EXPECT_TRUE(clean.violation.empty() || clean.violation.rfind("SCHEDULE-ERROR", 0) == 0)
      << clean.violation;
}

#endif  // TEARPROOF_BTT_MUTANTS

#else  // TEARPROOF_CONCURRENCY_DEEP: the slow tier (built against the mutant core)

TEST(ConcurrentBttDeep, EveryWorkloadIsLinearizableWithinTwoPreemptions) {
  const SearchStats stats = Search(/*bound=*/2, /*seeds=*/256, btt::Mutant::kNone);
  EXPECT_EQ(stats.first_violation, "");
  EXPECT_EQ(stats.first_error, "");
  std::printf("deep concurrent search: %llu runs, %llu reached lane or lock contention\n",
              static_cast<unsigned long long>(stats.runs),
              static_cast<unsigned long long>(stats.runs_with_waits));
}

// Which seeded mutants the crash-free concurrent search kills. Most mutants break durability
// ordering and need a crash to show; this search has none, so it kills those that corrupt what a
// running BTT returns or keeps.
TEST(ConcurrentBttDeep, MutantKillTableOfTheConcurrentSearch) {
  std::set<std::string> killed;
  for (const btt::Mutant m : btt::AllMutants()) {
    const SearchStats stats = Search(/*bound=*/1, /*seeds=*/16, m);
    const std::string name(btt::MutantName(m));
    if (!stats.first_violation.empty()) killed.insert(name);
    std::printf("%-28s %s\n", name.c_str(),
                !stats.first_violation.empty()
                    ? ("KILLED " + stats.first_violation).c_str()
                    : ("survives " + std::to_string(stats.runs) + " runs, " +
                       std::to_string(stats.other_errors) + " workload errors" +
                       (stats.first_error.empty() ? "" : ": " + stats.first_error))
                          .c_str());
  }
  // Deterministic: a change here means the core or the search changed; update docs/explorer.md.
  const std::set<std::string> expected = {
      "seq-not-advanced",  "seq-skips",         "write-active-slot",    "recover-older-slot",
      "free-not-replaced", "map-without-flags", "flog-layout-zero-two", "read-recheck-block-only"};
  EXPECT_EQ(killed, expected);
}

#endif  // TEARPROOF_CONCURRENCY_DEEP

}  // namespace
}  // namespace tearproof::harness
