// Replay and minimize on the production core and the plain-pmem control.
// Invariants checked: a trace written from an explored violation replays to the same check and
// detail (through its text form), and its timeline names the crash point, the pending store, the
// words that persisted and the torn sector word by word; a trace of a crash state the oracle
// accepts replays as a pass; a trace's track_lbas has the replay judge those LBAs too (and
// minimize drops it when the violation does not need it); a trace naming a mutant is refused by the
// production build with a message that names tearproof-mutants; minimize keeps the check while
// shrinking ops, LBAs, sector size, nfree and persisted words, is deterministic, and refuses traces
// that do not fail. A concurrent trace of the real core replays its schedule strictly as a pass,
// with every op on the run's clock in its timeline; a schedule this run leaves is judged instead by
// the search within the trace's preemptions (and says so); an expectation the real core does not
// meet is not reproduced; a malformed workload is an error.
#include "traces/replay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sim/scheduler.h"
#include "traces/minimize.h"
#include "traces/trace.h"

namespace tearproof::traces {
namespace {

using harness::ExploreConfig;
using Kind = harness::WorkloadOp::Kind;

// The first violation of exploring `config`, as a trace that went through its text form.
Trace TraceOfFirstViolation(const ExploreConfig& config) {
  auto explored = harness::Explore(config);
  EXPECT_TRUE(explored.ok()) << explored.status().ToString();
  EXPECT_FALSE(explored->violations.empty());
  const Trace t = TraceFromViolation(config, explored->violations.front());
  auto parsed = ParseTrace(SerializeTrace(t));
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return *parsed;
}

ExploreConfig PlainControl() {
  ExploreConfig config;
  config.device = harness::Device::kPlainPmem;
  config.model = sim::PersistencyModel::kWord8;
  config.max_states_per_point = 64;
  config.ops = {{Kind::kWrite, 0}};
  return config;
}

ExploreConfig LostFlushes() {
  ExploreConfig config;
  config.model = sim::PersistencyModel::kPx86;
  config.workload_flush = harness::FlushKind::kNone;
  config.check_layout = false;
  config.crash_in_recovery = false;
  config.max_states_per_point = 64;
  config.ops = {{Kind::kWrite, 0}, {Kind::kWrite, 0}};
  return config;
}

TEST(Replay, PlainPmemTornSectorReproducesWithATimeline) {
  const Trace trace = TraceOfFirstViolation(PlainControl());
  EXPECT_EQ(trace.expect.check, "ORACLE-ATOMIC");
  EXPECT_EQ(trace.mutant, "none");
  auto replayed = Replay(trace);
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_TRUE(replayed->matches_expectation);
  ASSERT_NE(replayed->Expected(trace), nullptr);
  EXPECT_EQ(replayed->Expected(trace)->detail, trace.expect.detail);
  EXPECT_EQ(replayed->resolution.size(), trace.resolution.size());

  const std::string timeline = FormatTimeline(trace, *replayed);
  for (const char* needle :
       {"device plain-pmem", "op 0  w0   write 1", "crash point 1 of 2",
        "just before a fence of op 0 w0", "pending at the crash", "store 0x0+512", "persisted 0x",
        "(write 1 of lba 0 word", "(63 words)  0/2  not persisted, keeps zero", "lba 0 torn",
        "verdict: VIOLATION ORACLE-ATOMIC", "the trace expects ORACLE-ATOMIC: reproduced"}) {
    EXPECT_NE(timeline.find(needle), std::string::npos) << "missing '" << needle << "' in\n"
                                                        << timeline;
  }
}

TEST(Replay, RealCoreUnderLostFlushesReproduces) {
  const Trace trace = TraceOfFirstViolation(LostFlushes());
  auto replayed = Replay(trace);
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_TRUE(replayed->matches_expectation) << FormatTimeline(trace, *replayed);
  // Same trace, twice: the same timeline, byte for byte.
  auto again = Replay(trace);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(FormatTimeline(trace, *again), FormatTimeline(trace, *replayed));
}

TEST(Replay, ACrashStateTheOracleAcceptsReplaysAsAPass) {
  Trace trace = TraceOfFirstViolation(PlainControl());
  trace.resolution.clear();  // nothing persisted: the old sector, whole
  auto replayed = Replay(trace);
  ASSERT_TRUE(replayed.ok());
  EXPECT_FALSE(replayed->violated());
  EXPECT_FALSE(replayed->matches_expectation);
  EXPECT_NE(FormatTimeline(trace, *replayed).find("ORACLE-ATOMIC: NOT reproduced"),
            std::string::npos);
  trace.expect = {false, "", ""};
  auto as_pass = Replay(trace);
  ASSERT_TRUE(as_pass.ok());
  EXPECT_TRUE(as_pass->matches_expectation);

  // The production core with its flushes: clean at the same point.
  Trace real = TraceOfFirstViolation(LostFlushes());
  real.config.workload_flush = harness::FlushKind::kClwb;
  auto clean = Replay(real);
  ASSERT_TRUE(clean.ok());
  EXPECT_FALSE(clean->violated()) << FormatTimeline(real, *clean);
}

// The LBAs a replay judges after the crash follow the trace's track_lbas, through its text form:
// with the field the sectors after recovery are the workload's LBA and LBAs 0-2, without it the
// workload's only. The verdict on the workload's LBA is the same either way.
TEST(Replay, TrackedLbasAreJudgedAfterTheCrash) {
  ExploreConfig config = LostFlushes();
  config.ops = {{Kind::kWrite, 1}, {Kind::kWrite, 1}};
  config.track_lbas = 3;
  const Trace tracked = TraceOfFirstViolation(config);
  ASSERT_EQ(tracked.config.track_lbas, 3u);
  auto with = Replay(tracked);
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  EXPECT_TRUE(with->matches_expectation);
  std::vector<uint64_t> judged;
  for (const auto& sector : with->timeline.sectors) judged.push_back(sector.lba);
  EXPECT_EQ(judged, (std::vector<uint64_t>{0, 1, 2}));
  const std::string timeline = FormatTimeline(tracked, *with);
  for (const char* needle : {"judged after the crash: every LBA an op names, and LBAs 0-2 "
                             "(track_lbas 3)",
                             "lba 0 ok", "lba 2 ok"}) {
    EXPECT_NE(timeline.find(needle), std::string::npos) << "missing '" << needle << "' in\n"
                                                        << timeline;
  }

  Trace untracked = tracked;
  untracked.config.track_lbas = 0;
  auto parsed = ParseTrace(SerializeTrace(untracked));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto without = Replay(*parsed);
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_TRUE(without->matches_expectation);
  judged.clear();
  for (const auto& sector : without->timeline.sectors) judged.push_back(sector.lba);
  EXPECT_EQ(judged, (std::vector<uint64_t>{1}));
  EXPECT_EQ(FormatTimeline(*parsed, *without).find("judged after the crash"), std::string::npos);

  // The violation is on the written LBA, so minimize drops the tracking.
  MinimizeStats stats;
  auto small = Minimize(tracked, {}, &stats);
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->config.track_lbas, 0u) << SerializeTrace(*small);
  EXPECT_NE(std::find(stats.steps.begin(), stats.steps.end(), "track_lbas 3 -> 0"),
            stats.steps.end());
}

TEST(Replay, AMissingCrashPointIsNotReached) {
  Trace trace = TraceOfFirstViolation(PlainControl());
  trace.crash_point = 50;
  auto replayed = Replay(trace);
  ASSERT_TRUE(replayed.ok());
  EXPECT_FALSE(replayed->matches_expectation);
  EXPECT_NE(FormatTimeline(trace, *replayed).find("crash point 50 NOT REACHED"), std::string::npos);
}

TEST(Replay, MutantTracesNeedTheMutantBuild) {
  Trace trace = TraceOfFirstViolation(PlainControl());
  trace.mutant = "seq-skips";
  trace.config.device = harness::Device::kBtt;
  auto replayed = Replay(trace);
  ASSERT_FALSE(replayed.ok());
  EXPECT_NE(replayed.status().message().find("tearproof-mutants"), std::string::npos);
}

TEST(Replay, AWorkloadOutsideTheDeviceIsAnError) {
  Trace trace = TraceOfFirstViolation(PlainControl());
  trace.config.ops = {{Kind::kWrite, 1000}};
  EXPECT_FALSE(Replay(trace).ok());
}

// A concurrent trace of the real core: a standard workload on the first schedule of the
// exhaustive search with one preemption (taken from a strict replay of the default schedule).
Trace RealCoreConcurrentTrace() {
  Trace t;
  t.kind = TraceKind::kConcurrent;
  t.mutant = "none";
  t.concurrent.setup = {{Kind::kWrite, 3}, {Kind::kWrite, 0}};
  t.concurrent.lanes = {{{Kind::kRead, 1}, {Kind::kRead, 2}},
                        {{Kind::kWrite, 1}, {Kind::kZero, 1}, {Kind::kWrite, 2}}};
  auto scheduler = sim::Scheduler::Create({.max_lanes = 4});
  EXPECT_TRUE(scheduler.ok());
  sim::ExhaustiveStrategy first(1);
  auto run = harness::RunConcurrent(t.concurrent.Workload(), **scheduler, first);
  EXPECT_TRUE(run.ok());
  t.concurrent.schedule = run->report.schedule;
  t.concurrent.preemptions = run->report.preemptions;
  t.concurrent.strategy = "exhaustive bound 1";
  t.expect = {false, "", ""};
  auto parsed = ParseTrace(SerializeTrace(t));
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return *parsed;
}

TEST(Replay, AConcurrentTraceOfTheRealCoreReplaysItsScheduleAsAPass) {
  const Trace t = RealCoreConcurrentTrace();
  ASSERT_FALSE(t.concurrent.schedule.empty());
  auto r = Replay(t);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->concurrent.has_value());
  EXPECT_TRUE(r->concurrent->schedule_fits);
  EXPECT_EQ(r->concurrent->run.report.schedule, t.concurrent.schedule);
  EXPECT_FALSE(r->violated());
  EXPECT_TRUE(r->matches_expectation);
  EXPECT_EQ(r->concurrent->run.ops.size(), 5u);  // every op of both lanes completed
  const std::string timeline = FormatTimeline(t, *r);
  for (const char* needle : {"concurrent run (no crash) on mutant none",
                             "setup (completed by the real core before the "
                             "lanes): w3 w0",
                             "lane 0: r1 r2", "lane 1: w1 z1 w2", "run: completed after",
                             "lane 1 op 1  z1   stores zeros", "lane 0 op 1  r2   returns ",
                             "verdict: no violation", "the trace expects a pass: it passes"}) {
    EXPECT_NE(timeline.find(needle), std::string::npos) << needle << "\n" << timeline;
  }
  // The same run expected to fail: it is not reproduced (the real core holds).
  Trace expecting = t;
  expecting.expect = {true, "ORACLE-LINEARIZABLE", "recorded"};
  auto again = Replay(expecting);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->matches_expectation);
  EXPECT_NE(FormatTimeline(expecting, *again).find("ORACLE-LINEARIZABLE: NOT reproduced"),
            std::string::npos);
}

