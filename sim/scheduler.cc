// Roadmap: strategies (Random, Pct, Replay, Exhaustive) -> schedule text -> Scheduler::Create
// (stacks) -> Run (the scheduler's loop on the caller's stack) -> SchedulingPoint / Decide (on a
// lane's stack) -> ResumeLane / SwitchToScheduler (the only two context switches, both
// annotated for ASan) -> CancelUnfinished.
#include "sim/scheduler.h"

#include <algorithm>
#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <charconv>
#include <exception>
#include <utility>

#if defined(__SANITIZE_ADDRESS__)
#define TP_SCHED_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TP_SCHED_ASAN 1
#endif
#endif
#ifdef TP_SCHED_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace tearproof::sim {
namespace {

namespace ctx = boost::context;

// A lane that keeps reaching scheduling points after it was told to unwind has swallowed
// LaneCancelled (or loops in a destructor); past this many points that is a programmer error.
constexpr uint64_t kMaxPointsWhileCancelling = 1 << 16;
constexpr uint64_t kMinStackBytes = 64 << 10;

// ASan fiber annotations (no-ops without ASan). Protocol, per switch: the side that leaves calls
// StartSwitch with the destination stack (and nullptr as `save` when its own stack dies), the
// side that arrives calls FinishSwitch with what its own StartSwitch saved.
void StartSwitch([[maybe_unused]] void** save, [[maybe_unused]] const void* bottom,
                 [[maybe_unused]] size_t size) {
#ifdef TP_SCHED_ASAN
  __sanitizer_start_switch_fiber(save, bottom, size);
#endif
}
void FinishSwitch([[maybe_unused]] void* save, [[maybe_unused]] const void** old_bottom,
                  [[maybe_unused]] size_t* old_size) {
#ifdef TP_SCHED_ASAN
  __sanitizer_finish_switch_fiber(save, old_bottom, old_size);
#endif
}
// A stack that is reused may still carry the poisoned redzones of frames that never returned
// (a finished fiber leaves through a jump, not through its entry frame's epilogue).
void UnpoisonStack([[maybe_unused]] const void* bottom, [[maybe_unused]] size_t size) {
#ifdef TP_SCHED_ASAN
  ASAN_UNPOISON_MEMORY_REGION(bottom, size);
#endif
}

// Hands Boost.Context a stack mapped once by Create; the fiber's end does not unmap it.
struct BorrowedStack {
  ctx::stack_context stack;
  ctx::stack_context allocate() { return stack; }
  void deallocate(ctx::stack_context&) noexcept {}
};

// "0 2 3" (or "0,2,3" with ','): lane lists in messages and the schedule's text form.
std::string JoinLanes(std::span<const uint32_t> lanes, char separator) {
  std::string out;
  for (uint32_t lane : lanes) {
    if (!out.empty()) out += separator;
    out += std::to_string(lane);
  }
  return out;
}
std::string LaneList(std::span<const uint32_t> lanes) { return JoinLanes(lanes, ' '); }

}  // namespace

struct Scheduler::Impl {
  struct Slot {
    ctx::stack_context stack;      // mapping (guard page included), owned by Impl
    const void* bottom = nullptr;  // usable range, for ASan
    size_t size = 0;
    ctx::fiber fiber;  // the parked lane; empty before its start and after its end
    void* fake_stack = nullptr;
  };
  explicit Impl(uint64_t stack_bytes) : allocator(stack_bytes) {}
  ~Impl() {
    for (Slot& slot : slots) {
      TP_ASSERT(!slot.fiber, "INV-SCHED-NO-PARKED-FIBER-AT-EXIT");
      allocator.deallocate(slot.stack);
    }
  }
  ctx::protected_fixedsize_stack allocator;
  std::vector<Slot> slots;
  ctx::fiber main;  // the scheduler's context while a lane runs (held by the running lane)
  void* main_fake_stack = nullptr;
  const void* main_bottom = nullptr;
  size_t main_size = 0;
};

// ---------------------------------------------------------------------------------------------
// Strategies.

