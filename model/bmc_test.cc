// Tests of the Z3 bounded model checks (label bmc; the default ctest tier).
//
// Invariants checked: at small bounds the real BTT protocol satisfies INV-SECTOR-ATOMIC,
// INV-SECTOR-DURABLE, INV-MAP-BIJECTION, INV-FLOG-SEQ and INV-RECOVERY-IDEMPOTENT under px86, word8
// and eadr (UNSAT); every protocol mutant is caught (SAT) with only its expected property
// selected, and its decoded counterexample names that property; the no-BTT control tears.
#include "model/bmc.h"
#include "model/protocol.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tearproof::model {
namespace {

BmcOptions Bound(int lanes, int lbas, int ops, PersistencyModel pm = PersistencyModel::kWord8) {
  BmcOptions o = OptionsFor({lanes, lbas, ops}, pm);
  o.timeout_seconds = 120;
  return o;
}

BmcResult MustRun(const BmcOptions& o) {
  auto r = RunBmc(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : BmcResult{};
}

TEST(BmcProtocol, IsUnsatUnderWord8) {
  EXPECT_EQ(MustRun(Bound(2, 2, 2)).verdict, Verdict::kUnsat);
}

TEST(BmcProtocol, IsUnsatUnderPx86) {
  EXPECT_EQ(MustRun(Bound(2, 2, 2, PersistencyModel::kPx86)).verdict, Verdict::kUnsat);
}

TEST(BmcProtocol, IsUnsatUnderEadr) {
  EXPECT_EQ(MustRun(Bound(2, 2, 2, PersistencyModel::kEadr)).verdict, Verdict::kUnsat);
}

TEST(BmcProtocol, IsUnsatWithoutSymmetryBreaking) {
  BmcOptions o = Bound(2, 2, 1);
  o.symmetry_breaking = false;
  EXPECT_EQ(MustRun(o).verdict, Verdict::kUnsat);
}

// Flog groups beyond the lanes in use stay formatted; recovery reads them and their free blocks
// join the permutation of INV-MAP-BIJECTION.
TEST(BmcProtocol, IsUnsatWithMoreFreeBlocksThanLanes) {
  BmcOptions o = Bound(2, 2, 1);
  o.nfree = 4;
  BmcResult r = MustRun(o);
  EXPECT_EQ(r.verdict, Verdict::kUnsat);
  EXPECT_EQ(r.options.nfree, 4);
}

// The extra groups are really checked: trusting the older slot of an unused group (seq 0 padding,
// {0, 0, 0, 0}) hands out block 0, which LBA 0 maps: caught with no op on that group at all.
TEST(BmcMutant, RecoveryPicksOlderIsCaughtOnAnUnusedFlogGroup) {
  BmcOptions o = Bound(1, 1, 1);
  o.nfree = 2;
  o.mutant = Mutant::kRecoveryPicksOlder;
  o.properties = PropertyBit(Property::kBijection);
  BmcResult r = MustRun(o);
  ASSERT_EQ(r.verdict, Verdict::kSat);
  ASSERT_TRUE(r.counterexample);
  EXPECT_EQ(r.counterexample->recovery.size(), 2u);
  EXPECT_EQ(r.counterexample->recovery.at(1).free_block, 0) << CounterexampleToJson(*r.counterexample);
}

TEST(BmcProtocol, IsUnsatForThreeLanes) {
  EXPECT_EQ(MustRun(Bound(3, 2, 1)).verdict, Verdict::kUnsat);
}

// Vacuity checks: the states the UNSAT proofs must cover are reachable at the tested bound.
bool Reachable(Witness w, BmcOptions o) {
  o.witness = w;
  return MustRun(o).verdict == Verdict::kSat;
}

TEST(BmcCoverage, RecoveryRollsForwardSomewhere) {
  EXPECT_TRUE(Reachable(Witness::kRollForward, Bound(2, 2, 2)));
}

TEST(BmcCoverage, ACrashCanLeaveATornFreeBlock) {
  EXPECT_TRUE(Reachable(Witness::kTornFreeBlock, Bound(2, 2, 2)));
  EXPECT_TRUE(Reachable(Witness::kTornFreeBlock, Bound(2, 2, 2, PersistencyModel::kPx86)));
  EXPECT_TRUE(Reachable(Witness::kTornFreeBlock, Bound(2, 2, 2, PersistencyModel::kEadr)));
}

TEST(BmcCoverage, TwoLanesCompleteOpsOnTheSameLba) {
  EXPECT_TRUE(Reachable(Witness::kSameLbaTwoLanes, Bound(2, 2, 2)));
}

TEST(BmcCoverage, TheCrashInsideRecoveryCanCutARollForward) {
  EXPECT_TRUE(Reachable(Witness::kRecoveryCrashCutsRoll, Bound(2, 2, 2)));
}

TEST(BmcCoverage, AZeroOpCanBeVisibleAfterRecovery) {
  EXPECT_TRUE(Reachable(Witness::kZeroVisible, Bound(2, 2, 2)));
}

TEST(BmcApi, RejectsBadOptions) {
  BmcOptions o = Bound(2, 2, 1);
  o.nfree = 1;  // fewer free blocks than lanes
  EXPECT_FALSE(RunBmc(o).ok());
  o.nfree = 9;
  EXPECT_FALSE(RunBmc(o).ok());
  o = Bound(0, 2, 1);
  EXPECT_FALSE(RunBmc(o).ok());
  EXPECT_FALSE(ParseMutant("no-such-mutant").ok());
  EXPECT_FALSE(ParsePersistencyModel("tso").ok());
}

TEST(BmcApi, NamesRoundTrip) {
  for (Mutant m : AllMutants()) {
    auto parsed = ParseMutant(MutantName(m));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, m);
  }
  EXPECT_GE(AllMutants().size(), 11u);
}

// Runs a mutant with only `expected` selected and checks the decoded counterexample.
Counterexample ExpectCaught(Mutant m, Property expected, BmcOptions o) {
  o.mutant = m;
  o.properties = PropertyBit(expected);
  BmcResult r = MustRun(o);
  EXPECT_EQ(r.verdict, Verdict::kSat) << MutantName(m);
  if (!r.counterexample) return {};
  const Counterexample& cex = *r.counterexample;
  EXPECT_TRUE(cex.Violates(expected)) << CounterexampleToJson(cex);
  EXPECT_FALSE(cex.schedule.empty());
  EXPECT_EQ(cex.crash_after_step, static_cast<int>(cex.schedule.size()));
  // The JSON form carries the same facts.
  const nlohmann::json j = nlohmann::json::parse(BmcResultToJson(r));
  EXPECT_EQ(j["verdict"], "SAT");
  EXPECT_EQ(j["options"]["mutant"], MutantName(m));
  EXPECT_EQ(j["counterexample"]["schedule"].size(), cex.schedule.size());
  bool named = false;
  for (const auto& v : j["counterexample"]["violations"]) {
    named = named || v["property"] == PropertyName(expected);
  }
  EXPECT_TRUE(named);
  return cex;
}

TEST(BmcMutant, NoDataPersistTearsUnderWord8) {
  Counterexample cex = ExpectCaught(Mutant::kNoDataPersist, Property::kAtomicity, Bound(1, 1, 1));
  // The crash follows the flog commit, so the map points at a block whose data did not persist.
  bool committed = false;
  for (const auto& s : cex.schedule) committed = committed || s.step == "P3.flog-half-B";
  EXPECT_TRUE(committed);
}

TEST(BmcMutant, NoDataPersistIsHarmlessUnderEadr) {
  BmcOptions o = Bound(1, 1, 1, PersistencyModel::kEadr);
  o.mutant = Mutant::kNoDataPersist;
  EXPECT_EQ(MustRun(o).verdict, Verdict::kUnsat);
}

TEST(BmcMutant, MapBeforeFlogDuplicatesABlock) {
  ExpectCaught(Mutant::kMapBeforeFlog, Property::kBijection, Bound(1, 1, 1));
}

TEST(BmcMutant, FlogHalvesUnfencedMisdirectsRecoveryUnderWord8) {
  Counterexample cex =
      ExpectCaught(Mutant::kFlogHalvesUnfenced, Property::kAtomicity, Bound(1, 2, 2));
  // Half B persisted while half A did not.
  bool b_without_a = false;
  for (size_t i = 0; i < cex.schedule.size(); ++i) {
    const auto& s = cex.schedule[i];
    if (s.step != "P3.flog-half-B" || !s.persisted) continue;
    for (size_t k = 0; k < i; ++k) {
      const auto& a = cex.schedule[k];
      b_without_a = b_without_a || (a.step == "P2.flog-half-A" && a.lane == s.lane &&
                                    a.op == s.op && !a.persisted);
    }
  }
  EXPECT_TRUE(b_without_a) << CounterexampleToJson(cex);
}

TEST(BmcMutant, FlogHalvesUnfencedIsHarmlessUnderPx86BecauseTheyShareALine) {
  BmcOptions o = Bound(1, 2, 2, PersistencyModel::kPx86);
  o.mutant = Mutant::kFlogHalvesUnfenced;
  EXPECT_EQ(MustRun(o).verdict, Verdict::kUnsat);
}

TEST(BmcMutant, FlogActiveSlotDuplicatesABlock) {
  ExpectCaught(Mutant::kFlogActiveSlot, Property::kBijection, Bound(1, 2, 2));
}

TEST(BmcMutant, SeqReversedMakesRecoveryTrustTheOldSlot) {
  ExpectCaught(Mutant::kSeqReversed, Property::kBijection, Bound(1, 1, 1));
}

TEST(BmcMutant, FreeBlockReusedDuplicatesABlock) {
  ExpectCaught(Mutant::kFreeBlockReused, Property::kBijection, Bound(1, 2, 2));
}

TEST(BmcMutant, NoMapLockFreesOneBlockTwice) {
  ExpectCaught(Mutant::kNoMapLock, Property::kBijection, Bound(2, 1, 1));
}

TEST(BmcMutant, RecoveryPicksOlderDuplicatesABlock) {
  ExpectCaught(Mutant::kRecoveryPicksOlder, Property::kBijection, Bound(1, 1, 1));
}

TEST(BmcMutant, RecoveryRollBackStillFreesOldMap) {
  Counterexample cex =
      ExpectCaught(Mutant::kRecoveryRollBack, Property::kBijection, Bound(1, 1, 1));
  EXPECT_EQ(cex.ops.at(0).status, "in-flight");
}

TEST(BmcMutant, RecoveryNoMaskMissesFlaggedEntries) {
  ExpectCaught(Mutant::kRecoveryNoMask, Property::kBijection, Bound(1, 2, 2));
}

TEST(BmcMutant, RecoveryNoOldCheckRollsAStaleLaneForward) {
  ExpectCaught(Mutant::kRecoveryNoOldCheck, Property::kBijection, Bound(2, 1, 1));
}

// The counterexample carries a complete execution for a trace: the steps before the crash and
// after it together are every step of every op, each lane's in program order, and the crash
// point counts the flush+fence steps before it.
TEST(BmcCounterexample, ScheduleAndAfterCrashAreOneCompleteExecution) {
  BmcOptions o = Bound(2, 1, 2);
  o.op_mix = OpMix::kWritesOnly;
  o.mutant = Mutant::kNoMapLock;
  o.properties = PropertyBit(Property::kBijection);
  BmcResult r = MustRun(o);
  ASSERT_EQ(r.verdict, Verdict::kSat);
  const Counterexample& cex = *r.counterexample;
  std::vector<CexStep> all = cex.schedule;
  all.insert(all.end(), cex.after_crash.begin(), cex.after_crash.end());
  const std::vector<ProtocolStep> program = OpProgram(Mutant::kNoMapLock);
  ASSERT_EQ(all.size(), 2 * 2 * program.size()) << CounterexampleToJson(cex);
  std::vector<size_t> next(2, 0);  // per lane: index of its next step in its op programs
  int fences = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const CexStep& s = all[i];
    const size_t k = next.at(s.lane)++;
    EXPECT_EQ(s.op, static_cast<int>(k / program.size()));
    EXPECT_EQ(s.step, StepName(program[k % program.size()].kind));
    if (i < cex.schedule.size() && s.step.find("persist") != std::string::npos) ++fences;
    if (i >= cex.schedule.size()) {
      EXPECT_FALSE(s.persisted);
    }
  }
  EXPECT_EQ(cex.fences_before_crash, fences);
  const nlohmann::json j = nlohmann::json::parse(CounterexampleToJson(cex));
  EXPECT_EQ(j["after_crash"].size(), cex.after_crash.size());
  EXPECT_EQ(j["fences_before_crash"], fences);
}

