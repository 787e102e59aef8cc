// sim::Scheduler — runs simulated lanes (logical CPUs) as Boost.Context fibers, one at a time, in
// an order chosen by a deterministic strategy; the schedule it takes is a list of small integers
// that replays the run exactly.
//
// Contract:
//   - A run has N lanes (1 <= N <= SchedulerOptions::max_lanes <= kMaxLanes), each a LaneBody on
//     its own fiber with a fixed-size stack (SchedulerOptions::stack_bytes, default 256 KiB, plus
//     one guard page; all stacks are mapped once, by Create, and reused by every run).
//   - Lanes switch only at scheduling points, which instrumented code calls from inside a lane:
//     Yield (a medium operation, a lock), BlockOn (wait until Wake(key)), Spin (one iteration of a
//     spin-wait) and lane completion. Between two scheduling points a lane runs alone, so
//     everything it does there is atomic with respect to other lanes.
//   - At a scheduling point the runnable lanes are those not finished, not blocked and not
//     spinning. If two or more are runnable the point is a *decision*: the strategy picks the lane
//     to run next and the pick is appended to the schedule (the lane index itself, so a schedule
//     reads "0,0,1,0"). With one runnable lane that lane continues and nothing is recorded.
//   - Preemption: a decision that switches away from a lane that is still runnable at a Yield.
//     Switching after a lane blocks, spins or finishes is not a preemption (a spin-wait is where
//     a lane waits for others: a free switch, as in CHESS's fair scheduling), and neither is the
//     first decision of a run (which lane starts).
//   - Spin: the first Spin after anything else acts as a Yield (the lane stays runnable; the
//     code after a spin may make progress on its own, e.g. a read that retries with a newer map
//     entry). A second Spin in a row, with no other lane having reached a scheduling point in
//     between, means the lane re-checked state nobody changed and will keep doing so: it is
//     parked (kSpinning) until another lane reaches a scheduling point.
//   - Liveness: if no lane is runnable while some are unfinished (all blocked or parked
//     spinning), the run ends as kDeadlock; if a run reaches SchedulerOptions::max_steps
//     scheduling points it ends
//     as kStepBound. Both are reported, with every unfinished lane's state and last scheduling
//     point, never hung. A lane body that returns a non-OK Status or throws ends the run as
//     kLaneFailed. Whatever ends a run early, the unfinished lanes are then cancelled (below) so
//     that their destructors run; Run always returns.
//   - Cancellation: an unfinished lane is resumed once more and its scheduling point throws
//     LaneCancelled, which unwinds the lane's stack (running destructors, releasing locks) up to
//     the fiber's entry, where it is caught: no exception ever crosses a context switch. This is
//     the one use of an exception in sim/ (the mechanism Boost.Context itself uses to unwind a
//     fiber): a Status cannot stop code that does not know it runs on a fiber. Scheduling points
//     reached while the stack is unwinding, and YieldNoCancel points (for release paths that run
//     inside destructors), return without throwing. Lane code must not swallow LaneCancelled.
//   - Determinism: no clock, no thread, no unordered container. The same lanes (deterministic
//     bodies) under the same strategy (same seed / schedule) take the same schedule, bit for bit.
//     Strategies draw all their randomness from their seed in Begin(), before the run's first
//     decision; nothing is drawn inside a lane.
//   - Outside a run (setup code on the caller's stack), Yield is a no-op; BlockOn and Spin there
//     are programmer errors (nothing else could ever run) and assert.
//   - ASan: every switch is annotated (__sanitizer_start/finish_switch_fiber) when built with
//     AddressSanitizer, so stacks of parked fibers are not misreported.
//   - Not thread-safe: one scheduler per thread, and Run is not re-entrant.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/event.h"
#include "util/prng.h"
#include "util/status.h"