Status RandomStrategy::Begin(uint32_t) {
  prng_ = Prng(seed_);
  return Status::Ok();
}

Result<uint32_t> RandomStrategy::Pick(const SchedulePoint& point) {
  if (!point.is_decision()) return point.runnable[0];
  return point.runnable[prng_.Below(point.runnable.size())];
}

Status PctStrategy::Begin(uint32_t lane_count) {
  if (depth_ < 1) return InvalidArgument("PCT depth must be at least 1");
  if (expected_steps_ < 1) return InvalidArgument("PCT expected steps must be at least 1");
  Prng prng(seed_);
  // Initial priorities: a uniform permutation of depth .. depth+N-1 (Fisher-Yates), all above
  // the change-point priorities 1 .. depth-1.
  priority_.resize(lane_count);
  for (uint32_t i = 0; i < lane_count; ++i) priority_[i] = depth_ + i;
  for (uint32_t i = lane_count; i > 1; --i) std::swap(priority_[i - 1], priority_[prng.Below(i)]);
  // depth-1 distinct change steps (fewer if expected_steps is smaller): rejection terminates
  // because at most expected_steps values are wanted.
  const uint64_t wanted = std::min<uint64_t>(depth_ - 1, expected_steps_);
  std::vector<std::pair<uint64_t, uint64_t>> changes;  // (step, priority)
  while (changes.size() < wanted) {
    const uint64_t step = prng.Range(1, expected_steps_);
    const bool taken =
        std::any_of(changes.begin(), changes.end(), [&](const auto& c) { return c.first == step; });
    if (!taken) changes.emplace_back(step, changes.size() + 1);
  }
  std::sort(changes.begin(), changes.end());
  change_steps_.clear();
  change_priority_.clear();
  for (const auto& [step, priority] : changes) {
    change_steps_.push_back(step);
    change_priority_.push_back(priority);
  }
  return Status::Ok();
}

Result<uint32_t> PctStrategy::Pick(const SchedulePoint& point) {
  // change_steps_ is consumed from the front as the run passes each step.
  const uint64_t step = point.step + 1;
  auto it = std::lower_bound(change_steps_.begin(), change_steps_.end(), step);
  if (it != change_steps_.end() && *it == step && point.current != kNoLane) {
    priority_[point.current] = change_priority_[it - change_steps_.begin()];
  }
  uint32_t best = point.runnable[0];
  for (uint32_t lane : point.runnable) {
    if (priority_[lane] > priority_[best]) best = lane;
  }
  return best;
}

Status ReplayStrategy::Begin(uint32_t lane_count) {
  next_ = 0;
  for (size_t i = 0; i < schedule_.size(); ++i) {
    if (schedule_[i] >= lane_count) {
      return InvalidArgument("replay: decision " + std::to_string(i) + " names lane " +
                             std::to_string(schedule_[i]) + " of a run with " +
                             std::to_string(lane_count) + " lanes");
    }
  }
  return Status::Ok();
}

Result<uint32_t> ReplayStrategy::Pick(const SchedulePoint& point) {
  if (!point.is_decision()) return point.runnable[0];
  if (next_ >= schedule_.size()) {
    if (strict_) {
      return InvalidArgument("replay: the schedule ends after " + std::to_string(schedule_.size()) +
                             " decisions but the run needs more (the run diverged)");
    }
    ++next_;
    if (point.current_runnable) return point.current;
    return point.runnable[0];
  }
  const uint32_t lane = schedule_[next_];
  if (!std::binary_search(point.runnable.begin(), point.runnable.end(), lane)) {
    return InvalidArgument(
        "replay: decision " + std::to_string(next_) + " picks lane " + std::to_string(lane) +
        ", which is not runnable (runnable: " + LaneList(point.runnable) + "; the run diverged)");
  }
  ++next_;
  return lane;
}

Status ReplayStrategy::End() {
  if (strict_ && next_ != schedule_.size()) {
    return InvalidArgument("replay: the run completed after " + std::to_string(next_) +
                           " decisions but the schedule has " + std::to_string(schedule_.size()) +
                           " (the run diverged)");
  }
  return Status::Ok();
}

