// Family "concurrent": several lanes of writes, zeros and reads interleaved by a generated
// schedule, with an optional crash anywhere in the interleaving.
//
// Case: a one-arena device, a setup history (run to completion first: an aged flog), 2-3 lane
// programs, a schedule choice vector and optionally a crash spec. The lanes run as
// sim::Scheduler fibers over harness::FiberSync (every medium operation, lane acquisition, map
// lock and spin-wait is a scheduling point); at each decision the schedule's next choice picks
// among the runnable lanes — 0 the non-preemptive default (the current lane if it can run), k
// the k-th other runnable lane — and past its end the default applies. The case generates the
// schedule as 0-3 preemptions (decision, alternative), so shrinking removes or moves them.
// Everything is generated before the run; the lanes record what happened (logical
// invocation/response times, what each read returned) and nothing is asserted on a fiber. Checks,
// per LBA, with "may hold" meaning a register that is regular (Lamport): a read returns the value
// of a write (or zero, or the setup value) that was invoked before the read responded and not
// overwritten by a write that completed before the read was invoked:
//   ORACLE-CONCURRENT-READ   every read during the run returns a value it may hold, whole
//                            (never torn, misdirected or stale);
//   PROP-CONCURRENT-RUN      the run completes: no deadlock, step bound or failed operation;
//   ORACLE-ATOMIC            after the run, every LBA reads a value it may hold (and Check is
//                            clean); after the crash, recovery (sim_device.h Recover) shows on
//                            every LBA a value it may hold at the crash: completed writes are
//                            durable, in-flight ones may or may not be.
// Not checked: full linearizability (the harness's concurrency test does that on fixed
// workloads); regular-register semantics already reject torn, misdirected and lost data.
#include <rapidcheck.h>

#include <algorithm>

#include "harness/fiber_sync.h"
#include "properties/concurrent_case.h"
#include "properties/crash_case.h"
#include "properties/families.h"
#include "properties/generators.h"
#include "properties/prop_assert.h"
#include "properties/sim_device.h"
#include "sim/scheduler.h"

namespace tearproof::properties {
namespace {

constexpr uint32_t kMaxLanes = 3;

rc::Gen<LaneOp> GenLaneOp(rc::Gen<uint64_t> lba) {
  return rc::gen::exec([lba] {
    LaneOp op;
    op.kind = *rc::gen::weightedElement<LaneOp::Kind>(
        {{4, LaneOp::Kind::kWrite}, {1, LaneOp::Kind::kZero}, {3, LaneOp::Kind::kRead}});
    op.lba = *lba;
    return op;
  });
}

// Picks per the schedule's choice vector (see the file comment).
class ChoiceStrategy final : public sim::Strategy {
 public:
  explicit ChoiceStrategy(const std::vector<uint32_t>& choices) : choices_(choices) {}
  Status Begin(uint32_t) override {
    next_ = 0;
    return Status::Ok();
  }
  Result<uint32_t> Pick(const sim::SchedulePoint& point) override {
    const bool stay = point.current_runnable && point.current != sim::kNoLane;
    const uint32_t preferred = stay ? point.current : point.runnable[0];
    if (!point.is_decision()) return preferred;
    std::vector<uint32_t> alternatives = {preferred};
    for (uint32_t lane : point.runnable) {
      if (lane != preferred) alternatives.push_back(lane);
    }
    const uint32_t choice = next_ < choices_.size() ? choices_[next_] : 0;
    ++next_;
    return alternatives[choice % alternatives.size()];
  }

