// Z3 counterexamples as tearproof traces (trace_export.h, docs/model.md §5).
//
// Invariants checked:
// - every protocol mutant with a core counterpart yields a counterexample (SAT) whose trace,
//   replayed on the counterpart (the core mutant, or the plain-pmem device for no-btt), shows the
//   violation the model names (the trace's expected check) — through the trace file's text, so
//   the file form is what is replayed;
// - the same trace passes on the real core (the mutant, not the trace, is the bug);
// - the resolution is load-bearing: with every word at its guaranteed value instead of the
//   mapped persisted candidates, the counterexamples that need a persisted store no longer fail;
// - conversion is deterministic, and refuses what it cannot map (UNSAT, no counterpart, a
//   counterexample whose trace does not show its check on the counterpart) with a clear Status.
#include "model/trace_export.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "traces/replay.h"

namespace tearproof::model {
namespace {

// The smallest one-lane bound at which each mutant is SAT, under word8 (the mission's model);
// recovery-no-old-check is UNSAT with one lane up to 1 x 2 x 2 and 1 x 1 x 3 (a stale lane needs a
// second flog group) and is checked at 2 x 1 x 1, where the trace's schedule is searched, not
// mapped (trace_export.h).
// seq-reversed checks INV-SECTOR-DURABLE over writes: the model's seq goes 1->3->2 and its
// one-write counterexample (recovery trusts the formatted slot) has no core counterpart, because
// the core's seq-skips gets the first write's seq right and goes backwards only from the second
// (1->2->1). Both then roll the first write forward over the second. free-block-reused uses two
// LBAs: its 1 x 1 x 2 counterexample writes one LBA twice, which the core refuses before any
// store (Btt::Write finds its free block mapped: INV-MAP-BIJECTION, the workload fails), while
// two LBAs let the second write land in the first one's block.
struct Case {
  Mutant mutant;
  int lanes;
  int lbas;
  int ops;
  uint32_t properties;
  OpMix op_mix;
};
const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {Mutant::kNoDataPersist, 1, 1, 1, kAllProperties, OpMix::kWritesAndZeros},
      {Mutant::kMapBeforeFlog, 1, 1, 1, kAllProperties, OpMix::kWritesAndZeros},
      {Mutant::kFlogHalvesUnfenced, 1, 2, 2, kAllProperties, OpMix::kWritesAndZeros},
      {Mutant::kFlogActiveSlot, 1, 1, 2, kAllProperties, OpMix::kWritesAndZeros},
      {Mutant::kSeqReversed, 1, 1, 2, PropertyBit(Property::kDurability), OpMix::kWritesOnly},
      {Mutant::kFreeBlockReused, 1, 2, 2, kAllProperties, OpMix::kWritesAndZeros},
      {Mutant::kRecoveryPicksOlder, 1, 1, 1, kAllProperties, OpMix::kWritesAndZeros},
      {Mutant::kRecoveryRollBack, 1, 1, 1, kAllProperties, OpMix::kWritesAndZeros},
      {Mutant::kRecoveryNoMask, 1, 1, 2, kAllProperties, OpMix::kWritesAndZeros},
      {Mutant::kRecoveryNoOldCheck, 2, 1, 1, kAllProperties, OpMix::kWritesAndZeros},
      {Mutant::kNoBtt, 1, 1, 1, kAllProperties, OpMix::kWritesAndZeros},
  };
  return cases;
}

BmcOptions OptionsOf(const Case& c) {
  BmcOptions o;
  o.lanes = c.lanes;
  o.lbas = c.lbas;
  o.ops_per_lane = c.ops;
  o.model = PersistencyModel::kWord8;
  o.mutant = c.mutant;
  o.properties = c.properties;
  o.op_mix = c.op_mix;
  return o;
}

traces::Trace TraceOf(const Case& c) {
  auto r = RunBmc(OptionsOf(c));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {};
  EXPECT_EQ(r->verdict, Verdict::kSat) << MutantName(c.mutant);
  auto t = TraceFromBmcResult(*r);
  EXPECT_TRUE(t.ok()) << MutantName(c.mutant) << ": " << t.status().ToString();
  if (!t.ok()) return {};
  // What is replayed is the file's text.
  auto parsed = traces::ParseTrace(traces::SerializeTrace(*t));
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : traces::Trace{};
}

class TraceExport : public ::testing::TestWithParam<Case> {};