uint32_t ExhaustiveStrategy::Cost(const Decision& d, size_t index) const {
  return d.current_runnable && !d.at_spin && d.alternatives[index] != d.current ? 1 : 0;
}

Status ExhaustiveStrategy::Begin(uint32_t) {
  next_ = 0;
  ++schedules_started_;
  return Status::Ok();
}

Result<uint32_t> ExhaustiveStrategy::Pick(const SchedulePoint& point) {
  if (!point.is_decision()) return point.runnable[0];
  if (next_ < path_.size()) {
    // Replaying the prefix: the run must see exactly what the recorded run saw.
    const Decision& d = path_[next_];
    bool same = d.current == point.current && d.current_runnable == point.current_runnable &&
                d.at_spin == point.at_spin && d.alternatives.size() == point.runnable.size();
    for (uint32_t lane : point.runnable) {
      same = same &&
             std::find(d.alternatives.begin(), d.alternatives.end(), lane) != d.alternatives.end();
    }
    if (!same) {
      return InternalError("exhaustive: decision " + std::to_string(next_) +
                           " differs from the recorded run (runnable " + LaneList(point.runnable) +
                           "): the lanes are not deterministic");
    }
    ++next_;
    return d.alternatives[d.index];
  }
  Decision d;
  d.current = point.current;
  d.current_runnable = point.current_runnable;
  d.at_spin = point.at_spin;
  const uint32_t fallback = point.current_runnable ? point.current : point.runnable[0];
  d.alternatives.push_back(fallback);
  for (uint32_t lane : point.runnable) {
    if (lane != fallback) d.alternatives.push_back(lane);
  }
  if (!path_.empty()) {
    const Decision& prev = path_.back();
    d.preemptions_before = prev.preemptions_before + Cost(prev, prev.index);
  }
  path_.push_back(std::move(d));
  ++next_;
  return fallback;
}

bool ExhaustiveStrategy::Advance() {
  // Only the decisions the last run took count (a stopped run may not have reached them all).
  if (path_.size() > next_) path_.resize(next_);
  while (!path_.empty()) {
    Decision& d = path_.back();
    for (size_t i = d.index + 1; i < d.alternatives.size(); ++i) {
      if (d.preemptions_before + Cost(d, i) <= max_preemptions_) {
        d.index = i;
        return true;
      }
    }
    path_.pop_back();
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Names and schedule text.

const char* RunOutcomeName(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::kCompleted:
      return "completed";
    case RunOutcome::kLaneFailed:
      return "lane-failed";
    case RunOutcome::kDeadlock:
      return "deadlock";
    case RunOutcome::kStepBound:
      return "step-bound";
    case RunOutcome::kScheduleError:
      return "schedule-error";
    case RunOutcome::kInvalid:
      return "invalid";
  }
  return "?";
}

const char* LaneStateName(LaneState state) {
  switch (state) {
    case LaneState::kNotStarted:
      return "not started";
    case LaneState::kRunnable:
      return "runnable";
    case LaneState::kBlocked:
      return "blocked";
    case LaneState::kSpinning:
      return "spinning";
    case LaneState::kDone:
      return "done";
    case LaneState::kCancelled:
      return "cancelled";
  }
  return "?";
}

std::string ScheduleToString(std::span<const uint32_t> schedule) {
  return JoinLanes(schedule, ',');
}

Result<std::vector<uint32_t>> ParseSchedule(std::string_view text) {
  std::vector<uint32_t> out;
  if (text.empty()) return out;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string_view token = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    uint32_t lane = 0;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), lane);
    if (token.empty() || error != std::errc() || end != token.data() + token.size() ||
        lane >= kMaxLanes) {
      return InvalidArgument("schedule: bad lane '" + std::string(token) + "' at decision " +
                             std::to_string(out.size()) + " (want comma-separated lanes < " +
                             std::to_string(kMaxLanes) + ")");
    }
    out.push_back(lane);
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

uint64_t RunSeed(uint64_t base, uint64_t index) {
  uint64_t state = base ^ (index * 0xD1B54A32D192ED03ULL);
  return SplitMix64(state);
}

