// Cross-check of the Z3 encoding against the explicit-state enumerator (label bmc).
//
// Invariant checked: for the real protocol, every mutant and the no-BTT control, under px86,
// word8 and eadr, at tiny bounds, RunBmc() answers SAT exactly when RunExplicit() finds a
// violation. The two share no encoding code, so agreement is evidence that the symbolic schedule,
// crash and persistency constraints mean what docs/model.md says. Symmetry breaking is off here
// (the enumerator does not use it). One case has nfree > lanes.
#include "model/explicit_check.h"

#include <gtest/gtest.h>

#include <vector>

#include "model/bmc.h"

namespace tearproof::model {
namespace {

void ExpectAgreement(Mutant m, const std::vector<Bound>& cases) {
  for (PersistencyModel pm :
       {PersistencyModel::kPx86, PersistencyModel::kWord8, PersistencyModel::kEadr}) {
    for (const Bound& c : cases) {
      BmcOptions o = OptionsFor(c, pm, m);
      o.symmetry_breaking = false;
      o.timeout_seconds = 60;
      auto z3 = RunBmc(o);
      auto ex = RunExplicit(o);
      ASSERT_TRUE(z3.ok()) << z3.status().ToString();
      ASSERT_TRUE(ex.ok()) << ex.status().ToString();
      ASSERT_NE(z3->verdict, Verdict::kUnknown);
      EXPECT_EQ(z3->verdict == Verdict::kSat, ex->violation_found)
          << MutantName(m) << " " << PersistencyModelName(pm) << " " << c.lanes << "x" << c.lbas
          << "x" << c.ops_per_lane << " nfree " << c.nfree << " explicit: " << ex->violation << " ("
          << ex->states_visited << " states, " << ex->crash_states << " crash states)";
    }
  }
}

// Bounds L x N x k; the last one has a flog group (and free block) more than lanes in use.
const std::vector<Bound> kCases = {{1, 2, 2}, {2, 2, 1}, {1, 2, 2, 2}};

TEST(BmcCrossCheck, RealProtocolAgrees) { ExpectAgreement(Mutant::kNone, kCases); }

TEST(BmcCrossCheck, EveryMutantAgrees) {
  for (Mutant m : AllMutants()) ExpectAgreement(m, kCases);
}

}  // namespace
}  // namespace tearproof::model
