// Independent cross-check of Z3's verdicts with a second solver, cvc5 (label bmc).
//
// Invariant checked: the formula RunBmc() solves (BmcFormulaSmtLib2) gets the same verdict from
// cvc5 as from Z3 — UNSAT for the real protocol under px86, word8 and eadr at small bounds (also
// with nfree > lanes), SAT for every protocol mutant and the no-BTT control at the bound where Z3
// finds its counterexample, and UNSAT for the two mutants that are harmless in one model. A bug
// in Z3 (or in how tearproof reads its answer) that turned a SAT into UNSAT would show here.
// The target-size bounds are cross-checked in bmc_slow_test.cc (cvc5 is slower than Z3 there).
#include <gtest/gtest.h>

#include "model/bmc.h"
#include "model/cvc5_runner.h"

namespace tearproof::model {
namespace {

BmcOptions Bound(int lanes, int lbas, int ops, PersistencyModel pm, Mutant m = Mutant::kNone) {
  BmcOptions o = OptionsFor({lanes, lbas, ops}, pm, m);
  o.timeout_seconds = 120;
  return o;
}

// Both solvers' verdicts on the same formula; fails the test when either cannot answer.
void ExpectSameVerdict(const BmcOptions& o, Verdict expected) {
  const std::string what = std::string(MutantName(o.mutant)) + " " + PersistencyModelName(o.model) +
                           " " + std::to_string(o.lanes) + "x" + std::to_string(o.lbas) + "x" +
                           std::to_string(o.ops_per_lane);
  auto z3 = RunBmc(o);
  ASSERT_TRUE(z3.ok()) << z3.status().ToString();
  auto formula = BmcFormulaSmtLib2(o);
  ASSERT_TRUE(formula.ok()) << formula.status().ToString();
  auto cvc5 = RunCvc5(*formula, ::testing::TempDir(), 120);
  ASSERT_TRUE(cvc5.ok()) << cvc5.status().ToString();
  EXPECT_EQ(z3->verdict, expected) << what;
  EXPECT_EQ(*cvc5, expected) << what << ": cvc5 says " << VerdictName(*cvc5);
}

TEST(BmcCvc5, RealProtocolIsUnsatForBothSolvers) {
  for (PersistencyModel pm :
       {PersistencyModel::kPx86, PersistencyModel::kWord8, PersistencyModel::kEadr}) {
    ExpectSameVerdict(Bound(2, 2, 1, pm), Verdict::kUnsat);
    ExpectSameVerdict(Bound(1, 2, 2, pm), Verdict::kUnsat);
  }
  BmcOptions more_free = Bound(2, 2, 1, PersistencyModel::kWord8);
  more_free.nfree = 3;
  ExpectSameVerdict(more_free, Verdict::kUnsat);
}

TEST(BmcCvc5, EveryMutantIsSatForBothSolvers) {
  // The smallest bound of each mutant's counterexample (docs/model.md §4), under word8.
  for (Mutant m : AllMutants()) {
    const bool two_lanes = m == Mutant::kNoMapLock || m == Mutant::kRecoveryNoOldCheck;
    const bool two_ops = m == Mutant::kFlogHalvesUnfenced || m == Mutant::kFlogActiveSlot ||
                         m == Mutant::kFreeBlockReused || m == Mutant::kRecoveryNoMask;
    ExpectSameVerdict(
        Bound(two_lanes ? 2 : 1, two_ops ? 2 : 1, two_ops ? 2 : 1, PersistencyModel::kWord8, m),
        Verdict::kSat);
  }
}

TEST(BmcCvc5, ModelDependentMutantVerdictsAgree) {
  ExpectSameVerdict(Bound(1, 1, 1, PersistencyModel::kEadr, Mutant::kNoDataPersist),
                    Verdict::kUnsat);
  ExpectSameVerdict(Bound(1, 2, 2, PersistencyModel::kPx86, Mutant::kFlogHalvesUnfenced),
                    Verdict::kUnsat);
}

}  // namespace
}  // namespace tearproof::model