TEST(Replay, AConcurrentScheduleThisRunLeavesIsJudgedByTheSearch) {
  Trace t = RealCoreConcurrentTrace();
  t.concurrent.schedule.pop_back();  // strict replay runs out of decisions: the run diverged
  t.concurrent.preemptions = 2;
  auto r = Replay(t);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->concurrent.has_value());
  EXPECT_FALSE(r->concurrent->schedule_fits);
  EXPECT_EQ(r->concurrent->search_bound, 2u);
  EXPECT_GT(r->concurrent->search_runs, 10u);
  EXPECT_FALSE(r->violated());
  EXPECT_NE(FormatTimeline(t, *r).find("the recorded schedule does not fit this run"),
            std::string::npos);
  // An op past the end of the device: a clear error, not a crash.
  Trace bad = RealCoreConcurrentTrace();
  bad.concurrent.lanes.back().push_back({Kind::kWrite, 1u << 30});  // past the device
  EXPECT_FALSE(Replay(bad).ok());
}

TEST(Minimize, ShrinksThePlainPmemControlToOneWriteOfOneSmallSector) {
  ExploreConfig config = PlainControl();
  config.external_lbasize = 4096;
  config.ops = {{Kind::kWrite, 3}, {Kind::kZero, 5}, {Kind::kWrite, 5}, {Kind::kWrite, 3}};
  const Trace big = TraceOfFirstViolation(config);
  MinimizeStats stats;
  auto small = Minimize(big, {}, &stats);
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->expect.check, "ORACLE-ATOMIC");
  EXPECT_EQ(small->config.external_lbasize, 512u);
  ASSERT_EQ(small->config.ops.size(), 1u) << SerializeTrace(*small);
  EXPECT_EQ(small->config.ops[0].kind, Kind::kWrite);
  EXPECT_EQ(small->config.ops[0].lba, 0u);
  // One persisted word is enough to tear a sector.
  uint64_t persisted = 0;
  for (const auto& c : small->resolution) persisted += c.index != 0;
  EXPECT_EQ(persisted, 1u) << SerializeTrace(*small);
  EXPECT_FALSE(stats.steps.empty());
  EXPECT_GT(stats.candidates, stats.steps.size());

  auto replayed = Replay(*small);
  ASSERT_TRUE(replayed.ok());
  EXPECT_TRUE(replayed->matches_expectation);
  auto again = Minimize(big);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(SerializeTrace(*again), SerializeTrace(*small));
}

