// Reduced and brute-force crash exploration give identical verdicts (docs/explorer.md
// "Reductions"). The reductions: fence dominance (crash only before fences), lazy branching
// (resolve only the words read) and the crash point memo (judge a repeated crash point once).
// Brute force switches all three off: a crash point after every store and flush, every crash
// state of the medium materialized and judged, every crash point of every execution judged.
// Invariants checked, and how:
//   - on small concurrent cases (two lanes, every schedule within a preemption bound) and small
//     sequential ones, both searches are complete (no incomplete point) and give the same verdict;
//   - the same holds with a seeded mutant of the core, where both verdicts are violations of the
//     same check (so the comparison cannot pass by both searches seeing nothing);
//   - the reductions really reduce: the brute-force search judges more crash points and states;
//   - each reduction alone (the others on) keeps the verdict, including fence dominance and the
//     memo on px86 workloads with data writes, whose full crash-state spaces are too large to
//     enumerate (a 512-byte data write pending under px86 alone has 9^8 states);
//   - a crash point memo shared by the explorations of a matrix cell keeps every verdict.
// Eager enumeration is affordable where crash states are few: eadr (the visible state persists),
// and zero/read workloads under px86 and word8 (a zero stores one map word). Built against the
// mutant build of the core (kNone is the real core).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "harness/explorer.h"
#include "harness/matrix.h"

