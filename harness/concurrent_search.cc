#include "harness/concurrent_search.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <utility>

#include "btt/btt.h"
#include "harness/explorer.h"
#include "harness/fiber_sync.h"
#include "harness/matrix.h"
#include "harness/sequential_sync.h"
#include "harness/sim_namespace.h"
#include "sim/medium.h"
#include "sim/scheduler.h"
#include "util/assert.h"

namespace tearproof::harness {
namespace {

constexpr uint32_t kSectorBytes = kConcurrentSectorBytes;
constexpr uint32_t kNfree = kConcurrentNfree;
constexpr uint64_t kSetupWriteBase = kConcurrentSetupWriteBase;
// Scheduling points per run before a run is a livelock (ORACLE-LIVENESS); the standard workloads
// take a few hundred.
constexpr uint64_t kMaxSteps = 1 << 16;

using Kind = WorkloadOp::Kind;
using Sector = std::vector<std::byte>;

Sector TaggedSector(uint64_t lba, uint64_t write_id) {
  Sector s(kSectorBytes);
  for (uint64_t w = 0; w < kSectorBytes / 8; ++w) {
    const uint64_t tag = SectorTag(lba, write_id, w);
    std::memcpy(s.data() + w * 8, &tag, 8);
  }
  return s;
}

// Mutant selection exists only in the mutant build (btt/mutant.h).
Status SelectMutant([[maybe_unused]] btt::Mutant m) {
#ifdef TEARPROOF_BTT_MUTANTS
  btt::SetMutant(m);
  return Status::Ok();
#else
  if (m == btt::Mutant::kNone) return Status::Ok();
  return InvalidArgument("this build holds no mutant (use the mutant build of the harness)");
#endif
}

btt::OpenOptions OpenWith(btt::Sync* sync) {
  btt::OpenOptions options;
  options.profile = btt::Profile::kLinux;
  options.sync = sync;
  options.lanes = kNfree;  // every lane in use, independent of the host's CPU count
  return options;
}

}  // namespace

// Depth first over the ops that may go next (none still pending responded before it was
// invoked), memoized on (ops done, register value). Histories are a handful of ops (asserted).
bool Linearizable(const std::vector<HistoryOp>& ops, uint64_t initial) {
  TP_ASSERT(ops.size() < 64, "INV-CONCURRENT-HISTORY-SMALL");
  std::set<std::pair<uint64_t, uint64_t>> seen;
  const uint64_t all = (1ULL << ops.size()) - 1;
  std::function<bool(uint64_t, uint64_t)> search = [&](uint64_t done, uint64_t value) {
    if (done == all) return true;
    if (!seen.insert({done, value}).second) return false;
    uint64_t earliest_response = UINT64_MAX;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (!(done >> i & 1)) earliest_response = std::min(earliest_response, ops[i].respond);
    }
    for (size_t i = 0; i < ops.size(); ++i) {
      if ((done >> i & 1) || ops[i].invoke > earliest_response) continue;
      const bool is_read = ops[i].kind == Kind::kRead;
      if (is_read && ops[i].value != value) continue;
      if (search(done | 1ULL << i, is_read ? value : ops[i].value)) return true;
    }
    return false;
  };
  return search(0, initial);
}

uint64_t IdentifySector(uint64_t lba, std::span<const std::byte> sector,
                        const std::set<uint64_t>& values, std::string* problem) {
  if (std::all_of(sector.begin(), sector.end(), [](std::byte b) { return b == std::byte{0}; })) {
    return 0;
  }
  for (uint64_t v : values) {
    if (v != 0 && sector.size() == kSectorBytes &&
        std::ranges::equal(sector, TaggedSector(lba, v))) {
      return v;
    }
  }
  *problem = "holds " + DescribeSector(sector);
  return 0;
}

