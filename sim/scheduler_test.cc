// sim::Scheduler and its strategies.
// Invariants checked, and how:
//   - determinism: the same strategy and seed take the same schedule and the same interleaving;
//     Replay of a recorded schedule (also through its text form) reproduces it exactly, and a
//     schedule that does not fit the run is an error, not a silent divergence;
//   - the exhaustive enumerator visits every schedule within its preemption bound exactly once:
//     counts equal closed forms (two lanes of k segments: C(2k,k) unbounded, 2 with bound 0, 2k
//     with bound 1, 2(k+(k-1)^2) with bound 2; three lanes of two segments: 6!/(2!)^3 = 90), and
//     the interleavings are pairwise distinct;
//   - PCT with depth 2 finds a planted ordering bug (which needs one preemption inside a window)
//     within a few runs of a fixed seed, while depth 1 never can;
//   - liveness: a deadlock, a lane spinning alone, and a livelock past the step bound are
//     reported with every lane's state and last point; the lanes are unwound (destructors run);
//   - a lane that fails (Status or exception) ends the run with its message; release points in
//     destructors never throw while a lane is cancelled;
//   - bad arguments are errors.
#include "sim/scheduler.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace tearproof::sim {
namespace {

std::unique_ptr<Scheduler> MakeScheduler(SchedulerOptions options = {}) {
  auto s = Scheduler::Create(options);
  TP_ASSERT(s.ok(), "TEST-SCHEDULER-CREATE");
  return std::move(*s);
}

// `lane_count` lanes of `segments` segments each (segments - 1 yields); every segment appends
// the lane's letter to *log, so the log is the interleaving.
std::vector<LaneBody> LoggingLanes(Scheduler& s, uint32_t lane_count, uint32_t segments,
                                   std::string* log) {
  std::vector<LaneBody> lanes;
  for (uint32_t lane = 0; lane < lane_count; ++lane) {
    lanes.push_back([&s, lane, segments, log] {
      for (uint32_t i = 0; i < segments; ++i) {
        if (i > 0) s.Yield("segment", i);
        log->push_back(static_cast<char>('A' + lane));
      }
      return Status::Ok();
    });
  }
  return lanes;
}

uint64_t Binomial(uint64_t n, uint64_t k) {
  uint64_t r = 1;
  for (uint64_t i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

struct Enumeration {
  uint64_t schedules = 0;
  std::set<std::string> interleavings;
  std::set<std::vector<uint32_t>> choice_vectors;
  uint64_t max_preemptions = 0;
};

Enumeration Enumerate(uint32_t lane_count, uint32_t segments, uint32_t bound) {
  auto s = MakeScheduler();
  ExhaustiveStrategy ex(bound);
  Enumeration e;
  do {
    std::string log;
    const RunReport r = s->Run(LoggingLanes(*s, lane_count, segments, &log), ex);
    EXPECT_TRUE(r.ok()) << r.status.ToString();
    ++e.schedules;
    e.interleavings.insert(log);
    e.choice_vectors.insert(r.schedule);
    e.max_preemptions = std::max(e.max_preemptions, r.preemptions);
  } while (ex.Advance());
  EXPECT_EQ(ex.schedules_started(), e.schedules);
  return e;
}

TEST(Scheduler, SameSeedTakesTheSameSchedule) {
  auto s = MakeScheduler();
  std::set<std::vector<uint32_t>> distinct;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    std::string log1, log2;
    RandomStrategy a(seed), b(seed);
    const RunReport r1 = s->Run(LoggingLanes(*s, 3, 6, &log1), a);
    const RunReport r2 = s->Run(LoggingLanes(*s, 3, 6, &log2), b);
    ASSERT_TRUE(r1.ok() && r2.ok());
    EXPECT_EQ(r1.schedule, r2.schedule);
    EXPECT_EQ(log1, log2);
    EXPECT_EQ(r1.steps, r2.steps);
    // Reusing a strategy object repeats its run.
    std::string log3;
    ASSERT_TRUE(s->Run(LoggingLanes(*s, 3, 6, &log3), a).ok());
    EXPECT_EQ(log1, log3);
    distinct.insert(r1.schedule);
  }
  // The seed matters: eight seeds do not all take one schedule.
  EXPECT_GT(distinct.size(), 4u);
}

TEST(Scheduler, ReplayReproducesARecordedScheduleExactly) {
  auto s = MakeScheduler();
  for (uint64_t seed = 0; seed < 16; ++seed) {
    std::string log, replayed_log;
    PctStrategy pct(RunSeed(42, seed), 3, 30);
    const RunReport r = s->Run(LoggingLanes(*s, 3, 5, &log), pct);
    ASSERT_TRUE(r.ok()) << r.status.ToString();
    auto parsed = ParseSchedule(ScheduleToString(r.schedule));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    ASSERT_EQ(*parsed, r.schedule);
    ReplayStrategy replay(*parsed);
    const RunReport again = s->Run(LoggingLanes(*s, 3, 5, &replayed_log), replay);
    ASSERT_TRUE(again.ok()) << again.status.ToString();
    EXPECT_EQ(again.schedule, r.schedule);
    EXPECT_EQ(replayed_log, log);
    EXPECT_EQ(again.preemptions, r.preemptions);
  }
}

TEST(Scheduler, ReplayRejectsAScheduleThatDoesNotFitTheRun) {
  auto s = MakeScheduler();
  std::string log;
  // Decision 0 (who starts) is between lanes 0 and 1; lane 2 does not exist.
  ReplayStrategy bad_lane({2});
  RunReport r = s->Run(LoggingLanes(*s, 2, 2, &log), bad_lane);
  EXPECT_EQ(r.outcome, RunOutcome::kScheduleError);
  EXPECT_NE(r.status.message().find("names lane 2"), std::string::npos) << r.status.ToString();

  // Lane 0 finishes after its single segment; decision 1 then has only lane 1: no decision, so
  // a schedule {0, 0} has a choice left over; {0} is exact.
  ReplayStrategy leftover({0, 0});
  r = s->Run(LoggingLanes(*s, 2, 1, &log), leftover);
  EXPECT_EQ(r.outcome, RunOutcome::kScheduleError);
  EXPECT_NE(r.status.message().find("schedule has 2"), std::string::npos) << r.status.ToString();

  ReplayStrategy too_short({1});
  r = s->Run(LoggingLanes(*s, 2, 3, &log), too_short);
  EXPECT_EQ(r.outcome, RunOutcome::kScheduleError);
  EXPECT_NE(r.status.message().find("ends after 1"), std::string::npos) << r.status.ToString();

  // A finished lane is not runnable: three one-segment lanes, lane 0 starts and finishes, and
  // decision 1 (between lanes 1 and 2) picks lane 0 again.
  ReplayStrategy finished({0, 0});
  log.clear();
  std::vector<LaneBody> lanes = LoggingLanes(*s, 3, 1, &log);
  r = s->Run(std::move(lanes), finished);
  EXPECT_EQ(r.outcome, RunOutcome::kScheduleError);
  EXPECT_NE(r.status.message().find("not runnable"), std::string::npos) << r.status.ToString();

  // Non-strict replay extends the prefix without preemptions.
  log.clear();
  ReplayStrategy lenient({1}, /*strict=*/false);
  r = s->Run(LoggingLanes(*s, 2, 3, &log), lenient);
  ASSERT_TRUE(r.ok()) << r.status.ToString();
  EXPECT_EQ(log, "BBBAAA");
  EXPECT_EQ(r.preemptions, 0u);
}

TEST(Scheduler, ExhaustiveCountsMatchTheClosedForms) {
  for (uint32_t k = 1; k <= 4; ++k) {
    SCOPED_TRACE("k = " + std::to_string(k));
    const Enumeration all = Enumerate(2, k, UINT32_MAX);
    EXPECT_EQ(all.schedules, Binomial(2 * k, k));
    EXPECT_EQ(all.interleavings.size(), all.schedules);  // distinct interleavings
    EXPECT_EQ(all.choice_vectors.size(), all.schedules);
    const Enumeration none = Enumerate(2, k, 0);
    EXPECT_EQ(none.schedules, 2u);
    EXPECT_EQ(none.interleavings,
              (std::set<std::string>{std::string(k, 'A') + std::string(k, 'B'),
                                     std::string(k, 'B') + std::string(k, 'A')}));
    const Enumeration one = Enumerate(2, k, 1);
    EXPECT_EQ(one.schedules, 2u * k);
    EXPECT_EQ(one.interleavings.size(), one.schedules);
    EXPECT_LE(one.max_preemptions, 1u);
    const Enumeration two = Enumerate(2, k, 2);
    EXPECT_EQ(two.schedules, 2 * (k + (k - 1) * (k - 1)));
    EXPECT_EQ(two.interleavings.size(), two.schedules);
    EXPECT_LE(two.max_preemptions, 2u);
  }
  const Enumeration three = Enumerate(3, 2, UINT32_MAX);
  EXPECT_EQ(three.schedules, 90u);  // 6! / (2! 2! 2!)
  EXPECT_EQ(three.interleavings.size(), 90u);
}

// The planted bug: lane A sets x for segments 1..9 of its 10 and clears it in the last; lane B
// fails if its first segment sees x set. Finding it needs A to start and be preempted inside
// that window: one ordering constraint beyond "A first", i.e. PCT depth 2.
struct PlantedBug {
  int x = 0;
  bool hit = false;
  std::vector<LaneBody> Lanes(Scheduler& s) {
    x = 0;
    hit = false;
    return {[this, &s] {
              for (int i = 0; i < 10; ++i) {
                if (i > 0) s.Yield("a", i);
                x = i < 9 ? 1 : 0;
              }
              return Status::Ok();
            },
            [this, &s] {
              if (x == 1) hit = true;
              for (int i = 1; i < 10; ++i) s.Yield("b", i);
              return Status::Ok();
            }};
  }
};

TEST(Scheduler, PctDepthTwoFindsAPlantedOrderingBugQuickly) {
  auto s = MakeScheduler();
  PlantedBug bug;
  int first_hit = -1;
  std::vector<uint32_t> failing;
  for (int run = 0; run < 50 && first_hit < 0; ++run) {
    PctStrategy pct(RunSeed(2026, run), /*depth=*/2, /*expected_steps=*/20);
    const RunReport r = s->Run(bug.Lanes(*s), pct);
    ASSERT_TRUE(r.ok()) << r.status.ToString();
    if (bug.hit) {
      first_hit = run;
      failing = r.schedule;
    }
  }
  // Each run finds it with probability >= 1/(2 * 20); with this seed the first hit is early.
  ASSERT_GE(first_hit, 0) << "PCT depth 2 missed the planted bug in 50 runs";
  EXPECT_LT(first_hit, 20);
  std::printf("PCT depth 2 found the planted bug in run %d, schedule %s\n", first_hit,
              ScheduleToString(failing).c_str());
  // The failing schedule replays to the same bug.
  ReplayStrategy replay(failing);
  ASSERT_TRUE(s->Run(bug.Lanes(*s), replay).ok());
  EXPECT_TRUE(bug.hit);

  // Depth 1 never preempts: whichever lane has the higher priority runs to its end first.
  for (int run = 0; run < 50; ++run) {
    PctStrategy pct(RunSeed(2026, run), /*depth=*/1, /*expected_steps=*/20);
    ASSERT_TRUE(s->Run(bug.Lanes(*s), pct).ok());
    EXPECT_FALSE(bug.hit) << "run " << run;
  }
  // Exhaustive: no schedule without preemptions hits it; with one preemption some do.
  for (uint32_t bound : {0u, 1u}) {
    ExhaustiveStrategy ex(bound);
    uint64_t hits = 0;
    do {
      ASSERT_TRUE(s->Run(bug.Lanes(*s), ex).ok());
      hits += bug.hit ? 1 : 0;
    } while (ex.Advance());
    EXPECT_EQ(hits > 0, bound == 1) << "bound " << bound;
  }
}

// Counts its destructions: shows that cancelled lanes are unwound.
struct DestructorProbe {
  int* count;
  ~DestructorProbe() { ++*count; }
};

TEST(Scheduler, DeadlockIsReportedAndTheLanesAreUnwound) {
  auto s = MakeScheduler();
  int destroyed = 0;
  RandomStrategy random(7);
  const RunReport r = s->Run({[&] {
                                DestructorProbe probe{&destroyed};
                                s->BlockOn(1, "wait for key", 1);
                                return Status::Ok();
                              },
                              [&] {
                                DestructorProbe probe{&destroyed};
                                s->Yield("before");
                                s->BlockOn(2, "wait for key", 2);
                                return Status::Ok();
                              }},
                             random);
  EXPECT_EQ(r.outcome, RunOutcome::kDeadlock);
  EXPECT_TRUE(r.liveness_failure());
  const std::string& m = r.status.message();
  EXPECT_NE(m.find("deadlock"), std::string::npos) << m;
  EXPECT_NE(m.find("lane 0 blocked at 'wait for key' (1)"), std::string::npos) << m;
  EXPECT_NE(m.find("lane 1 blocked at 'wait for key' (2)"), std::string::npos) << m;
  EXPECT_EQ(destroyed, 2);
  EXPECT_EQ(r.lanes[0].state, LaneState::kCancelled);
  EXPECT_EQ(r.lanes[1].state, LaneState::kCancelled);
  // The scheduler is usable again after a stopped run.
  std::string log;
  ASSERT_TRUE(s->Run(LoggingLanes(*s, 2, 2, &log), random).ok());
  EXPECT_EQ(log.size(), 4u);
}

TEST(Scheduler, LivelockHitsTheStepBoundAndALoneSpinnerIsADeadlock) {
  auto s = MakeScheduler({.max_steps = 1000});
  int destroyed = 0;
  bool never = false;
  RandomStrategy random(3);
  // Two lanes spinning on a flag nobody sets: each spin lets the other run, forever.
  auto spinner = [&] {
    DestructorProbe probe{&destroyed};
    while (!never) s->Spin("spin on flag", 9);
    return Status::Ok();
  };
  RunReport r = s->Run({spinner, spinner}, random);
  EXPECT_EQ(r.outcome, RunOutcome::kStepBound);
  EXPECT_TRUE(r.liveness_failure());
  EXPECT_EQ(r.steps, 1000u);
  EXPECT_NE(r.status.message().find("step bound of 1000"), std::string::npos);
  EXPECT_NE(r.status.message().find("'spin on flag' (9)"), std::string::npos)
      << r.status.ToString();
  EXPECT_EQ(destroyed, 2);

  // A lane that only yields forever is the same livelock.
  r = s->Run({[&] {
               for (;;) s->Yield("forever");
               return Status::Ok();
             }},
             random);
  EXPECT_EQ(r.outcome, RunOutcome::kStepBound);

  // One lane spinning while the other is done: nobody can change the flag.
  destroyed = 0;
  r = s->Run({spinner, [] { return Status::Ok(); }}, random);
  EXPECT_EQ(r.outcome, RunOutcome::kDeadlock) << r.status.ToString();
  EXPECT_NE(r.status.message().find("spinning"), std::string::npos);
  EXPECT_EQ(destroyed, 1);
}

TEST(Scheduler, ASpinningLaneIsParkedUntilAnotherLaneRuns) {
  auto s = MakeScheduler();
  for (uint64_t seed = 0; seed < 20; ++seed) {
    bool flag = false;
    int spins = 0;
    RandomStrategy random(seed);
    const RunReport r = s->Run({[&] {
                                  while (!flag) {
                                    ++spins;
                                    s->Spin("wait for flag");
                                  }
                                  return Status::Ok();
                                },
                                [&] {
                                  for (int i = 0; i < 5; ++i) s->Yield("work", i);
                                  flag = true;
                                  return Status::Ok();
                                }},
                               random);
    ASSERT_TRUE(r.ok()) << r.status.ToString();
    // At most two spins (a yield, then parked) per segment of the other lane (5 yields and its
    // end), plus the first two.
    EXPECT_LE(spins, 14) << "seed " << seed;
  }
}

TEST(Scheduler, OneSpinIsAFreeSwitchPointAndTheLaneMayGoOn) {
  auto s = MakeScheduler();
  // A lone lane that spins once and then makes progress by itself (like a read that retries
  // with the newer map entry it saw) is not a deadlock.
  RandomStrategy random(1);
  ASSERT_TRUE(s->Run({[&] {
                       s->Spin("retry");
                       s->Yield("after");
                       return Status::Ok();
                     }},
                     random)
                  .ok());
  // Switching away at a spin is not a preemption; at a Yield it is.
  auto lanes = [&] {
    return std::vector<LaneBody>{[&] {
                                   s->Spin("retry");
                                   return Status::Ok();
                                 },
                                 [&] {
                                   s->Yield("b");
                                   return Status::Ok();
                                 }};
  };
  ReplayStrategy switch_at_spin({0, 1}, /*strict=*/false);
  RunReport r = s->Run(lanes(), switch_at_spin);
  ASSERT_TRUE(r.ok()) << r.status.ToString();
  EXPECT_EQ(r.preemptions, 0u);
  ReplayStrategy switch_at_yield({1, 0}, /*strict=*/false);
  r = s->Run(lanes(), switch_at_yield);
  ASSERT_TRUE(r.ok()) << r.status.ToString();
  EXPECT_EQ(r.preemptions, 1u);
}

TEST(Scheduler, BlockOnAndWakeMakeAMutexThatHoldsInEverySchedule) {
  auto s = MakeScheduler();
  constexpr WaitKey kKey = 77;
  ExhaustiveStrategy ex(2);
  uint64_t runs = 0, blocked_runs = 0;
  do {
    bool held = false;
    int inside = 0, max_inside = 0, blocks = 0;
    auto lane = [&]() -> Status {
      s->Yield("lock");
      while (held) {
        ++blocks;
        s->BlockOn(kKey, "lock");
      }
      held = true;
      ++inside;
      max_inside = std::max(max_inside, inside);
      s->Yield("critical section");
      --inside;
      held = false;
      s->Wake(kKey);
      s->YieldNoCancel("unlock");
      return Status::Ok();
    };
    const RunReport r = s->Run({lane, lane, lane}, ex);
    ASSERT_TRUE(r.ok()) << r.status.ToString();
    EXPECT_EQ(max_inside, 1);
    ++runs;
    blocked_runs += blocks > 0 ? 1 : 0;
  } while (ex.Advance());
  EXPECT_GT(runs, 10u);
  EXPECT_GT(blocked_runs, 0u);  // the search did reach contention
}

TEST(Scheduler, ALaneFailureEndsTheRunWithItsMessage) {
  auto s = MakeScheduler();
  int destroyed = 0;
  ReplayStrategy start_with_lane0({0}, /*strict=*/false);
  auto parked = [&] {
    DestructorProbe probe{&destroyed};
    for (;;) s->Yield("parked");
    return Status::Ok();
  };
  // Lane 0 starts and blocks; lane 1 fails; lane 0 is unwound.
  RunReport r = s->Run({[&] {
                          DestructorProbe probe{&destroyed};
                          s->BlockOn(5, "parked");
                          return Status::Ok();
                        },
                        [] { return Corruption("INV-TEST: planted failure"); }},
                       start_with_lane0);
  EXPECT_EQ(r.outcome, RunOutcome::kLaneFailed);
  EXPECT_EQ(r.status.code(), StatusCode::kCorruption);
  EXPECT_NE(r.status.message().find("lane 1 failed: INV-TEST: planted failure"), std::string::npos)
      << r.status.ToString();
  EXPECT_EQ(destroyed, 1);

  RandomStrategy random(1);
  r = s->Run({parked, [&]() -> Status { throw std::runtime_error("planted exception"); }}, random);
  EXPECT_EQ(r.outcome, RunOutcome::kLaneFailed);
  EXPECT_NE(r.status.message().find("planted exception"), std::string::npos) << r.status.ToString();
  r = s->Run({[]() -> Status { throw 42; }}, random);
  EXPECT_EQ(r.outcome, RunOutcome::kLaneFailed);
  EXPECT_NE(r.status.message().find("non-std"), std::string::npos);
}

// A lock guard whose release is a scheduling point, like btt's LaneGuard on FiberSync.
struct ReleasingGuard {
  Scheduler* s;
  int* released;
  ~ReleasingGuard() {
    ++*released;
    s->YieldNoCancel("release");
  }
};

TEST(Scheduler, CancellationNeverThrowsFromAReleasePoint) {
  auto s = MakeScheduler();
  int released = 0;
  // Lane 0 parks inside its guard's destructor (decision 1 preempts it at "release"); lane 1
  // then fails. Cancelling lane 0 resumes it in the destructor: the release point returns, the
  // destructor completes, and lane 0's next point ("after") unwinds it.
  bool reached_after_body = false;
  ReplayStrategy schedule({0, 1});
  const RunReport r = s->Run({[&] {
                                { ReleasingGuard g{s.get(), &released}; }
                                s->Yield("after");
                                reached_after_body = true;
                                return Status::Ok();
                              },
                              [] { return InternalError("planted"); }},
                             schedule);
  EXPECT_EQ(r.outcome, RunOutcome::kLaneFailed) << r.status.ToString();
  EXPECT_EQ(released, 1);
  EXPECT_FALSE(reached_after_body);
  EXPECT_EQ(r.lanes[0].state, LaneState::kCancelled);

  // Unwinding through a guard: its release point runs during the unwind without switching.
  released = 0;
  RandomStrategy random(5);
  const RunReport r2 = s->Run({[&] {
                                ReleasingGuard g{s.get(), &released};
                                s->BlockOn(1, "parked");
                                return Status::Ok();
                              }},
                              random);
  EXPECT_EQ(r2.outcome, RunOutcome::kDeadlock);
  EXPECT_EQ(released, 1);
}

TEST(Scheduler, SwitchCallbackNamesEveryLaneThatResumes) {
  auto s = MakeScheduler();
  std::string log, seen;
  uint32_t running = kNoLane;
  s->set_switch_callback([&](uint32_t lane) {
    running = lane;
    seen.push_back(static_cast<char>('A' + lane));
  });
  std::vector<LaneBody> lanes;
  for (uint32_t lane = 0; lane < 3; ++lane) {
    lanes.push_back([&, lane] {
      for (int i = 0; i < 4; ++i) {
        if (i > 0) s->Yield("segment");
        EXPECT_EQ(running, lane);  // the callback ran before this lane's code
        EXPECT_EQ(s->current_lane(), lane);
        log.push_back(static_cast<char>('A' + lane));
      }
      return Status::Ok();
    });
  }
  RandomStrategy random(11);
  const RunReport r = s->Run(std::move(lanes), random);
  ASSERT_TRUE(r.ok());
  // `seen` is the log with consecutive repeats collapsed.
  std::string collapsed;
  for (char c : log) {
    if (collapsed.empty() || collapsed.back() != c) collapsed.push_back(c);
  }
  EXPECT_EQ(seen, collapsed);
  s->set_switch_callback(nullptr);
}

TEST(Scheduler, OutsideARunYieldIsANoOp) {
  auto s = MakeScheduler();
  EXPECT_FALSE(s->InLane());
  EXPECT_EQ(s->current_lane(), kNoLane);
  s->Yield("setup");
  s->YieldNoCancel("setup");
  s->Wake(3);
}

TEST(Scheduler, BadArgumentsAreErrors) {
  EXPECT_FALSE(Scheduler::Create({.max_lanes = 0}).ok());
  EXPECT_FALSE(Scheduler::Create({.max_lanes = kMaxLanes + 1}).ok());
  EXPECT_FALSE(Scheduler::Create({.stack_bytes = 4096}).ok());
  EXPECT_FALSE(Scheduler::Create({.max_steps = 0}).ok());
  auto s = MakeScheduler({.max_lanes = 2});
  RandomStrategy random(1);
  EXPECT_EQ(s->Run({}, random).outcome, RunOutcome::kInvalid);
  std::string log;
  EXPECT_EQ(s->Run(LoggingLanes(*s, 3, 1, &log), random).outcome, RunOutcome::kInvalid);
  EXPECT_EQ(s->Run({LaneBody()}, random).outcome, RunOutcome::kInvalid);
  RunOutcome inner = RunOutcome::kCompleted;
  ASSERT_TRUE(s->Run({[&] {
                       RandomStrategy r2(2);
                       inner = s->Run({[] { return Status::Ok(); }}, r2).outcome;
                       return Status::Ok();
                     }},
                     random)
                  .ok());
  EXPECT_EQ(inner, RunOutcome::kInvalid);
  PctStrategy depth0(1, 0, 10), steps0(1, 2, 0);
  EXPECT_EQ(s->Run({[] { return Status::Ok(); }}, depth0).outcome, RunOutcome::kScheduleError);
  EXPECT_EQ(s->Run({[] { return Status::Ok(); }}, steps0).outcome, RunOutcome::kScheduleError);
  for (const char* bad : {",", "1,", "a", "1,,2", "-1", "256", "99999999999"}) {
    EXPECT_FALSE(ParseSchedule(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseSchedule("").ok());
  EXPECT_EQ(*ParseSchedule("0,255,3"), (std::vector<uint32_t>{0, 255, 3}));
}

}  // namespace
}  // namespace tearproof::sim