 private:
  const std::vector<uint32_t>& choices_;
  size_t next_ = 0;
};

sim::Scheduler& SharedScheduler() {
  // Created once: Create maps every lane stack, and runs reuse them.
  static std::unique_ptr<sim::Scheduler> scheduler = [] {
    auto s = sim::Scheduler::Create({.max_lanes = kMaxLanes});
    TP_ASSERT(s.ok(), "INV-PROP-SCHEDULER");
    return std::move(s).value();
  }();
  return *scheduler;
}

// One operation as the run saw it, on the logical clock (lanes run one at a time, so the clock
// orders invocations and responses as real time would).
struct Event {
  uint32_t lane = 0;
  LaneOp op;
  ValueId value = kZeroValue;  // written, or (reads) what was read
  uint64_t invoke = 0;
  uint64_t respond = UINT64_MAX;  // UINT64_MAX: never responded
  SectorView read;
};

// The values `lba` may hold for a read over [invoke, respond] (regular register; the setup
// value counts as a write at time 0).
std::vector<ValueId> MayHold(const std::vector<Event>& events, uint64_t lba, ValueId initial,
                             uint64_t invoke, uint64_t respond) {
  std::vector<const Event*> writes;
  Event setup;
  setup.value = initial;
  setup.respond = 0;
  writes.push_back(&setup);
  for (const Event& e : events) {
    if (e.op.lba == lba && e.op.kind != LaneOp::Kind::kRead) writes.push_back(&e);
  }
  std::vector<ValueId> may;
  for (const Event* w : writes) {
    if (w->invoke >= respond && w != &setup) continue;  // not invoked before the read ended
    const bool overwritten = std::any_of(writes.begin(), writes.end(), [&](const Event* later) {
      return later != w && w->respond < later->invoke && later->respond < invoke;
    });
    if (!overwritten && std::find(may.begin(), may.end(), w->value) == may.end()) {
      may.push_back(w->value);
    }
  }
  return may;
}

}  // namespace

void showValue(const LaneOp& op, std::ostream& os) {
  os << (op.kind == LaneOp::Kind::kWrite  ? 'w'
         : op.kind == LaneOp::Kind::kZero ? 'z'
                                          : 'r')
     << op.lba;
}

Result<ConcurrentOutcome> RunConcurrentCase(const ConcurrentCase& c) {
  ConcurrentOutcome out;
  const DeviceConfig& config = c.config;
  TP_ASSIGN_OR_RETURN(const uint64_t nlba, ExternalNlba(config));
  auto fail = [&out](std::string check, std::string detail) {
    out.violation = Violation{std::move(check), std::move(detail)};
    return out;
  };
  TP_ASSIGN_OR_RETURN(sim::Medium medium, MakeMedium(config));
  TP_RETURN_IF_ERROR(FormatDevice(medium, config).Annotate("format: "));
  sim::Scheduler& scheduler = SharedScheduler();
  harness::FiberSync sync(scheduler);
  TP_ASSIGN_OR_RETURN(auto session, Session::Open(medium, config, false, nullptr, false, &sync));
  std::map<uint64_t, ValueId> initial;
  ValueId next_id = 1;
  for (const Op& op : c.setup) {
    const Status s = session->Apply(op);
    if (!s.ok()) return fail("PROP-OP-FAILED", "setup " + ToString(op) + ": " + s.ToString());
    initial[op.lba] = op.Value();
    if (op.kind == Op::Kind::kWrite) next_id = op.id + 1;
  }

  // The run. Lane bodies only record; every judgement happens after Run returns.
  size_t total_ops = 0;
  for (const auto& program : c.programs) total_ops += program.size();
  std::vector<Event> events;
  events.reserve(total_ops);
  uint64_t clock = 1;
  uint64_t crash_clock = 0;
  CrashTrap trap(medium, c.crash.value_or(CrashSpec{}));
  if (c.crash) {
    session->ns().set_fence_hook([&] {
      const bool before = trap.fired();
      trap.OnFence();
      if (!before && trap.fired()) crash_clock = clock++;
    });
  }
  std::vector<sim::LaneBody> bodies;
  for (uint32_t lane = 0; lane < c.programs.size(); ++lane) {
    std::vector<std::pair<LaneOp, ValueId>> program;
    for (const LaneOp& op : c.programs[lane]) {
      program.emplace_back(op, op.kind == LaneOp::Kind::kWrite ? next_id++ : kZeroValue);
    }
    bodies.push_back([&, lane, program]() -> Status {
      btt::Btt& b = session->btt();
      for (const auto& [op, value] : program) {
        events.push_back(Event{lane, op, value, clock++, UINT64_MAX, {}});
        const size_t index = events.size() - 1;  // `events` never reallocates (reserved)
        const btt::ExternalLba lba(op.lba);
        Status s;
        if (op.kind == LaneOp::Kind::kWrite) {
          s = b.Write(lba, SectorBytes(op.lba, value, config.lbasize));
        } else if (op.kind == LaneOp::Kind::kZero) {
          s = b.Zero(lba);
        } else {
          events[index].read = ReadView(b, {op.lba}).at(op.lba);
        }
        events[index].respond = clock++;
        TP_RETURN_IF_ERROR(
            s.Annotate("lane " + std::to_string(lane) + " lba " + std::to_string(op.lba) + ": "));
      }
      return Status::Ok();
    });
  }
  ChoiceStrategy strategy(c.schedule);
  harness::AttachScheduler(session->ns(), scheduler);
  const sim::RunReport report = scheduler.Run(std::move(bodies), strategy);
  session->ns().set_op_hook(nullptr);
  session->ns().set_fence_hook(nullptr);
  scheduler.set_switch_callback(nullptr);
  out.schedule = sim::ScheduleToString(report.schedule);
  out.contention = sync.waits() > 0;
  out.crash_fired = trap.fired();
  if (!report.ok()) {
    return fail("PROP-CONCURRENT-RUN",
                std::string(sim::RunOutcomeName(report.outcome)) + ": " + report.status.ToString());
  }

  auto initial_of = [&](uint64_t lba) {
    const auto it = initial.find(lba);
    return it == initial.end() ? kZeroValue : it->second;
  };
  for (const Event& e : events) {
    if (e.op.kind != LaneOp::Kind::kRead) continue;
    const Allowed allowed = {
        {e.op.lba, MayHold(events, e.op.lba, initial_of(e.op.lba), e.invoke, e.respond)}};
    if (auto v = JudgeView({{e.op.lba, e.read}}, allowed, config.lbasize, nullptr)) {
      return fail("ORACLE-CONCURRENT-READ", "lane " + std::to_string(e.lane) + " at time " +
                                                std::to_string(e.invoke) + ": " + v->detail);
    }
  }
  // After the run: every LBA, read sequentially once everything has responded.
  Allowed after_run;
  for (uint64_t lba = 0; lba < nlba; ++lba) {
    after_run[lba] = MayHold(events, lba, initial_of(lba), clock, clock);
  }
  if (auto v =
          JudgeView(ReadView(session->btt(), AllLbas(nlba)), after_run, config.lbasize, nullptr)) {
    return fail(v->check, "after the run: " + v->detail);
  }
  auto check = session->btt().Check(false);
  if (!check.ok()) return fail("ORACLE-CHECK", check.status().ToString());
  if (!check->Clean()) return fail("ORACLE-CHECK", "after the run: " + check->ToString());
  session.reset();
  if (!c.crash) return out;
  if (!trap.fired()) crash_clock = clock;
  // At the crash, a read that ends where it starts: writes invoked before it may have
  // persisted, those that completed before it must have.
  std::vector<Event> before_crash;
  for (const Event& e : events) {
    if (e.invoke < crash_clock) before_crash.push_back(e);
  }
  Allowed at_crash;
  for (uint64_t lba = 0; lba < nlba; ++lba) {
    at_crash[lba] = MayHold(before_crash, lba, initial_of(lba), crash_clock, crash_clock);
  }
  sim::Medium crashed = trap.TakeCrash();
  Recovery r = Recover(crashed, config, AllLbas(nlba), std::nullopt);
  const std::string at = "crash at time " + std::to_string(crash_clock) + ": ";
  if (r.violation) return fail(r.violation->check, at + r.violation->detail);
  if (auto v = JudgeView(r.view, at_crash, config.lbasize, nullptr)) {
    return fail(v->check, at + v->detail);
  }
  return out;
}

ConcurrentCase DrawConcurrentCase() {
  ConcurrentCase c;
  c.config = *GenDeviceConfig();
  const uint64_t nlba = ValueOrFail(ExternalNlba(c.config), "geometry");
  // Races need operations that meet: three LBAs, short programs, a short setup (which ages the
  // flog and moves identity blocks onto free lists).
  std::vector<uint64_t> hot;
  for (uint64_t lba = 0; lba < std::min<uint64_t>(nlba, 3); ++lba) hot.push_back(lba);
  c.setup =
      *rc::gen::container<std::vector<Op>>(*rc::gen::inRange<size_t>(0, 5), GenOp(GenLbaFrom(hot)));
  NumberWrites(c.setup, 1);
  const auto lane_count = *rc::gen::inRange<uint32_t>(2, kMaxLanes + 1);
  size_t total_ops = 0;
  for (uint32_t i = 0; i < lane_count; ++i) {
    c.programs.push_back(*rc::gen::container<std::vector<LaneOp>>(*rc::gen::inRange<size_t>(1, 4),
                                                                  GenLaneOp(GenLbaFrom(hot))));
    total_ops += c.programs.back().size();
  }
  // The schedule as 1-3 preemptions (decision index, alternative): like PCT, a few well-placed
  // preemptions find most concurrency bugs, and shrinking drops or moves them. Early decisions
  // are favoured: a race between the first operations of two lanes is the commonest.
  const auto preemptions = *rc::gen::container<std::vector<std::pair<uint32_t, uint32_t>>>(
      *rc::gen::inRange<size_t>(1, 4),
      rc::gen::pair(
          rc::gen::weightedOneOf<uint32_t>(
              {{1, rc::gen::inRange<uint32_t>(0, 8)},
               {2, rc::gen::inRange<uint32_t>(0, static_cast<uint32_t>(12 * total_ops))}}),
          rc::gen::inRange<uint32_t>(1, kMaxLanes)));
  for (const auto& [decision, alternative] : preemptions) {
    if (c.schedule.size() <= decision) c.schedule.resize(decision + 1, 0);
    c.schedule[decision] = alternative;
  }
  if (*rc::gen::arbitrary<bool>()) {
    c.crash = *GenCrashSpec(static_cast<uint32_t>(4 * total_ops + 1));
  }
  return c;
}

namespace {
thread_local std::optional<FailedConcurrentCase> g_last_failed_concurrent;
}  // namespace

std::optional<FailedConcurrentCase> TakeLastFailedConcurrentCase() {
  std::optional<FailedConcurrentCase> c = std::move(g_last_failed_concurrent);
  g_last_failed_concurrent.reset();
  return c;
}

Result<std::string> WriteConcurrentCaseTrace(const FailedConcurrentCase& failed,
                                             const std::string& dir, btt::Mutant mutant) {
  const ConcurrentCase& c = failed.c;
  if (c.programs.empty() || c.programs.size() > harness::kMaxExploreLanes) {
    return InvalidArgument(std::to_string(c.programs.size()) + " lanes: the explorer runs 1 to " +
                           std::to_string(harness::kMaxExploreLanes));
  }
  harness::ExploreConfig config = ExploreConfigFor(c.config, mutant);
  config.setup_ops = WorkloadOf(c.setup);
  auto lane_program = [](const std::vector<LaneOp>& program) {
    std::vector<harness::WorkloadOp> ops;
    for (const LaneOp& op : program) {
      const auto kind = op.kind == LaneOp::Kind::kWrite  ? harness::WorkloadOp::Kind::kWrite
                        : op.kind == LaneOp::Kind::kZero ? harness::WorkloadOp::Kind::kZero
                                                         : harness::WorkloadOp::Kind::kRead;
      ops.push_back({kind, op.lba});
    }
    return ops;
  };
  config.ops = lane_program(c.programs[0]);
  for (size_t i = 1; i < c.programs.size(); ++i) {
    config.other_lanes.push_back(lane_program(c.programs[i]));
  }
  if (config.other_lanes.empty()) return ExploreAndWriteTrace(config, dir);
  // The schedule the run took names the lane of every decision; the explorer's lanes make the
  // same scheduling points when its device makes the same medium operations.
  if (auto taken = sim::ParseSchedule(failed.schedule_taken); taken.ok()) {
    config.schedule = *taken;
    auto path = ExploreAndWriteTrace(config, dir);
    if (path.ok() || path.status().code() != StatusCode::kNotFound) return path;
  }
  config.schedule.clear();
  config.preemption_bound = kConcurrentTracePreemptions;
  return ExploreAndWriteTrace(config, dir);
}

std::string WriteConcurrentTraceOfLastFailure() {
  const std::optional<FailedConcurrentCase> failed = TakeLastFailedConcurrentCase();
  if (!failed) return "no trace: the failure did not come from a concurrent case";
  return DescribeTraceResult(WriteConcurrentCaseTrace(*failed, TraceDirectory()));
}

void ConcurrentProperty() {
  const ConcurrentCase c = DrawConcurrentCase();
  const ConcurrentOutcome out = ValueOrFail(RunConcurrentCase(c), "harness");
  // The fibers have finished: a failure may unwind from here on, and leaves its case behind.
  if (out.violation) g_last_failed_concurrent = FailedConcurrentCase{c, out.schedule};
  RC_TAG(out.contention ? "contention" : "no contention", !c.crash ? "no crash"
                                                          : out.crash_fired
                                                              ? "crash during the run"
                                                              : "crash after the run");
  FailIf(out.violation, "schedule " + out.schedule);
}

}  // namespace tearproof::properties
