// Deeper bounded model checks (labels bmc;slow): the target bound and the other models.
//
// Invariants checked: all five properties of docs/model.md hold (UNSAT) for the real protocol at
// 2 lanes x 3 ops x N=3 x F=2 under word8 (the strongest adversary; px86 and eadr only remove
// crash states, checked separately at 2 x 2 x 3), and without symmetry breaking at 2 x 2 x 2.
#include <gtest/gtest.h>

#include "model/bmc.h"

namespace tearproof::model {
namespace {

BmcResult RunBound(int lanes, int lbas, int ops, PersistencyModel pm, bool symmetry = true) {
  BmcOptions o;
  o.lanes = lanes;
  o.lbas = lbas;
  o.ops_per_lane = ops;
  o.model = pm;
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

}  // namespace
}  // namespace tearproof::model
