// Concurrent traces on seeded mutants of the core (the mutant build of traces/, test-only): the
// concurrent search's kill becomes a concurrent trace that replays through its text form to the
// same check on its mutant, passes on the real core, minimizes without losing the check, and,
// when its schedule no longer fits the run, is judged by the search within its preemptions
// (which still catches the mutant).
//   - read-recheck-block-only (a reader re-validates only the block of its map entry, not its
//     flags): the concurrency family's kill, ORACLE-CONCURRENT-READ on the aged workload.
//   - map-without-flags: ORACLE-CONCURRENT-READ as well, from a write racing a read.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "btt/mutant.h"
#include "harness/concurrent_search.h"
#include "traces/minimize.h"
#include "traces/replay.h"
#include "traces/trace.h"

namespace tearproof::traces {
namespace {

static_assert(btt::kMutantsCompiledIn, "these tests run seeded mutants");

// The concurrent search's first violation on `mutant` (bound 1, as the kill matrix searches), as
// a trace that went through its text form.
Trace KillTrace(btt::Mutant mutant) {
  harness::ConcurrentSearchOptions options;
  options.preemption_bound = 1;
  options.pct_seeds = 16;
  options.random_seeds = 16;
  options.mutant = mutant;
  const auto& workloads = harness::StandardConcurrentWorkloads();
  auto r = harness::SearchConcurrent(workloads, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->first_violation.empty()) << btt::MutantName(mutant) << " survived";
  auto t = TraceFromConcurrentViolation(*r, workloads, mutant);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  auto parsed = ParseTrace(SerializeTrace(*t));
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return *parsed;
}

void ExpectKillReplays(btt::Mutant mutant) {
  const Trace t = KillTrace(mutant);
  EXPECT_EQ(t.expect.check, "ORACLE-CONCURRENT-READ");
  EXPECT_EQ(t.mutant, btt::MutantName(mutant));
  auto r = Replay(t);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->concurrent.has_value());
  EXPECT_TRUE(r->concurrent->schedule_fits);
  EXPECT_TRUE(r->matches_expectation) << FormatTimeline(t, *r);
  ASSERT_NE(r->Expected(t), nullptr);
  EXPECT_EQ(r->Expected(t)->detail, t.expect.detail);
  EXPECT_NE(FormatTimeline(t, *r).find("returns a sector that holds"), std::string::npos)
      << FormatTimeline(t, *r);

  // The real core: the same workload holds (on the recorded schedule, or on every schedule
  // within the trace's preemptions when its run leaves it).
  Trace real = t;
  real.mutant = "none";
  auto clean = Replay(real);
  ASSERT_TRUE(clean.ok()) << clean.status().ToString();
  EXPECT_FALSE(clean->violated()) << FormatTimeline(real, *clean);

  // Minimized, it still fails with the same check, and is no larger.
  MinimizeStats stats;
  auto small = Minimize(t, {}, &stats);
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_GT(stats.candidates, 0u);
  auto again = Replay(*small);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->matches_expectation) << FormatTimeline(*small, *again);
  auto ops = [](const ConcurrentTraceRun& c) {
    size_t n = c.setup.size();
    for (const auto& lane : c.lanes) n += lane.size();
    return n;
  };
  EXPECT_LE(ops(small->concurrent), ops(t.concurrent));

  // A schedule the run leaves (cut short): the search within the preemptions judges instead,
  // and still catches the mutant.
  Trace cut = t;
  cut.concurrent.schedule.resize(cut.concurrent.schedule.size() / 2);
  auto searched = Replay(cut);
  ASSERT_TRUE(searched.ok()) << searched.status().ToString();
  ASSERT_TRUE(searched->concurrent.has_value());
  EXPECT_FALSE(searched->concurrent->schedule_fits);
  EXPECT_TRUE(searched->matches_expectation) << FormatTimeline(cut, *searched);
}

TEST(ConcurrentTraceOnMutants, ReadRecheckBlockOnlyIsCaughtAndItsTraceReplays) {
  ExpectKillReplays(btt::Mutant::kReadRecheckBlockOnly);
}

TEST(ConcurrentTraceOnMutants, MapWithoutFlagsIsCaughtAndItsTraceReplays) {
  ExpectKillReplays(btt::Mutant::kMapWithoutFlags);
}

}  // namespace
}  // namespace tearproof::traces
