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
//   - the search of `tearproof prove`'s concurrent phase (harness/concurrent_search.h, the
//     oracle above) runs under many random and PCT seeds and exhaustively within a small
//     preemption bound; the schedule and the medium's event log are deterministic, and every
//     medium event is issued by the simulated lane that runs the operation;
//   - the oracle can fail: synthetic torn, misdirected and non-linearizable histories are caught,
//     and (mutant build) the seeded mutant read-recheck-block-only, which survives the sequential
//     crash explorer, is killed by this concurrent search while the real core passes it.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "btt/btt.h"
#include "btt/mutant.h"
#include "harness/concurrent_search.h"
#include "harness/explorer.h"
#include "harness/fiber_sync.h"
#include "sim/scheduler.h"

namespace tearproof::harness {
namespace {

constexpr uint32_t kSectorBytes = 512;  // the search's geometry (concurrent_search.h)

[[maybe_unused]] std::vector<std::byte> TaggedSector(uint64_t lba, uint64_t write_id) {
  std::vector<std::byte> s(kSectorBytes);
  for (uint64_t w = 0; w < kSectorBytes / 8; ++w) {
    const uint64_t tag = SectorTag(lba, write_id, w);
    std::memcpy(s.data() + w * 8, &tag, 8);
  }
  return s;
}

[[maybe_unused]] std::unique_ptr<sim::Scheduler> MakeScheduler() {
  auto s = sim::Scheduler::Create({.max_lanes = 4, .max_steps = 1 << 16});
  TP_ASSERT(s.ok(), "TEST-SCHEDULER");
  return std::move(*s);
}

// The search of prove's concurrent phase (harness/concurrent_search.h) over its standard
// workloads: every schedule within `bound` preemptions, then `seeds` PCT (depth 2 and 3) and
// `seeds` random runs per workload, stopping at the first ORACLE violation; `mutant` (mutant
// build) is switched on after each workload's setup.
ConcurrentSearchResult Search(uint32_t bound, uint64_t seeds,
                              btt::Mutant mutant = btt::Mutant::kNone) {
  ConcurrentSearchOptions options;
  options.preemption_bound = bound;
  options.pct_seeds = seeds;
  options.random_seeds = seeds;
  options.mutant = mutant;
  auto result = SearchConcurrent(StandardConcurrentWorkloads(), options);
  TP_ASSERT(result.ok(), "TEST-SEARCH");
  return *result;
}

uint64_t Runs(const ConcurrentSearchResult& r) { return r.exhaustive.runs + r.sampled.runs; }

#ifndef TEARPROOF_CONCURRENCY_DEEP

// --- The oracle can fail ----------------------------------------------------------------------

TEST(ConcurrencyOracle, IdentifiesTornMisdirectedAndWholeSectors) {
  const std::set<uint64_t> values = {7, 8};  // the writes of lba 4 in some workload
  std::vector<std::byte> s = TaggedSector(4, 7);
  std::string problem;
  EXPECT_EQ(IdentifySector(4, s, values, &problem), 7u);
  EXPECT_EQ(problem, "");
  // Another LBA's write 7 read as lba 5: misdirected.
  EXPECT_EQ(IdentifySector(5, s, values, &problem), 0u);
  EXPECT_NE(problem.find("write 7 of lba 4"), std::string::npos) << problem;
  // Half of write 7, half of write 8: torn.
  const std::vector<std::byte> other = TaggedSector(4, 8);
  std::memcpy(s.data() + 256, other.data() + 256, 256);
  problem.clear();
  EXPECT_EQ(IdentifySector(4, s, values, &problem), 0u);
  EXPECT_NE(problem.find("words 0-31 write 7 of lba 4, words 32-63 write 8 of lba 4"),
            std::string::npos)
      << problem;
  // A whole write that this LBA never had.
  problem.clear();
  EXPECT_EQ(IdentifySector(4, TaggedSector(4, 9), values, &problem), 0u);
  EXPECT_NE(problem, "");
  problem.clear();
  EXPECT_EQ(IdentifySector(4, std::vector<std::byte>(kSectorBytes), values, &problem), 0u);
  EXPECT_EQ(problem, "");  // zeros
}

TEST(ConcurrencyOracle, LinearizabilityAcceptsOverlapsAndRejectsStaleReads) {
  using K = WorkloadOp::Kind;
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
  const ConcurrentSearchResult r = Search(/*bound=*/1, /*seeds=*/48);
  EXPECT_EQ(r.first_violation, "");
  EXPECT_EQ(r.first_error, "");
  EXPECT_TRUE(r.exhaustive_complete);
  std::printf("concurrent search: %llu runs, %llu reached lane or lock contention\n",
              static_cast<unsigned long long>(Runs(r)),
              static_cast<unsigned long long>(r.exhaustive.runs_with_contention +
                                              r.sampled.runs_with_contention));
  EXPECT_GT(r.exhaustive.runs_with_contention + r.sampled.runs_with_contention, 0u);
  EXPECT_GT(r.sampled.preemptions_max, 1u);  // random and PCT go beyond the bound
}

TEST(ConcurrentBtt, SameScheduleSameMediumEventsAndEachEventHasItsLane) {
  const ConcurrentWorkload w{"", {"w1 r2", "w2 z1", "r1 w3"}};
  auto scheduler = MakeScheduler();
  for (uint64_t seed = 0; seed < 8; ++seed) {
    sim::RandomStrategy a(seed), b(seed);
    auto r1 = RunConcurrent(w, *scheduler, a, btt::Mutant::kNone, /*record_events=*/true);
    auto r2 = RunConcurrent(w, *scheduler, b, btt::Mutant::kNone, /*record_events=*/true);
    ASSERT_TRUE(r1.ok() && r2.ok());
    ASSERT_EQ(r1->check, "") << r1->detail;
    EXPECT_EQ(r1->report.schedule, r2->report.schedule);
    EXPECT_EQ(r1->events, r2->events);  // bit for bit, lanes included
    // The data stores of lba 1's, 2's and 3's writes are issued by the lanes that wrote them
    // (lanes 0, 1 and 2): the switch callback kept the medium lane in step.
    int data_stores = 0;
    for (const sim::Event& e : r1->events) {
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
  ConcurrentSearchOptions options;
  options.preemption_bound = 0;
  options.pct_seeds = 32;
  options.random_seeds = 32;
  options.seed_base = 7;
  auto r = SearchConcurrent({{"", {"w0 r1", "w1 r2", "w2 w0"}}}, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_violation, "");
  EXPECT_EQ(r->first_error, "");
  EXPECT_GT(r->sampled.runs_with_contention, 0u);
}

#ifdef TEARPROOF_BTT_MUTANTS

TEST(ConcurrentMutants, ReadRecheckBlockOnlyIsKilledAndTheRealCorePassesTheSameSearch) {
  // The identical search, bound 1 then 16 PCT/random seeds per workload, stopping at the first
  // ORACLE violation.
  const ConcurrentSearchResult real = Search(/*bound=*/1, /*seeds=*/16, btt::Mutant::kNone);
  EXPECT_EQ(real.first_violation, "");
  EXPECT_EQ(real.first_error, "");
  const ConcurrentSearchResult mutant =
      Search(/*bound=*/1, /*seeds=*/16, btt::Mutant::kReadRecheckBlockOnly);
  ASSERT_NE(mutant.first_violation, "")
      << "read-recheck-block-only survived " << Runs(mutant) << " concurrent runs";
  std::printf("read-recheck-block-only killed after %llu runs (real core: %llu runs clean): %s\n",
              static_cast<unsigned long long>(Runs(mutant)),
              static_cast<unsigned long long>(Runs(real)), mutant.first_violation.c_str());
  // The kill is a read returning another LBA's sector (the freed block was reused).
  EXPECT_EQ(mutant.violation_check, "ORACLE-CONCURRENT-READ");

  // The failing schedule replays: the mutant fails again, the real core passes it.
  const ConcurrentWorkload* failing = nullptr;
  for (const ConcurrentWorkload& w : StandardConcurrentWorkloads()) {
    if (w.Name() == mutant.violation_workload) failing = &w;
  }
  ASSERT_NE(failing, nullptr) << mutant.violation_workload;
  auto schedule = sim::ParseSchedule(mutant.violation_schedule);
  ASSERT_TRUE(schedule.ok());
  auto scheduler = MakeScheduler();
  sim::ReplayStrategy replay(*schedule);
  auto again = RunConcurrent(*failing, *scheduler, replay, btt::Mutant::kReadRecheckBlockOnly);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->check, "ORACLE-CONCURRENT-READ") << again->detail;
  EXPECT_EQ(again->report.schedule, *schedule);
  sim::ReplayStrategy prefix(*schedule, /*strict=*/false);
  auto clean = RunConcurrent(*failing, *scheduler, prefix);
  ASSERT_TRUE(clean.ok());
  // The real core sees the changed map entry and retries, so its run leaves the recorded
  // schedule there: it completes cleanly, or the replay no longer fits (an error, not a verdict).
  EXPECT_TRUE(clean->check.empty() || clean->check == "ERROR") << clean->detail;
}

#endif  // TEARPROOF_BTT_MUTANTS

#else  // TEARPROOF_CONCURRENCY_DEEP: the slow tier (built against the mutant core)

TEST(ConcurrentBttDeep, EveryWorkloadIsLinearizableWithinTwoPreemptions) {
  const ConcurrentSearchResult r = Search(/*bound=*/2, /*seeds=*/256, btt::Mutant::kNone);
  EXPECT_EQ(r.first_violation, "");
  EXPECT_EQ(r.first_error, "");
  EXPECT_TRUE(r.exhaustive_complete);
  std::printf("deep concurrent search: %llu runs, %llu reached lane or lock contention\n",
              static_cast<unsigned long long>(Runs(r)),
              static_cast<unsigned long long>(r.exhaustive.runs_with_contention +
                                              r.sampled.runs_with_contention));
}

// Which seeded mutants the crash-free concurrent search kills. Most mutants break durability
// ordering and need a crash to show; this search has none, so it kills those that corrupt what a
// running BTT returns or keeps.
TEST(ConcurrentBttDeep, MutantKillTableOfTheConcurrentSearch) {
  std::set<std::string> killed;
  for (const btt::Mutant m : btt::AllMutants()) {
    const ConcurrentSearchResult r = Search(/*bound=*/1, /*seeds=*/16, m);
    const std::string name(btt::MutantName(m));
    if (!r.first_violation.empty()) killed.insert(name);
    std::printf("%-28s %s\n", name.c_str(),
                !r.first_violation.empty()
                    ? ("KILLED " + r.first_violation).c_str()
                    : ("survives " + std::to_string(Runs(r)) + " runs, " +
                       std::to_string(r.exhaustive.errors + r.sampled.errors) + " workload errors" +
                       (r.first_error.empty() ? "" : ": " + r.first_error))
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