namespace tearproof::sim {

// A lane's work. A non-OK Status (or an exception) ends the run as kLaneFailed.
using LaneBody = std::function<Status()>;
// What a blocked lane waits for; Wake(key) makes every lane blocked on key runnable again.
using WaitKey = uint64_t;
inline constexpr uint32_t kNoLane = UINT32_MAX;

// Thrown at a scheduling point of a lane that is being cancelled; caught by the scheduler at the
// lane's entry. Deliberately not a std::exception, so `catch (const std::exception&)` in lane
// code does not swallow it.
struct LaneCancelled final {};

// One scheduling point, as a strategy sees it.
struct SchedulePoint {
  uint64_t step = 0;              // 0-based index of this scheduling point in the run
  uint64_t decision = 0;          // decisions taken so far in this run (= this one's index if any)
  uint32_t current = kNoLane;     // the lane that reached the point; kNoLane for the run's start
  bool current_runnable = false;  // false if it blocked, was parked spinning or finished
  bool at_spin = false;           // the point is a Spin: switching away is not a preemption
  std::span<const uint32_t> runnable;  // ascending, never empty
  bool is_decision() const { return runnable.size() >= 2; }
};

// Chooses the next lane. Implementations must be deterministic functions of their construction
// arguments and the points they are shown.
class Strategy {
 public:
  virtual ~Strategy() = default;
  // A run with lane_count lanes starts. Resets per-run state (a strategy object can be reused
  // and then repeats its run). A non-OK Status ends the run as kScheduleError.
  virtual Status Begin(uint32_t lane_count) = 0;
  // Called at every scheduling point (decision or not; PCT counts steps). Returns one of
  // point.runnable; anything else, or an error, ends the run as kScheduleError.
  virtual Result<uint32_t> Pick(const SchedulePoint& point) = 0;
  // The run completed (every lane finished). An error turns the outcome into kScheduleError.
  virtual Status End() { return Status::Ok(); }
};

// Uniform among the runnable lanes at every decision, from Prng(seed).
class RandomStrategy final : public Strategy {
 public:
  explicit RandomStrategy(uint64_t seed) : seed_(seed), prng_(seed) {}
  Status Begin(uint32_t lane_count) override;
  Result<uint32_t> Pick(const SchedulePoint& point) override;

 private:
  uint64_t seed_;
  Prng prng_;
};

// PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010): lanes get distinct random
// initial priorities depth .. depth+N-1; depth-1 distinct change steps are drawn uniformly from
// [1, expected_steps]; when the run reaches change step number i (i = 1 .. depth-1), the lane that
// reached it drops to priority i. At every point the highest-priority runnable lane runs. A bug
// that needs `depth` ordering constraints is found by one run with probability at least
// 1 / (N * expected_steps^(depth-1)). Steps are scheduling points, counted from 1.
class PctStrategy final : public Strategy {
 public:
  // REQUIRES (else Begin fails): depth >= 1, expected_steps >= 1.
  PctStrategy(uint64_t seed, uint32_t depth, uint64_t expected_steps)
      : seed_(seed), depth_(depth), expected_steps_(expected_steps) {}
  Status Begin(uint32_t lane_count) override;
  Result<uint32_t> Pick(const SchedulePoint& point) override;

 private:
  uint64_t seed_;
  uint32_t depth_;
  uint64_t expected_steps_;
  std::vector<uint64_t> priority_;         // by lane; higher runs first
  std::vector<uint64_t> change_steps_;     // ascending, 1-based steps
  std::vector<uint64_t> change_priority_;  // priority given at change_steps_[i]
};

// Replays a recorded schedule: decision i picks schedule[i]. A pick of a lane that is not
// runnable is an error (the run diverged from the one recorded). When the schedule runs out,
// strict mode fails; otherwise the run continues without preemptions (the current lane if it is
// runnable, else the lowest runnable lane), which is how the exhaustive enumerator extends a
// prefix. Strict mode also fails a run that completes with choices left over.
class ReplayStrategy final : public Strategy {
 public:
  explicit ReplayStrategy(std::vector<uint32_t> schedule, bool strict = true)
      : schedule_(std::move(schedule)), strict_(strict) {}
  Status Begin(uint32_t lane_count) override;
  Result<uint32_t> Pick(const SchedulePoint& point) override;
  Status End() override;