TEST(BmcControl, PlainSectorWriteTearsUnderPx86) {
  Counterexample cex = ExpectCaught(Mutant::kNoBtt, Property::kAtomicity,
                                    Bound(1, 1, 1, PersistencyModel::kPx86));
  EXPECT_EQ(cex.sectors.at(0).reads, "TORN");
}

TEST(BmcControl, PlainSectorWriteTearsUnderWord8) {
  Counterexample cex = ExpectCaught(Mutant::kNoBtt, Property::kAtomicity, Bound(1, 1, 1));
  EXPECT_EQ(cex.sectors.at(0).reads, "TORN");
}

TEST(BmcDeepening, StopsAtTheBudgetOrLadderEnd) {
  DeepenOptions d;
  d.budget_seconds = 60;
  d.ladder = {{1, 1, 1}, {1, 2, 2}, {2, 2, 1}};
  auto rows = RunDeepening(d);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  for (const auto& row : *rows) EXPECT_EQ(row.verdict, Verdict::kUnsat);
  EXPECT_NE(DeepenTableMarkdown(d, *rows).find("| 2 | 2 | 2 | 1 | UNSAT |"), std::string::npos);
}

TEST(BmcDeepening, StopsAtTheFirstCounterexample) {
  DeepenOptions d;
  d.mutant = Mutant::kSeqReversed;
  d.ladder = {{1, 1, 1}, {2, 2, 2}};
  auto rows = RunDeepening(d);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->at(0).verdict, Verdict::kSat);
}

}  // namespace
}  // namespace tearproof::model