// ---------------------------------------------------------------------------------------------
// The scheduler.

Result<std::unique_ptr<Scheduler>> Scheduler::Create(const SchedulerOptions& options) {
  if (options.max_lanes < 1 || options.max_lanes > kMaxLanes) {
    return InvalidArgument("scheduler: max_lanes " + std::to_string(options.max_lanes) +
                           " outside 1.." + std::to_string(kMaxLanes));
  }
  if (options.stack_bytes < kMinStackBytes || options.stack_bytes > (1ULL << 30)) {
    return InvalidArgument("scheduler: stack_bytes " + std::to_string(options.stack_bytes) +
                           " outside 64 KiB .. 1 GiB");
  }
  if (options.max_steps < 1) return InvalidArgument("scheduler: max_steps must be at least 1");
  return std::unique_ptr<Scheduler>(new Scheduler(options));
}

Scheduler::Scheduler(const SchedulerOptions& options)
    : options_(options), impl_(std::make_unique<Impl>(options.stack_bytes)) {
  const size_t page = ctx::stack_traits::page_size();
  impl_->slots.resize(options.max_lanes);
  for (Impl::Slot& slot : impl_->slots) {
    slot.stack = impl_->allocator.allocate();  // throws std::bad_alloc if mmap fails
    slot.bottom = static_cast<char*>(slot.stack.sp) - slot.stack.size + page;  // above the guard
    slot.size = slot.stack.size - page;
  }
}

Scheduler::~Scheduler() = default;

RunReport Scheduler::Run(std::vector<LaneBody> lanes, Strategy& strategy) {
  RunReport report;
  if (running_) {
    report.status = InvalidArgument("Scheduler::Run is not re-entrant (called from a lane)");
    return report;
  }
  if (lanes.empty() || lanes.size() > options_.max_lanes) {
    report.status = InvalidArgument("scheduler: " + std::to_string(lanes.size()) +
                                    " lanes, want 1.." + std::to_string(options_.max_lanes));
    return report;
  }
  for (size_t i = 0; i < lanes.size(); ++i) {
    if (!lanes[i]) {
      report.status = InvalidArgument("scheduler: lane " + std::to_string(i) + " has no body");
      return report;
    }
  }
  const auto lane_count = static_cast<uint32_t>(lanes.size());
  bodies_ = std::move(lanes);
  lanes_.assign(lane_count, LaneReport{});
  spun_.assign(lane_count, false);
  strategy_ = &strategy;
  report_ = &report;
  running_ = true;
  stopping_ = false;
  cancelling_ = false;
  last_resumed_ = kNoLane;

  const Status begin = strategy.Begin(lane_count);
  if (!begin.ok()) Stop(RunOutcome::kScheduleError, begin);
  uint32_t next = stopping_ ? kNoLane : Decide(kNoLane);
  while (next != kNoLane) {
    ResumeLane(next);
    if (stopping_) break;
    const bool finished = !impl_->slots[next].fiber;
    next = finished ? Decide(next) : next_;
  }
  if (!stopping_) {
    const Status end = strategy.End();
    if (end.ok()) {
      report.outcome = RunOutcome::kCompleted;
    } else {
      Stop(RunOutcome::kScheduleError, end);
    }
  }
  CancelUnfinished();

  report.lanes = lanes_;
  bodies_.clear();
  strategy_ = nullptr;
  report_ = nullptr;
  running_ = false;
  return report;
}

void Scheduler::Stop(RunOutcome outcome, Status status) {
  if (stopping_) return;  // the first reason wins
  stopping_ = true;
  report_->outcome = outcome;
  report_->status = Status(status.code(), status.message() + " [" + DescribeLanes() + "]");
}

std::string Scheduler::DescribeLanes() const {
  std::string out;
  for (size_t i = 0; i < lanes_.size(); ++i) {
    const LaneReport& l = lanes_[i];
    if (!out.empty()) out += "; ";
    out += "lane " + std::to_string(i) + " " + LaneStateName(l.state);
    if (l.state == LaneState::kDone || l.state == LaneState::kNotStarted) continue;
    out += " at '" + std::string(l.where) + "' (" + std::to_string(l.where_arg) + ") after " +
           std::to_string(l.steps) + " steps";
    if (l.state == LaneState::kBlocked) out += ", waiting for key " + std::to_string(l.wait_key);
  }
  return out;
}

