// Deeper bounded model checks (labels bmc;slow): the target bound and the other models.
//
// Invariants checked: all five properties of docs/model.md hold (UNSAT) for the real protocol at
// 2 lanes x 3 ops x N=3 x F=2 under word8 (the strongest adversary; px86 and eadr only remove
// crash states, checked separately at 2 x 2 x 3), and without symmetry breaking at 2 x 2 x 2.
// The cross-check compares, property by property, the Z3 verdict with the explicit-state
// enumerator's for every mutant and model at tiny bounds; cvc5 re-proves 2 x 2 x 2 under word8.
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "model/bmc.h"
#include "model/cvc5_runner.h"
#include "model/explicit_check.h"

namespace tearproof::model {
namespace {

BmcResult RunBound(int lanes, int lbas, int ops, PersistencyModel pm, bool symmetry = true) {
  BmcOptions o = OptionsFor({lanes, lbas, ops}, pm);
  o.symmetry_breaking = symmetry;
  o.timeout_seconds = 600;
  auto r = RunBmc(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : BmcResult{};
}

TEST(BmcSlow, TargetBoundIsUnsatUnderWord8) {
  BmcResult r = RunBound(2, 3, 3, PersistencyModel::kWord8);
  EXPECT_EQ(r.verdict, Verdict::kUnsat);
  RecordProperty("z3_seconds", std::to_string(r.solve_seconds));
}

TEST(BmcSlow, TwoLanesTwoOpsThreeLbasIsUnsatUnderPx86) {
  EXPECT_EQ(RunBound(2, 3, 2, PersistencyModel::kPx86).verdict, Verdict::kUnsat);
}

TEST(BmcSlow, TwoLanesTwoOpsThreeLbasIsUnsatUnderEadr) {
  EXPECT_EQ(RunBound(2, 3, 2, PersistencyModel::kEadr).verdict, Verdict::kUnsat);
}

TEST(BmcSlow, NoSymmetryBreakingAgreesAtTwoByTwo) {
  EXPECT_EQ(RunBound(2, 2, 2, PersistencyModel::kWord8, /*symmetry=*/false).verdict, Verdict::kUnsat);
}

TEST(BmcSlow, Cvc5AgreesAtTwoByTwoByTwoUnderWord8) {
  auto formula = BmcFormulaSmtLib2(OptionsFor({2, 2, 2}, PersistencyModel::kWord8));
  ASSERT_TRUE(formula.ok()) << formula.status().ToString();
  auto cvc5 = RunCvc5(*formula, ::testing::TempDir(), 900);
  ASSERT_TRUE(cvc5.ok()) << cvc5.status().ToString();
  EXPECT_EQ(*cvc5, Verdict::kUnsat);
  EXPECT_EQ(RunBound(2, 2, 2, PersistencyModel::kWord8).verdict, Verdict::kUnsat);
}

TEST(BmcSlow, EveryPropertyOfEveryMutantAgreesWithTheExplicitCheck) {
  std::vector<Mutant> mutants = AllMutants();
  mutants.push_back(Mutant::kNone);
  for (Mutant m : mutants) {
    for (PersistencyModel pm :
         {PersistencyModel::kPx86, PersistencyModel::kWord8, PersistencyModel::kEadr}) {
      for (Property p : {Property::kAtomicity, Property::kDurability, Property::kBijection,
                         Property::kFlogSeq, Property::kIdempotence}) {
        for (auto [lanes, lbas, ops] : {std::tuple{1, 2, 2}, std::tuple{2, 2, 1},
                                        std::tuple{2, 1, 2}}) {
          BmcOptions o;
          o.lanes = lanes;
          o.lbas = lbas;
          o.ops_per_lane = ops;
          o.model = pm;
          o.mutant = m;
          o.properties = PropertyBit(p);
          o.symmetry_breaking = false;
          o.timeout_seconds = 120;
          auto z3 = RunBmc(o);
          auto ex = RunExplicit(o);
          ASSERT_TRUE(z3.ok() && ex.ok());
          ASSERT_NE(z3->verdict, Verdict::kUnknown);
          EXPECT_EQ(z3->verdict == Verdict::kSat, ex->violation_found)
              << MutantName(m) << " " << PersistencyModelName(pm) << " " << PropertyName(p)
              << " " << lanes << "x" << lbas << "x" << ops << " explicit: " << ex->violation;
        }
      }
    }
  }
}

}  // namespace
}  // namespace tearproof::model