TEST_P(TraceExport, ReplaysOnTheCounterpartAndPassesOnTheRealCore) {
  const Case& c = GetParam();
  const traces::Trace trace = TraceOf(c);
  ASSERT_TRUE(trace.expect.violation) << MutantName(c.mutant);
  auto counterpart = CoreCounterpartOf(c.mutant);
  ASSERT_TRUE(counterpart.ok());
  EXPECT_EQ(trace.mutant, counterpart->core_mutant);
  EXPECT_EQ(trace.config.device, counterpart->device);

  auto on_mutant = traces::Replay(trace);
  ASSERT_TRUE(on_mutant.ok()) << on_mutant.status().ToString();
  EXPECT_TRUE(on_mutant->matches_expectation)
      << MutantName(c.mutant) << " expects " << trace.expect.check << "\n"
      << traces::SerializeTrace(trace) << traces::FormatTimeline(trace, *on_mutant);
  EXPECT_EQ(on_mutant->timeline.diverged_choices, 0u);
  EXPECT_EQ(on_mutant->timeline.unused_choices, 0u);

  traces::Trace real = trace;
  real.mutant = "none";
  if (real.config.device != harness::Device::kBtt) {
    real.config.device = harness::Device::kBtt;  // the no-btt control's workload on the real BTT
    real.config.medium_size = 0;
    real.config.setup_ops.clear();
  }
  auto on_core = traces::Replay(real);
  ASSERT_TRUE(on_core.ok()) << on_core.status().ToString();
  EXPECT_FALSE(on_core->violated()) << MutantName(c.mutant) << "\n"
                                    << traces::FormatTimeline(real, *on_core);
}

std::string CaseName(const ::testing::TestParamInfo<Case>& param_info) {
  std::string name = MutantName(param_info.param.mutant);
  for (char& ch : name) {
    if (ch == '-') ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(EveryMutantWithACounterpart, TraceExport, ::testing::ValuesIn(Cases()),
                         CaseName);

TEST(TraceExportResolution, GuaranteedValuesAloneDoNotReproduceATornFlogCommit) {
  // flog-halves-unfenced under word8: the violation needs half B persisted without half A, so
  // the mapped resolution must force B's candidate; with every word at candidate 0 the same
  // crash point passes.
  const Case c{Mutant::kFlogHalvesUnfenced, 1, 2, 2, kAllProperties, OpMix::kWritesAndZeros};
  traces::Trace trace = TraceOf(c);
  int persisted = 0;
  for (const auto& choice : trace.resolution) persisted += choice.index != 0;
  EXPECT_GT(persisted, 0);
  trace.resolution.clear();
  auto r = traces::Replay(trace);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->matches_expectation) << traces::FormatTimeline(trace, *r);
}

TEST(TraceExportResolution, ConversionIsDeterministic) {
  const Case c{Mutant::kNoDataPersist, 1, 1, 1, kAllProperties, OpMix::kWritesAndZeros};
  traces::Trace a = TraceOf(c);
  traces::Trace b = TraceOf(c);
  EXPECT_EQ(traces::SerializeTrace(a), traces::SerializeTrace(b));
}

TEST(TraceExportErrors, RefusesWhatItCannotMap) {
  BmcResult unsat;
  unsat.verdict = Verdict::kUnsat;
  EXPECT_FALSE(TraceFromBmcResult(unsat).ok());

  EXPECT_EQ(CoreCounterpartOf(Mutant::kNoMapLock).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(CounterpartNeedsMutantBuild(Mutant::kNoBtt));
  EXPECT_TRUE(CounterpartNeedsMutantBuild(Mutant::kSeqReversed));

  // seq-reversed's one-write counterexample has no core counterpart (see Cases()): its mapped
  // trace would not show the check on seq-skips, so it is refused, not written.
  BmcOptions one_write =
      OptionsOf({Mutant::kSeqReversed, 1, 1, 1, kAllProperties, OpMix::kWritesAndZeros});
  auto r = RunBmc(one_write);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->verdict, Verdict::kSat);
  auto t = TraceFromBmcResult(*r);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_NE(t.status().message().find("does not show"), std::string::npos) << t.status().ToString();
}

TEST(TraceExportConcurrent, TwoLaneTracesSayTheirScheduleWasSearched) {
  const Case c{Mutant::kRecoveryNoOldCheck, 2, 1, 1, kAllProperties, OpMix::kWritesAndZeros};
  const traces::Trace trace = TraceOf(c);
  EXPECT_EQ(trace.config.other_lanes.size(), 1u);
  EXPECT_NE(trace.expect.detail.find("found by exploring"), std::string::npos)
      << trace.expect.detail;
}

}  // namespace
}  // namespace tearproof::model