namespace {

// A formatted, aged medium that every run of a workload copies, and the workload parsed.
struct World {
  sim::Medium base;
  std::map<uint64_t, uint64_t> initial;           // LBA -> value after setup (0: zeros)
  std::vector<std::vector<WorkloadOp>> lane_ops;  // by lane
  std::vector<std::vector<uint64_t>> write_ids;   // by lane and op: 1 + position, lanes in order
  std::map<uint64_t, std::set<uint64_t>> values;  // LBA -> every value a read may return
};

Result<World> MakeWorld(const ConcurrentWorkload& w) {
  TP_ASSIGN_OR_RETURN(sim::Medium medium,
                      sim::Medium::Create({.size_bytes = btt::BttOffsetFor(btt::Profile::kLinux) +
                                                         btt::kMinArenaSize,
                                           .model = sim::PersistencyModel::kPx86,
                                           .event_log = false}));
  World world{std::move(medium), {}, {}, {}, {}};
  SimNamespace ns(world.base);
  TP_RETURN_IF_ERROR(FormatSimulatedBtt(ns, btt::Profile::kLinux, kSectorBytes, kNfree));
  SequentialSync sync;
  TP_ASSIGN_OR_RETURN(auto b, btt::Btt::Open(ns, OpenWith(&sync)));
  if (!w.setup.empty()) {
    TP_ASSIGN_OR_RETURN(std::vector<WorkloadOp> setup, ParseWorkload(w.setup));
    for (size_t i = 0; i < setup.size(); ++i) {
      const WorkloadOp& op = setup[i];
      if (op.kind == Kind::kWrite) {
        TP_RETURN_IF_ERROR(
            b->Write(btt::ExternalLba(op.lba), TaggedSector(op.lba, kSetupWriteBase + i)));
        world.initial[op.lba] = kSetupWriteBase + i;
      } else if (op.kind == Kind::kZero) {
        TP_RETURN_IF_ERROR(b->Zero(btt::ExternalLba(op.lba)));
        world.initial[op.lba] = 0;
      }
    }
  }
  for (const auto& [lba, value] : world.initial) world.values[lba].insert(value);
  uint64_t next_id = 1;
  for (const std::string& text : w.lanes) {
    TP_ASSIGN_OR_RETURN(std::vector<WorkloadOp> ops, ParseWorkload(text));
    world.write_ids.emplace_back();
    for (const WorkloadOp& op : ops) {
      if (op.lba >= b->ExternalNlba()) return InvalidArgument("lba out of range in " + w.Name());
      world.write_ids.back().push_back(next_id);
      if (op.kind == Kind::kWrite) world.values[op.lba].insert(next_id);
      ++next_id;
    }
    world.lane_ops.push_back(std::move(ops));
  }
  if (world.lane_ops.empty() || world.lane_ops.size() > kConcurrentMaxLanes) {
    return InvalidArgument("a concurrent workload has 1 to " + std::to_string(kConcurrentMaxLanes) +
                           " lanes: " + w.Name());
  }
  return world;
}

// The value a sector read from `lba` holds (0 for zeros), or 0 and *problem when it is none of
// the values this LBA may hold.
uint64_t Identify(const World& world, uint64_t lba, std::span<const std::byte> sector,
                  std::string* problem) {
  static const std::set<uint64_t> kNone;
  const auto it = world.values.find(lba);
  return IdentifySector(lba, sector, it != world.values.end() ? it->second : kNone, problem);
}

ConcurrentRun RunOnce(const World& world, sim::Scheduler& scheduler, sim::Strategy& strategy,
                      bool record_events = false) {
  ConcurrentRun result;
  sim::Medium medium = world.base.MaterializeCrash(world.base.GuaranteedState());
  medium.set_event_log_enabled(record_events);
  SimNamespace ns(medium);
  FiberSync sync(scheduler);
  auto opened = btt::Btt::Open(ns, OpenWith(&sync));
  if (!opened.ok()) {
    result.check = "ERROR";
    result.detail = "open: " + opened.status().ToString();
    return result;
  }
  btt::Btt& b = **opened;
  uint64_t clock = 0;  // lanes run one at a time, so this is real-time order
  std::map<uint64_t, std::vector<HistoryOp>> history;
  std::string read_problem;
  std::vector<sim::LaneBody> bodies;
  for (size_t lane = 0; lane < world.lane_ops.size(); ++lane) {
    bodies.push_back([&, lane]() -> Status {
      Sector buffer(kSectorBytes);
      const std::vector<WorkloadOp>& ops = world.lane_ops[lane];
      for (size_t i = 0; i < ops.size(); ++i) {
        const WorkloadOp& op = ops[i];
        HistoryOp h{op.kind, 0, clock++, 0};
        std::string problem;
        Status s;
        if (op.kind == Kind::kWrite) {
          h.value = world.write_ids[lane][i];
          s = b.Write(btt::ExternalLba(op.lba), TaggedSector(op.lba, h.value));
        } else if (op.kind == Kind::kZero) {
          s = b.Zero(btt::ExternalLba(op.lba));
        } else {
          s = b.Read(btt::ExternalLba(op.lba), buffer);
          h.value = Identify(world, op.lba, buffer, &problem);
          if (s.ok() && !problem.empty() && read_problem.empty()) {
            read_problem = "lane " + std::to_string(lane) + " read of lba " +
                           std::to_string(op.lba) + " " + problem;
          }
        }
        h.respond = clock++;
        if (!s.ok()) {
          return s.Annotate("lane " + std::to_string(lane) + " op " + std::to_string(i) +
                            " on lba " + std::to_string(op.lba) + ": ");
        }
        history[op.lba].push_back(h);
        result.ops.push_back({static_cast<uint32_t>(lane), static_cast<uint32_t>(i), op, h.value,
                              h.invoke, h.respond, std::move(problem)});
      }
      return Status::Ok();
    });
  }
  AttachScheduler(ns, scheduler);
  result.report = scheduler.Run(std::move(bodies), strategy);
  ns.set_op_hook(nullptr);
  scheduler.set_switch_callback(nullptr);
  result.contention = sync.waits() > 0;
  if (record_events) result.events = medium.events();
  if (!result.report.ok()) {
    result.check = result.report.liveness_failure() ? "ORACLE-LIVENESS" : "ERROR";
    result.detail = std::string("run ") + sim::RunOutcomeName(result.report.outcome) + ": " +
                    result.report.status.ToString();
    return result;
  }
  if (!read_problem.empty()) {
    result.check = "ORACLE-CONCURRENT-READ";
    result.detail = read_problem;
    return result;
  }
  // The final contents, read sequentially after every lane finished, end each history.
  Sector buffer(kSectorBytes);
  for (auto& [lba, ops] : history) {
    const Status s = b.Read(btt::ExternalLba(lba), buffer);
    std::string problem;
    const uint64_t value = Identify(world, lba, buffer, &problem);
    if (!s.ok() || !problem.empty()) {
      result.check = "ORACLE-CONCURRENT-READ";
      result.detail = "final read of lba " + std::to_string(lba) + " " +
                      (s.ok() ? problem : "failed: " + s.ToString());
      return result;
    }
    ops.push_back({Kind::kRead, value, clock, clock + 1});
    clock += 2;
  }
  for (const auto& [lba, ops] : history) {
    const auto it = world.initial.find(lba);
    const uint64_t start = it == world.initial.end() ? 0 : it->second;
    if (Linearizable(ops, start)) continue;
    result.check = "ORACLE-LINEARIZABLE";
    result.detail = "lba " + std::to_string(lba) + " (initially " + std::to_string(start) + "):";
    for (const HistoryOp& op : ops) {
      const char* k = op.kind == Kind::kWrite ? "write" : op.kind == Kind::kZero ? "zero" : "read";
      result.detail += " " + std::string(k) + "=" + std::to_string(op.value) + "@[" +
                       std::to_string(op.invoke) + "," + std::to_string(op.respond) + "]";
    }
    return result;
  }
  auto check = b.Check(/*repair=*/false);
  if (!check.ok() || !check->Clean()) {
    result.check = "ORACLE-CHECK";
    result.detail = check.ok() ? check->ToString() : check.status().ToString();
  }
  return result;
}

Result<std::unique_ptr<sim::Scheduler>> MakeScheduler() {
  return sim::Scheduler::Create({.max_lanes = kConcurrentMaxLanes, .max_steps = kMaxSteps});
}

}  // namespace