uint32_t Scheduler::Decide(uint32_t from, bool at_spin) {
  if (report_->steps >= options_.max_steps) {
    Stop(RunOutcome::kStepBound,
         Status(StatusCode::kInternal, "liveness: the run reached the step bound of " +
                                           std::to_string(options_.max_steps) +
                                           " scheduling points"));
    return kNoLane;
  }
  const uint64_t step = report_->steps++;
  // `from` has just run a segment: a parked spinner may re-check, and nobody else's spin streak
  // continues.
  runnable_scratch_.clear();
  bool all_done = true;
  for (uint32_t i = 0; i < lanes_.size(); ++i) {
    LaneState& state = lanes_[i].state;
    if (i != from) {
      if (state == LaneState::kSpinning) state = LaneState::kRunnable;
      spun_[i] = false;
    }
    if (state == LaneState::kRunnable || state == LaneState::kNotStarted) {
      runnable_scratch_.push_back(i);
    }
    all_done = all_done && state == LaneState::kDone;
  }
  if (runnable_scratch_.empty()) {
    if (!all_done) {
      Stop(RunOutcome::kDeadlock,
           Status(StatusCode::kInternal,
                  "liveness: deadlock, every unfinished lane is blocked or spinning on state "
                  "that no runnable lane can change"));
    }
    return kNoLane;
  }
  SchedulePoint point;
  point.step = step;
  point.decision = report_->schedule.size();
  point.current = from;
  point.current_runnable = from != kNoLane && lanes_[from].state == LaneState::kRunnable;
  point.at_spin = at_spin;
  point.runnable = runnable_scratch_;
  Result<uint32_t> pick = strategy_->Pick(point);
  if (!pick.ok()) {
    Stop(RunOutcome::kScheduleError, pick.status());
    return kNoLane;
  }
  if (!std::binary_search(runnable_scratch_.begin(), runnable_scratch_.end(), *pick)) {
    Stop(RunOutcome::kScheduleError,
         InternalError("strategy picked lane " + std::to_string(*pick) +
                       ", which is not runnable (runnable: " + LaneList(runnable_scratch_) + ")"));
    return kNoLane;
  }
  if (point.is_decision()) {
    report_->schedule.push_back(*pick);
    if (point.current_runnable && !at_spin && *pick != from) ++report_->preemptions;
  }
  return *pick;
}

void Scheduler::ResumeLane(uint32_t lane) {
  Impl::Slot& slot = impl_->slots[lane];
  if (lane != last_resumed_ && switch_callback_) switch_callback_(lane);
  last_resumed_ = lane;
  if (!slot.fiber) {
    TP_ASSERT(lanes_[lane].state == LaneState::kNotStarted, "INV-SCHED-START-ONCE");
    lanes_[lane].state = LaneState::kRunnable;
    UnpoisonStack(slot.bottom, slot.size);
    slot.fiber =
        ctx::fiber(std::allocator_arg, BorrowedStack{slot.stack}, [this, lane](ctx::fiber&& main) {
          FinishSwitch(nullptr, &impl_->main_bottom, &impl_->main_size);
          impl_->main = std::move(main);
          LaneMain(lane);
          // This stack ends here: nothing to save.
          StartSwitch(nullptr, impl_->main_bottom, impl_->main_size);
          return std::move(impl_->main);
        });
  }
  current_ = lane;
  ++report_->switches;
  StartSwitch(&impl_->main_fake_stack, slot.bottom, slot.size);
  slot.fiber = std::move(slot.fiber).resume();
  FinishSwitch(impl_->main_fake_stack, nullptr, nullptr);
  current_ = kNoLane;
}