TEST(Minimize, ShrinksTheRealCoreUnderLostFlushes) {
  ExploreConfig config = LostFlushes();
  config.nfree = 2;
  config.external_lbasize = 4096;
  config.ops = {{Kind::kWrite, 1}, {Kind::kWrite, 0}, {Kind::kWrite, 1}};
  const Trace big = TraceOfFirstViolation(config);
  auto small = Minimize(big);
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->config.nfree, 1u);
  EXPECT_EQ(small->config.external_lbasize, 512u);
  EXPECT_LT(small->config.ops.size(), big.config.ops.size());
  for (const auto& op : small->config.ops) EXPECT_EQ(op.lba, 0u);
  auto replayed = Replay(*small);
  ASSERT_TRUE(replayed.ok());
  EXPECT_TRUE(replayed->matches_expectation) << FormatTimeline(*small, *replayed);
}

TEST(Minimize, RefusesTracesThatDoNotFail) {
  Trace trace = TraceOfFirstViolation(PlainControl());
  trace.resolution.clear();
  auto not_failing = Minimize(trace);
  ASSERT_FALSE(not_failing.ok());
  EXPECT_NE(not_failing.status().message().find("does not reproduce"), std::string::npos);
  trace.expect = {false, "", ""};
  EXPECT_FALSE(Minimize(trace).ok());
}

}  // namespace
}  // namespace tearproof::traces