 private:
  std::vector<uint32_t> schedule_;
  bool strict_;
  size_t next_ = 0;
};

// Bounded exhaustive search: every schedule with at most max_preemptions preemptions, depth
// first, like an odometer. Use:
//     ExhaustiveStrategy ex(2);
//     do { RunReport r = scheduler.Run(MakeLanes(), ex); ... } while (ex.Advance());
// Each run follows the recorded prefix, then takes the non-preemptive default at every new
// decision (the current lane if runnable, else the lowest runnable lane); Advance moves the
// deepest decision that still has an untried alternative within the bound to that alternative
// and drops everything after it. Alternatives are tried in the order: default, then the other
// runnable lanes ascending. Every schedule is visited exactly once (distinct choice vectors);
// for two lanes of k segments each the count is C(2k, k) unbounded, 2 with bound 0, 2k with
// bound 1. Preemptions are counted as the scheduler counts them (a switch at a Spin is free). The
// lanes must be deterministic: a run whose runnable lanes differ from the recorded prefix fails
// with kScheduleError.
class ExhaustiveStrategy final : public Strategy {
 public:
  explicit ExhaustiveStrategy(uint32_t max_preemptions = UINT32_MAX)
      : max_preemptions_(max_preemptions) {}
  Status Begin(uint32_t lane_count) override;
  Result<uint32_t> Pick(const SchedulePoint& point) override;
  // Moves to the next schedule; false when every schedule within the bound has been run.
  bool Advance();
  uint64_t schedules_started() const { return schedules_started_; }

 private:
  struct Decision {
    std::vector<uint32_t> alternatives;  // default first, then the other runnable lanes ascending
    uint32_t current = kNoLane;
    bool current_runnable = false;
    bool at_spin = false;
    size_t index = 0;                 // alternative taken
    uint32_t preemptions_before = 0;  // preemptions on the path before this decision
  };
  uint32_t Cost(const Decision& d, size_t index) const;