namespace tearproof::harness {
namespace {

using Kind = WorkloadOp::Kind;

std::vector<WorkloadOp> Ops(const std::string& text) {
  auto ops = ParseWorkload(text);
  EXPECT_TRUE(ops.ok()) << text;
  return ops.ok() ? *ops : std::vector<WorkloadOp>{};
}

struct Case {
  std::string name;
  ExploreConfig config;
};

// Two lanes, every schedule within `bound` preemptions, 512-byte sectors, nfree 2.
Case Concurrent(sim::PersistencyModel model, const std::string& setup, const std::string& lane0,
                const std::string& lane1, uint32_t bound, btt::Mutant mutant = btt::Mutant::kNone) {
  Case c;
  c.name = std::string(sim::PersistencyModelName(model)) + " [" + setup + "] " + lane0 + " || " +
           lane1 + " bound " + std::to_string(bound) + " mutant " + NameOfMutant(mutant);
  c.config.model = model;
  c.config.nfree = 2;
  if (!setup.empty()) c.config.setup_ops = Ops(setup);
  c.config.ops = Ops(lane0);
  c.config.other_lanes = {Ops(lane1)};
  c.config.preemption_bound = bound;
  c.config.max_states_per_point = 1 << 16;
  c.config.mutant = mutant;
  c.config.mutant_after_setup = mutant != btt::Mutant::kNone && !setup.empty();
  return c;
}

Case Sequential(sim::PersistencyModel model, const std::string& setup, const std::string& ops,
                btt::Mutant mutant = btt::Mutant::kNone) {
  Case c;
  c.name = std::string(sim::PersistencyModelName(model)) + " [" + setup + "] " + ops + " mutant " +
           NameOfMutant(mutant);
  c.config.model = model;
  c.config.nfree = 2;
  if (!setup.empty()) c.config.setup_ops = Ops(setup);
  c.config.ops = Ops(ops);
  c.config.max_states_per_point = 1 << 16;
  c.config.mutant = mutant;
  c.config.mutant_after_setup = mutant != btt::Mutant::kNone && !setup.empty();
  return c;
}

ExploreConfig::Reductions BruteForce() {
  ExploreConfig::Reductions none;
  none.fence_dominance = false;
  none.lazy_branching = false;
  none.memo_crash_points = false;
  return none;
}

// The verdict: clean, or the set of checks that fired.
std::set<std::string> Checks(const ExploreResult& r) {
  std::set<std::string> checks;
  for (const Violation& v : r.violations) checks.insert(v.check);
  return checks;
}

ExploreResult ExploreWith(ExploreConfig config, const ExploreConfig::Reductions& reductions,
                          const std::string& name) {
  config.reductions = reductions;
  auto result = Explore(config);
  EXPECT_TRUE(result.ok()) << name << ": " << result.status().ToString();
  if (!result.ok()) return {};
  // Both searches must be complete, or "identical verdicts" would mean nothing.
  EXPECT_EQ(result->stats.incomplete_points, 0u) << name;
  return *result;
}

// The same verdict: both clean, or both violated, the first check of each firing in the other
// too (only the first few violations are recorded, so the sets need not be equal).
void ExpectSameVerdict(const ExploreResult& a, const ExploreResult& b, const std::string& name) {
  EXPECT_EQ(a.violations.empty(), b.violations.empty()) << name;
  if (!a.violations.empty() && !b.violations.empty()) {
    EXPECT_TRUE(Checks(b).count(a.violations.front().check)) << name;
    EXPECT_TRUE(Checks(a).count(b.violations.front().check)) << name;
  }
}

// Runs `c` reduced and brute force; the verdicts must agree. Returns them.
std::pair<ExploreResult, ExploreResult> Compare(const Case& c) {
  const ExploreResult reduced = ExploreWith(c.config, {}, c.name);
  const ExploreResult brute = ExploreWith(c.config, BruteForce(), c.name + " (brute force)");
  ExpectSameVerdict(reduced, brute, c.name);
  EXPECT_EQ(reduced.stats.executions, brute.stats.executions) << c.name;
  EXPECT_GT(brute.stats.crash_points, reduced.stats.crash_points) << c.name;
  EXPECT_EQ(brute.stats.crash_points_repeated, 0u) << c.name;
  return {reduced, brute};
}

std::vector<Case> CleanCases() {
  using M = sim::PersistencyModel;
  std::vector<Case> cases;
  // eadr: one crash state per point, so writes are affordable to brute-force.
  cases.push_back(Concurrent(M::kEadr, "", "w0", "w0", 1));  // two lanes write one LBA
  cases.push_back(Concurrent(M::kEadr, "", "w0", "r0", 2));  // a read races a write
  cases.push_back(Concurrent(M::kEadr, "", "w0 z1", "w1", 1));
  cases.push_back(Concurrent(M::kEadr, "w3 w0", "r1", "w1 w2", 1));  // the aged read race
  // px86 / word8: zeros and reads (each zero stores one map word).
  for (M model : {M::kPx86, M::kWord8}) {
    cases.push_back(Concurrent(model, "w0 w1", "z0", "z1", 2));
    cases.push_back(Concurrent(model, "w0", "z0", "r0", 2));
    cases.push_back(Concurrent(model, "w0 w1", "z0 z1", "z0", 1));
    cases.push_back(Sequential(model, "w0 w1", "z0 z1 z0"));
  }
  cases.push_back(Sequential(M::kEadr, "", "w0 w1 z0 w0"));
  return cases;
}

TEST(Reductions, ReducedAndBruteForceVerdictsAgreeOnTheRealCore) {
  for (const Case& c : CleanCases()) {
    const auto [reduced, brute] = Compare(c);
    EXPECT_TRUE(reduced.ok()) << c.name << ": " << reduced.violations.size() << " violations";
    EXPECT_TRUE(brute.ok()) << c.name << ": " << brute.violations.size() << " violations";
  }
}

TEST(Reductions, ReducedAndBruteForceBothCatchSeededMutants) {
  using M = sim::PersistencyModel;
  struct Killed {
    Case c;
    std::string check;
  };
  const std::vector<Killed> cases = {
      // A zero's map entry never flushed: a completed zero is lost (px86, word8).
      {Concurrent(M::kPx86, "w0 w1", "z0", "z1", 1, btt::Mutant::kZeroNotPersisted),
       "ORACLE-ATOMIC"},
      {Concurrent(M::kWord8, "w0", "z0", "r0", 2, btt::Mutant::kZeroNotPersisted), "ORACLE-ATOMIC"},
      // Flog sequence logic, visible even when every store persists (eadr).
      {Concurrent(M::kEadr, "", "w0 w1", "w0", 1, btt::Mutant::kSeqSkips), "ORACLE-ATOMIC"},
      {Concurrent(M::kEadr, "", "w0 w1", "w0", 1, btt::Mutant::kWriteActiveSlot), "ORACLE-CHECK"},
      {Sequential(M::kPx86, "w0 w1", "z1 z0", btt::Mutant::kZeroNotPersisted), "ORACLE-ATOMIC"},
  };
  for (const Killed& k : cases) {
    const auto [reduced, brute] = Compare(k.c);
    EXPECT_TRUE(Checks(reduced).count(k.check)) << k.c.name;
    EXPECT_TRUE(Checks(brute).count(k.check)) << k.c.name;
  }
}

TEST(Reductions, BruteForceJudgesMoreStatesThanLazyBranching) {
  // px86 zeros: the crash states a zero leaves are few but not one per point, so lazy
  // branching's saving is visible; the verdicts were compared above.
  const Case c = Concurrent(sim::PersistencyModel::kPx86, "w0 w1", "z0", "z1", 2);
  ExploreConfig::Reductions eager;
  eager.lazy_branching = false;
  const ExploreResult lazy = ExploreWith(c.config, {}, c.name);
  const ExploreResult all = ExploreWith(c.config, eager, c.name + " (eager)");
  EXPECT_TRUE(lazy.ok() && all.ok());
  EXPECT_EQ(lazy.stats.crash_points, all.stats.crash_points);
  EXPECT_GE(all.stats.states_checked, lazy.stats.states_checked);
  EXPECT_GT(lazy.stats.crash_points_repeated, 0u);  // the memo met repeated points
}

// Each reduction alone, with lazy branching kept on, where eager enumeration is out of reach:
// px86 and word8 workloads whose data writes are pending at some crash points.
TEST(Reductions, FenceDominanceAndTheMemoKeepTheVerdictOnDataWrites) {
  using M = sim::PersistencyModel;
  struct Mixed {
    Case c;
    bool clean;
  };
  const std::vector<Mixed> cases = {
      {Concurrent(M::kPx86, "", "w0", "w0", 1), true},
      {Concurrent(M::kWord8, "", "w0", "r0", 1), true},
      {Concurrent(M::kPx86, "", "w0", "w1", 1, btt::Mutant::kDataNotPersisted), false},
      {Concurrent(M::kWord8, "", "w0", "w0", 1, btt::Mutant::kMapBeforeFlog), false},
  };
  for (const Mixed& m : cases) {
    ExploreConfig::Reductions no_dominance, no_memo;
    no_dominance.fence_dominance = false;
    no_memo.memo_crash_points = false;
    ExploreConfig config = m.c.config;
    // A mutant that leaves data unpersisted makes recovery read 64 unresolved words: its kill is
    // the first violation (as in the kill hunt), not a complete enumeration.
    config.stop_at_first_violation = !m.clean;
    const ExploreResult reduced = ExploreWith(config, {}, m.c.name);
    const ExploreResult every_point =
        ExploreWith(config, no_dominance, m.c.name + " (every point)");
    const ExploreResult no_repeat = ExploreWith(config, no_memo, m.c.name + " (no memo)");
    for (const ExploreResult* r : {&reduced, &every_point, &no_repeat}) {
      EXPECT_EQ(r->violations.empty(), m.clean) << m.c.name;
    }
    if (m.clean) {
      EXPECT_GT(every_point.stats.crash_points, reduced.stats.crash_points) << m.c.name;
      EXPECT_GT(no_repeat.stats.states_checked, reduced.stats.states_checked) << m.c.name;
    }
    ExpectSameVerdict(reduced, every_point, m.c.name);
    ExpectSameVerdict(reduced, no_repeat, m.c.name);
  }
}

TEST(Reductions, ASharedMemoKeepsTheMatrixVerdictsAndRefusesAnotherConfiguration) {
  // The sequential part of one cell with a shared memo (as RunStandardMatrix runs it) and with a
  // fresh exploration per workload: the same verdict for every workload, fewer states judged.
  MatrixOptions options;
  options.lbas = 2;
  options.max_ops = 2;
  uint64_t shared_states = 0, alone_states = 0;
  auto memo = std::make_shared<CrashPointMemo>();
  for (const btt::Mutant mutant : {btt::Mutant::kNone, btt::Mutant::kFlogHalfBFirst}) {
    memo = std::make_shared<CrashPointMemo>();
    bool any_alone = false, any_shared = false;
    for (const MatrixWorkload& w : MatrixPartWorkloads(options, MatrixPart::kSequential)) {
      ExploreConfig config =
          MatrixExploreConfig(options, MatrixPart::kSequential, btt::Profile::kLinux, 512,
                              sim::PersistencyModel::kWord8, 2, w);
      config.mutant = mutant;
      const ExploreResult alone = ExploreWith(config, {}, MatrixWorkloadName(w));
      config.memo = memo;
      const ExploreResult shared =
          ExploreWith(config, {}, MatrixWorkloadName(w) + " (shared memo)");
      // A violation found once is not found again at a repeated point; the workload that meets
      // it first reports it. So the union over the cell must agree, and each workload with a
      // shared-memo violation has one alone.
      if (!shared.violations.empty()) {
        EXPECT_FALSE(alone.violations.empty()) << MatrixWorkloadName(w);
      }
      any_alone |= !alone.violations.empty();
      any_shared |= !shared.violations.empty();
      if (mutant == btt::Mutant::kNone) {
        EXPECT_TRUE(alone.ok() && shared.ok()) << MatrixWorkloadName(w);
        shared_states += shared.stats.states_checked;
        alone_states += alone.stats.states_checked;
      }
    }
    EXPECT_EQ(any_alone, mutant != btt::Mutant::kNone);
    EXPECT_EQ(any_shared, any_alone);
  }
  EXPECT_LT(shared_states, alone_states);
  // The memo is bound to the configuration of its first exploration.
  ExploreConfig other;
  other.model = sim::PersistencyModel::kPx86;
  other.ops = Ops("w0");
  other.memo = memo;
  auto refused = Explore(other);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("crash point memo"), std::string::npos);
}

}  // namespace
}  // namespace tearproof::harness