std::string ConcurrentWorkload::Name() const {
  std::string n = setup.empty() ? "" : "[" + setup + "] ";
  for (size_t i = 0; i < lanes.size(); ++i) n += (i > 0 ? " || " : "") + lanes[i];
  return n;
}

const std::vector<ConcurrentWorkload>& StandardConcurrentWorkloads() {
  static const std::vector<ConcurrentWorkload> kWorkloads = {
      {"", {"w0 r1", "w1 r0"}},          {"", {"w0 z0", "r0 r0"}},
      {"w1", {"w1 r1", "z1 w1"}},        {"", {"w0 w1", "w1 w0"}},
      {"w3 w0", {"r1", "w1 w2"}},        {"w3 w0", {"r1 r2", "w1 z1 w2"}},
      {"", {"w0 r1", "w1 r2", "w2 w0"}},  // three lanes on two BTT lanes: lane contention
  };
  return kWorkloads;
}

void ConcurrentPartStats::Add(const ConcurrentPartStats& o) {
  runs += o.runs;
  runs_with_contention += o.runs_with_contention;
  preemptions_max = std::max(preemptions_max, o.preemptions_max);
  steps += o.steps;
  violations += o.violations;
  errors += o.errors;
}

Result<ConcurrentSearchResult> SearchConcurrent(const std::vector<ConcurrentWorkload>& workloads,
                                                const ConcurrentSearchOptions& options) {
  if (options.preemption_bound > 3) return InvalidArgument("preemption bound must be 0..3");
  TP_RETURN_IF_ERROR(SelectMutant(options.mutant));
  TP_RETURN_IF_ERROR(SelectMutant(btt::Mutant::kNone));
  TP_ASSIGN_OR_RETURN(auto scheduler, MakeScheduler());
  ConcurrentSearchResult out;
  out.exhaustive_complete = true;
  bool stop = false;
  auto record = [&](ConcurrentPartStats& part, const ConcurrentWorkload& w,
                    const std::string& strategy, const ConcurrentRun& r) {
    ++part.runs;
    part.runs_with_contention += r.contention;
    part.preemptions_max = std::max(part.preemptions_max, r.report.preemptions);
    part.steps += r.report.steps;
    if (r.check.empty()) return;
    const std::string where = w.Name() + " under " + strategy + ", schedule " +
                              sim::ScheduleToString(r.report.schedule) + ": " + r.check + ": " +
                              r.detail;
    if (r.check == "ERROR") {
      ++part.errors;
      if (out.first_error.empty()) out.first_error = where;
      return;
    }
    ++part.violations;
    if (out.first_violation.empty()) {
      out.first_violation = where;
      out.violation_check = r.check;
      out.violation_workload = w.Name();
      out.violation_strategy = strategy;
      out.violation_schedule = sim::ScheduleToString(r.report.schedule);
      out.violation_preemptions = r.report.preemptions;
    }
    stop = options.stop_at_first_violation;
  };
  for (const ConcurrentWorkload& w : workloads) {
    if (stop) break;
    TP_ASSIGN_OR_RETURN(const World world, MakeWorld(w));  // setup on the unmutated core
    ++out.workloads;
    TP_RETURN_IF_ERROR(SelectMutant(options.mutant));
    sim::ExhaustiveStrategy ex(options.preemption_bound);
    bool more = true;
    do {
      record(out.exhaustive, w, "exhaustive bound " + std::to_string(options.preemption_bound),
             RunOnce(world, *scheduler, ex));
      more = ex.Advance();
    } while (more && !stop);
    out.exhaustive_complete = out.exhaustive_complete && !more;
    for (uint64_t i = 0; !stop && i < std::max(options.pct_seeds, options.random_seeds); ++i) {
      const uint64_t seed = sim::RunSeed(options.seed_base, i);
      if (i < options.pct_seeds) {
        // Depth 2 and 3 alternately: bugs needing one or two ordering constraints; 60 steps is
        // the order of a standard workload's length.
        sim::PctStrategy pct(seed, 2 + i % 2, 60);
        record(out.sampled, w, "pct seed " + std::to_string(seed), RunOnce(world, *scheduler, pct));
      }
      if (!stop && i < options.random_seeds) {
        sim::RandomStrategy random(seed);
        record(out.sampled, w, "random seed " + std::to_string(seed),
               RunOnce(world, *scheduler, random));
      }
    }
    TP_RETURN_IF_ERROR(SelectMutant(btt::Mutant::kNone));
  }
  if (stop) out.exhaustive_complete = false;
  return out;
}

Result<ConcurrentRun> RunConcurrent(const ConcurrentWorkload& workload, sim::Scheduler& scheduler,
                                    sim::Strategy& strategy, btt::Mutant mutant,
                                    bool record_events) {
  TP_RETURN_IF_ERROR(SelectMutant(mutant));
  TP_RETURN_IF_ERROR(SelectMutant(btt::Mutant::kNone));
  TP_ASSIGN_OR_RETURN(const World world, MakeWorld(workload));  // setup on the unmutated core
  TP_RETURN_IF_ERROR(SelectMutant(mutant));
  ConcurrentRun run = RunOnce(world, scheduler, strategy, record_events);
  TP_RETURN_IF_ERROR(SelectMutant(btt::Mutant::kNone));
  return run;
}

Result<ConcurrentRun> ReplayConcurrent(const ConcurrentWorkload& workload,
                                       const std::vector<uint32_t>& schedule, btt::Mutant mutant) {
  TP_ASSIGN_OR_RETURN(auto scheduler, MakeScheduler());
  sim::ReplayStrategy replay(schedule, /*strict=*/true);
  return RunConcurrent(workload, *scheduler, replay, mutant);
}

}  // namespace tearproof::harness