  uint32_t max_preemptions_;
  std::vector<Decision> path_;
  size_t next_ = 0;  // decision index within the current run
  uint64_t schedules_started_ = 0;
};

enum class RunOutcome : uint8_t {
  kCompleted,      // every lane finished OK
  kLaneFailed,     // a lane returned non-OK or threw
  kDeadlock,       // unfinished lanes, none runnable (liveness failure)
  kStepBound,      // max_steps scheduling points reached (liveness failure)
  kScheduleError,  // the strategy failed or picked a lane that is not runnable
  kInvalid,        // bad arguments to Run
};
const char* RunOutcomeName(RunOutcome outcome);

enum class LaneState : uint8_t { kNotStarted, kRunnable, kBlocked, kSpinning, kDone, kCancelled };
const char* LaneStateName(LaneState state);

struct LaneReport {
  LaneState state = LaneState::kNotStarted;
  uint64_t steps = 0;           // scheduling points this lane reached
  const char* where = "start";  // its last scheduling point (a static label)
  uint64_t where_arg = 0;       // e.g. the medium offset or the lock index
  WaitKey wait_key = 0;         // when blocked
};

struct RunReport {
  RunOutcome outcome = RunOutcome::kInvalid;
  Status status;                   // OK iff kCompleted; else what went wrong and where
  std::vector<uint32_t> schedule;  // the lane picked at each decision
  uint64_t steps = 0;              // scheduling points
  uint64_t preemptions = 0;
  uint64_t switches = 0;  // fiber resumptions (context switches into a lane)
  std::vector<LaneReport> lanes;
  bool ok() const { return outcome == RunOutcome::kCompleted; }
  bool liveness_failure() const {
    return outcome == RunOutcome::kDeadlock || outcome == RunOutcome::kStepBound;
  }
};

// "0,1,1,0" and back. Parse rejects empty tokens, non-digits and lanes >= kMaxLanes.
std::string ScheduleToString(std::span<const uint32_t> schedule);
Result<std::vector<uint32_t>> ParseSchedule(std::string_view text);

struct SchedulerOptions {
  uint32_t max_lanes = 8;            // 1 .. kMaxLanes; one stack each, mapped by Create
  uint64_t stack_bytes = 256 << 10;  // >= 64 KiB per lane (ASan frames are large)
  uint64_t max_steps = 1 << 20;      // scheduling points per run before kStepBound (>= 1)
};

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> Create(const SchedulerOptions& options = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs the lanes to completion (or to a failure) in the order the strategy picks. Bad
  // arguments (no lanes, too many, a re-entrant call) come back as kInvalid.
  RunReport Run(std::vector<LaneBody> lanes, Strategy& strategy);

  // --- Inside a lane --------------------------------------------------------------------------
  // `where` must be a string literal (it is kept by pointer for reports).
  void Yield(const char* where, uint64_t arg = 0);
  // A Yield that never throws LaneCancelled: for paths that run inside destructors (a release).
  void YieldNoCancel(const char* where, uint64_t arg = 0);
  // Parks the lane until Wake(key). Callers re-check their condition after it returns.
  void BlockOn(WaitKey key, const char* where, uint64_t arg = 0);
  // Makes every lane blocked on key runnable. Not a scheduling point.
  void Wake(WaitKey key);
  // One spin-wait iteration (see Spin in the contract above): a free switch point, and twice in
  // a row without another lane running, the lane is parked until another lane runs.
  void Spin(const char* where, uint64_t arg = 0);

  bool InLane() const { return current_ != kNoLane; }
  uint32_t current_lane() const { return current_; }  // kNoLane outside a lane

  // Called (on the scheduler's own stack) before a lane resumes after another lane ran, and
  // before each lane's first segment: how a caller points its medium adapter at the lane.
  void set_switch_callback(std::function<void(uint32_t lane)> callback) {
    switch_callback_ = std::move(callback);
  }

 private:
  struct Impl;  // fiber state (Boost.Context stays out of this header)
  explicit Scheduler(const SchedulerOptions& options);

  enum class PointKind : uint8_t { kYield, kYieldNoCancel, kBlock, kSpin };
  void SchedulingPoint(PointKind kind, const char* where, uint64_t arg, WaitKey key);
  // Picks the lane to run next after `from` reached a point (kNoLane: the start). Returns
  // kNoLane when the run is over (completed, or stopped: see stopping_).
  uint32_t Decide(uint32_t from, bool at_spin = false);
  void Stop(RunOutcome outcome, Status status);
  std::string DescribeLanes() const;
  void ResumeLane(uint32_t lane);  // on the scheduler's stack
  void LaneMain(uint32_t lane);    // on the lane's stack
  void SwitchToScheduler();        // from a lane
  void CancelUnfinished();

  SchedulerOptions options_;
  std::unique_ptr<Impl> impl_;
  std::function<void(uint32_t)> switch_callback_;

  // Per-run state.
  std::vector<LaneBody> bodies_;
  std::vector<LaneReport> lanes_;
  Strategy* strategy_ = nullptr;
  RunReport* report_ = nullptr;
  bool running_ = false;
  bool stopping_ = false;       // Stop was called: the run ends, unfinished lanes are cancelled
  bool cancelling_ = false;     // CancelUnfinished is resuming lanes to unwind them
  uint64_t cancel_points_ = 0;  // points reached by the lane being cancelled
  uint32_t current_ = kNoLane;  // lane whose code is executing
  uint32_t next_ = kNoLane;     // lane the scheduler resumes next
  uint32_t last_resumed_ = kNoLane;
  std::vector<uint32_t> runnable_scratch_;
  std::vector<bool> spun_;  // by lane: its last point was a Spin and no other lane ran since
};

// A run seed for run number `index` of a campaign started from `base` (SplitMix64 of both), so
// that each run is replayable on its own.
uint64_t RunSeed(uint64_t base, uint64_t index);

}  // namespace tearproof::sim