void Scheduler::SwitchToScheduler() {
  Impl::Slot& slot = impl_->slots[current_];
  StartSwitch(&slot.fake_stack, impl_->main_bottom, impl_->main_size);
  impl_->main = std::move(impl_->main).resume();
  FinishSwitch(slot.fake_stack, nullptr, nullptr);
}

void Scheduler::LaneMain(uint32_t lane) {
  // Nothing may unwind past this frame: the caller is a context-switch trampoline.
  Status result;
  bool cancelled = false;
  try {
    result = bodies_[lane]();
  } catch (const LaneCancelled&) {
    cancelled = true;
  } catch (const ctx::detail::forced_unwind&) {
    throw;  // Boost.Context's own unwinding (never used here) must reach its trampoline
  } catch (const std::exception& e) {
    result = InternalError(std::string("exception: ") + e.what());
  } catch (...) {
    result = InternalError("exception of a non-std type");
  }
  lanes_[lane].state = cancelled ? LaneState::kCancelled : LaneState::kDone;
  if (!result.ok() && !cancelling_) {
    lanes_[lane].where = "failed";
    Stop(RunOutcome::kLaneFailed, result.Annotate("lane " + std::to_string(lane) + " failed: "));
  }
}

void Scheduler::CancelUnfinished() {
  cancelling_ = true;
  for (uint32_t lane = 0; lane < lanes_.size(); ++lane) {
    if (!impl_->slots[lane].fiber) continue;  // never started, or finished
    cancel_points_ = 0;
    ResumeLane(lane);
    TP_ASSERT(!impl_->slots[lane].fiber, "INV-SCHED-CANCELLED-LANE-ENDS");
  }
  cancelling_ = false;
}

void Scheduler::SchedulingPoint(PointKind kind, const char* where, uint64_t arg, WaitKey key) {
  if (current_ == kNoLane) {
    // Setup code outside a run: nothing else can run, so a wait could never end.
    TP_ASSERT(kind == PointKind::kYield || kind == PointKind::kYieldNoCancel,
              "INV-SCHED-WAIT-IN-LANE");
    return;
  }
  const bool may_throw = kind != PointKind::kYieldNoCancel;
  LaneReport& lane = lanes_[current_];
  if (cancelling_) {
    // Never switch again: unwind (or, inside a destructor, let the release finish).
    TP_ASSERT(++cancel_points_ <= kMaxPointsWhileCancelling, "INV-SCHED-CANCEL-NOT-SWALLOWED");
    if (may_throw && std::uncaught_exceptions() == 0) throw LaneCancelled{};
    return;
  }
  const uint32_t me = current_;
  lane.where = where;
  lane.where_arg = arg;
  ++lane.steps;
  if (kind == PointKind::kBlock) {
    lane.state = LaneState::kBlocked;
    lane.wait_key = key;
  }
  if (kind == PointKind::kSpin && spun_[me]) lane.state = LaneState::kSpinning;
  spun_[me] = kind == PointKind::kSpin;
  const uint32_t next = Decide(me, kind == PointKind::kSpin);
  if (next == me) return;  // Decide only picks runnable lanes: `me` is still runnable
  next_ = next;            // kNoLane: the run stopped
  SwitchToScheduler();
  if (cancelling_ && may_throw && std::uncaught_exceptions() == 0) throw LaneCancelled{};
}

void Scheduler::Yield(const char* where, uint64_t arg) {
  SchedulingPoint(PointKind::kYield, where, arg, 0);
}

void Scheduler::YieldNoCancel(const char* where, uint64_t arg) {
  SchedulingPoint(PointKind::kYieldNoCancel, where, arg, 0);
}

void Scheduler::BlockOn(WaitKey key, const char* where, uint64_t arg) {
  SchedulingPoint(PointKind::kBlock, where, arg, key);
}

void Scheduler::Spin(const char* where, uint64_t arg) {
  SchedulingPoint(PointKind::kSpin, where, arg, 0);
}

void Scheduler::Wake(WaitKey key) {
  for (LaneReport& lane : lanes_) {
    if (lane.state == LaneState::kBlocked && lane.wait_key == key) {
      lane.state = LaneState::kRunnable;
    }
  }
}

}  // namespace tearproof::sim
