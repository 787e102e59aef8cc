#include "tools/explore_command.h"

#include <fmt/core.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "harness/explorer.h"
#include "harness/matrix.h"
#include "sim/scheduler.h"
#include "tools/cli_common.h"
#include "traces/trace.h"

namespace tearproof::tools {
namespace {

const std::map<std::string, sim::PersistencyModel> kSimModels = {
    {"px86", sim::PersistencyModel::kPx86},
    {"word8", sim::PersistencyModel::kWord8},
    {"eadr", sim::PersistencyModel::kEadr}};
const std::map<std::string, harness::FlushKind> kFaults = {
    {"none", harness::FlushKind::kClwb}, {"lost-flushes", harness::FlushKind::kNone}};

struct ExploreArgs {
  std::string device = "btt";
  std::string profile = "linux";
  uint32_t lbasize = 512;
  uint32_t nfree = 1;
  std::string model = "px86";
  std::string ops = "w0 w1 w0";
  std::string setup;
  std::vector<std::string> lanes;  // --lane, repeatable: lanes 1, 2, ...
  std::string schedule;
  int64_t preemptions = -1;  // -1: none given
  bool crash_in_format = false;
  uint64_t max_states = 1 << 14;
  std::string fault = "none";
  std::string mutant = "none";
  bool mutant_after_setup = false;
  int64_t track_lbas = -1;  // -1: none given (0 LBAs beyond the workload's)
  bool matrix = false;
  std::vector<std::string> parts;  // --part, repeatable: the matrix parts to run (default all)
  std::string shard = "0/1";
  std::string trace_dir = "traces-out";
};

// Writes the trace of every violation to args.trace_dir (created on demand) and prints where it
// went and how to replay it. Returns false when a trace could not be written.
bool WriteTraces(const ExploreArgs& args, const harness::ExploreConfig& config,
                 const std::vector<harness::Violation>& violations) {
  if (args.trace_dir.empty() || violations.empty()) return true;
  std::error_code error;
  std::filesystem::create_directories(args.trace_dir, error);
  bool ok = !error;
  for (size_t i = 0; i < violations.size() && ok; ++i) {
    const traces::Trace trace = traces::TraceFromViolation(config, violations[i]);
    const std::string path =
        args.trace_dir + "/" + traces::TraceStem(trace) + "-" + std::to_string(i) + ".jsonl";
    const Status written = traces::WriteTraceFile(path, trace);
    if (!written.ok()) {
      std::fprintf(stderr, "tearproof explore: %s\n", written.ToString().c_str());
      return false;
    }
    std::printf("  trace %s\n  replay: tearproof replay %s\n", path.c_str(), path.c_str());
  }
  if (error) {
    std::fprintf(stderr, "tearproof explore: cannot create %s: %s\n", args.trace_dir.c_str(),
                 error.message().c_str());
  }
  return ok;
}

// The standard matrix (docs/explorer.md), optionally one deterministic shard of it.
int RunExploreMatrix(const ExploreArgs& args) {
  harness::MatrixOptions options;
  unsigned shard = 0, shards = 1;
  char tail = 0;
  if (std::sscanf(args.shard.c_str(), "%u/%u%c", &shard, &shards, &tail) != 2 || shards == 0 ||
      shard >= shards) {
    std::fprintf(stderr, "tearproof explore: --shard must be i/N with i < N, got '%s'\n",
                 args.shard.c_str());
    return kExitUsage;
  }
  options.shard = shard;
  options.shards = shards;
  options.count_eager_states = false;  // not printed here
  if (!args.parts.empty()) {
    options.parts.clear();
    for (const std::string& name : args.parts) {
      options.parts.push_back(*harness::ParseMatrixPart(name));  // CLI::IsMember checked it
    }
  }
  auto result = harness::RunStandardMatrix(options);
  if (!result.ok()) {
    std::fprintf(stderr, "tearproof explore: %s\n", result.status().ToString().c_str());
    return kExitUsage;
  }
  bool traces_ok = true;
  std::map<std::string, harness::ExploreStats> by_part;
  std::map<std::string, uint64_t> explorations_by_part;
  for (const harness::MatrixCell& cell : result->cells) {
    const std::string part = harness::MatrixPartName(cell.part);
    by_part[part].Add(cell.stats);
    explorations_by_part[part] += cell.workloads;
    std::printf(
        "%-10s %-8s %4u B  %-5s nfree %u: %llu workloads, %llu crash points (%llu repeated), "
        "%llu states, %zu violations\n",
        part.c_str(), btt::ProfileName(cell.profile), cell.sector_size,
        sim::PersistencyModelName(cell.model), cell.nfree,
        static_cast<unsigned long long>(cell.workloads),
        static_cast<unsigned long long>(cell.stats.crash_points),
        static_cast<unsigned long long>(cell.stats.crash_points_repeated),
        static_cast<unsigned long long>(cell.stats.states_checked), cell.violations.size());
    for (size_t i = 0; i < cell.violations.size(); ++i) {
      const harness::Violation& v = cell.violations[i];
      std::printf("  VIOLATION %s workload '%s' crash point %llu: %s\n", v.check.c_str(),
                  cell.violation_workloads[i].c_str(),
                  static_cast<unsigned long long>(v.crash_point), v.detail.c_str());
      traces_ok = WriteTraces(args, cell.violation_configs[i], {v}) && traces_ok;
      // The one exploration that found it, on its own (the trace replays only its crash point).
      std::printf("  explore: %s\n", ExploreCommand(cell.violation_configs[i]).c_str());
    }
  }
  for (const auto& [part, stats] : by_part) {
    std::printf(
        "part %s: %llu explorations, %llu executions, %llu crash points (%llu repeated, not "
        "judged again), %llu crash states judged + %llu inside recovery, %llu incomplete "
        "points\n",
        part.c_str(), static_cast<unsigned long long>(explorations_by_part[part]),
        static_cast<unsigned long long>(stats.executions),
        static_cast<unsigned long long>(stats.crash_points),
        static_cast<unsigned long long>(stats.crash_points_repeated),
        static_cast<unsigned long long>(stats.states_checked),
        static_cast<unsigned long long>(stats.recovery_crash_states),
        static_cast<unsigned long long>(stats.incomplete_points));
  }
  std::printf("shard %u/%u: %llu explorations, %llu violations, %llu incomplete points\n", shard,
              shards, static_cast<unsigned long long>(result->workloads),
              static_cast<unsigned long long>(result->violations),
              static_cast<unsigned long long>(result->total.incomplete_points));
  std::printf("verdict: %s\n", result->ok() ? "no violation" : "VIOLATION");
  if (!result->ok()) return kExitViolation;
  return traces_ok ? 0 : kExitUsage;
}

int RunExplore(const ExploreArgs& args) {
  if (args.matrix) {
    if (args.track_lbas >= 0) {
      // Each matrix part tracks every LBA of its own (docs/explorer.md); one number for all of
      // them would change what the matrix proves.
      std::fprintf(stderr,
                   "tearproof explore: --track-lbas applies to one exploration; the standard "
                   "matrix tracks every LBA of each part itself\n");
      return kExitUsage;
    }
    return RunExploreMatrix(args);
  }
  auto ops = harness::ParseWorkload(args.ops);
  if (!ops.ok()) {
    std::fprintf(stderr, "tearproof explore: --ops: %s\n", ops.status().message().c_str());
    return kExitUsage;
  }
  harness::ExploreConfig config;
  config.device = *harness::ParseDevice(args.device);  // CLI::IsMember checked the name
  config.profile = ProfilesByName().at(args.profile);
  config.external_lbasize = args.lbasize;
  config.nfree = args.nfree;
  config.model = kSimModels.at(args.model);
  config.ops = *ops;
  config.max_states_per_point = args.max_states;
  config.workload_flush = kFaults.at(args.fault);
  if (!args.setup.empty()) {
    auto setup = harness::ParseWorkload(args.setup);
    if (!setup.ok()) {
      std::fprintf(stderr, "tearproof explore: --setup: %s\n", setup.status().message().c_str());
      return kExitUsage;
    }
    config.setup_ops = *setup;
  }
  for (const std::string& lane : args.lanes) {
    auto lane_ops = harness::ParseWorkload(lane);
    if (!lane_ops.ok()) {
      std::fprintf(stderr, "tearproof explore: --lane: %s\n", lane_ops.status().message().c_str());
      return kExitUsage;
    }
    config.other_lanes.push_back(*lane_ops);
  }
  if (!args.schedule.empty()) {
    auto schedule = sim::ParseSchedule(args.schedule);
    if (!schedule.ok()) {
      std::fprintf(stderr, "tearproof explore: --schedule: %s\n",
                   schedule.status().message().c_str());
      return kExitUsage;
    }
    config.schedule = *schedule;
  }
  config.crash_in_format = args.crash_in_format;
  if (args.track_lbas >= 0) config.track_lbas = static_cast<uint32_t>(args.track_lbas);
  if (args.preemptions >= 0) config.preemption_bound = static_cast<uint32_t>(args.preemptions);
  auto mutant = harness::MutantByName(args.mutant);
  if (!mutant.ok()) {
    std::fprintf(stderr, "tearproof explore: --mutant: %s\n", mutant.status().message().c_str());
    return kExitUsage;
  }
  config.mutant = *mutant;
  config.mutant_after_setup = args.mutant_after_setup;
  if (config.workload_flush == harness::FlushKind::kNone ||
      config.device == harness::Device::kPlainPmem) {
    // A faulty platform, or no BTT at all, tears sectors everywhere; the nested checks only add
    // noise (and a plain device has no layout to check).
    config.check_layout = false;
    config.crash_in_recovery = false;
  }
  auto result = harness::Explore(config);
  if (!result.ok()) {
    std::fprintf(stderr, "tearproof explore: %s\n", result.status().ToString().c_str());
    return kExitUsage;
  }
  const harness::ExploreStats& s = result->stats;
  std::string what =
      args.device == "btt" ? args.profile + " nfree " + std::to_string(args.nfree) : args.device;
  if (args.mutant != "none") what += " mutant " + args.mutant;
  std::string workload = harness::WorkloadToString(*ops);
  for (const auto& lane : config.other_lanes) workload += " || " + harness::WorkloadToString(lane);
  if (config.preemption_bound) {
    workload += fmt::format("' (every schedule within {} preemption(s): {} executions)",
                            *config.preemption_bound, result->stats.executions);
  } else if (!config.other_lanes.empty()) {
    workload += "' (schedule " + sim::ScheduleToString(config.schedule) + ")";
  } else {
    workload += "'";
  }
  const std::string tracked =
      config.track_lbas == 0 ? "" : fmt::format(", judging lbas 0-{} too", config.track_lbas - 1);
  std::printf("explore %s %u-byte sectors model %s workload '%s%s%s%s\n", what.c_str(),
              args.lbasize, args.model.c_str(), workload.c_str(),
              args.setup.empty() ? "" : (" after setup '" + args.setup + "'").c_str(),
              args.fault == "none" ? "" : (" fault " + args.fault).c_str(), tracked.c_str());
  std::printf(
      "events %llu, crash points %llu (%llu repeated, not judged again), crash states judged "
      "%llu (eager space %llu), crashes inside recovery %llu, incomplete points %llu\n",
      static_cast<unsigned long long>(s.events), static_cast<unsigned long long>(s.crash_points),
      static_cast<unsigned long long>(s.crash_points_repeated),
      static_cast<unsigned long long>(s.states_checked),
      static_cast<unsigned long long>(s.eager_states),
      static_cast<unsigned long long>(s.recovery_crash_states),
      static_cast<unsigned long long>(s.incomplete_points));
  for (const harness::Violation& v : result->violations) {
    std::printf("VIOLATION %s at crash point %llu (op in flight: %lld): %s\n", v.check.c_str(),
                static_cast<unsigned long long>(v.crash_point),
                static_cast<long long>(v.op_in_flight), v.detail.c_str());
    std::string choices;
    for (const auto& c : v.resolution) {
      choices += fmt::format(" 0x{:x}:{}/{}", c.word_addr, c.index, c.candidate_count);
    }
    std::printf("  crash state (word:candidate/count):%s\n", choices.c_str());
    if (!v.schedule.empty()) {
      std::printf("  schedule: %s\n", sim::ScheduleToString(v.schedule).c_str());
    }
  }
  const bool traces_ok = WriteTraces(args, config, result->violations);
  if (result->ok()) {
    std::printf("verdict: no violation\n");
    return 0;
  }
  if (result->violations.empty()) {
    std::printf("verdict: incomplete (raise --max-states)\n");
    return kExitViolation;
  }
  std::printf("verdict: %zu violation(s)\n", result->violations.size());
  return traces_ok ? kExitViolation : kExitUsage;
}

}  // namespace

std::string ExploreCommand(const harness::ExploreConfig& config) {
  const bool mutant = config.mutant != btt::Mutant::kNone;
  std::string cmd = mutant ? "tearproof-mutants explore" : "tearproof explore";
  if (config.device != harness::Device::kBtt) {
    cmd += fmt::format(" --device {}", harness::DeviceName(config.device));
  } else {
    cmd += fmt::format(" --profile {} --nfree {}", btt::ProfileName(config.profile), config.nfree);
  }
  cmd +=
      fmt::format(" --lbasize {} --model {} --ops \"{}\"", config.external_lbasize,
                  sim::PersistencyModelName(config.model), harness::WorkloadToString(config.ops));
  if (!config.setup_ops.empty()) {
    cmd += fmt::format(" --setup \"{}\"", harness::WorkloadToString(config.setup_ops));
  }
  for (const auto& lane : config.other_lanes) {
    cmd += fmt::format(" --lane \"{}\"", harness::WorkloadToString(lane));
  }
  if (!config.schedule.empty()) {
    cmd += " --schedule " + sim::ScheduleToString(config.schedule);
  }
  if (config.preemption_bound) cmd += fmt::format(" --preemptions {}", *config.preemption_bound);
  if (config.crash_in_format) cmd += " --crash-in-format";
  if (config.max_states_per_point != ExploreArgs{}.max_states) {
    cmd += fmt::format(" --max-states {}", config.max_states_per_point);
  }
  if (config.workload_flush == harness::FlushKind::kNone) cmd += " --fault lost-flushes";
  if (config.track_lbas != 0) cmd += fmt::format(" --track-lbas {}", config.track_lbas);
  if (mutant) {
    cmd += " --mutant " + harness::NameOfMutant(config.mutant);
    if (config.mutant_after_setup) cmd += " --mutant-after-setup";
  }
  return cmd;
}

std::function<int()> AddExploreCommand(CLI::App& app) {
  auto args = std::make_shared<ExploreArgs>();
  auto* cmd =
      app.add_subcommand("explore",
                         "crash-explore a sector device on the simulated medium (no options: the "
                         "standard matrix)");
  cmd->add_option("--device", args->device, "btt (the core) or plain-pmem (the no-BTT control)")
      ->check(CLI::IsMember({"btt", "plain-pmem"}));
  cmd->add_option("--profile", args->profile)->check(CLI::IsMember({"linux", "uefi", "pmemblk"}));
  cmd->add_option("--lbasize", args->lbasize, "external sector size");
  cmd->add_option("--nfree", args->nfree, "free blocks / lanes")->check(CLI::Range(1, 256));
  cmd->add_option("--model", args->model)->check(CLI::IsMember({"px86", "word8", "eadr"}));
  cmd->add_option("--ops", args->ops, "workload, e.g. \"w0 w1 z0 r1\"");
  cmd->add_option("--setup", args->setup, "operations completed before the workload (aging)");
  cmd->add_option("--lane", args->lanes,
                  "another lane's workload, run concurrently with --ops (repeatable, at most 3)");
  cmd->add_option("--schedule", args->schedule,
                  "with --lane: the lane picked at each scheduling decision, e.g. 0,1,1 (then no "
                  "preemption)");
  cmd->add_option("--preemptions", args->preemptions,
                  "with --lane: explore every schedule within this many preemptions")
      ->check(CLI::Range(0, 16));
  cmd->add_flag("--crash-in-format", args->crash_in_format,
                "crash format too, at every fence (ORACLE-FORMAT)");
  cmd->add_option(
         "--track-lbas", args->track_lbas,
         "also judge LBAs 0..N-1 after every crash, not only those the ops name (an LBA no "
         "op names must keep its value)")
      ->check(CLI::Range(int64_t{0}, int64_t{UINT32_MAX}));
  cmd->add_option("--max-states", args->max_states, "resolutions per crash point")
      ->check(CLI::Range(1, 1 << 30));
  cmd->add_option("--fault", args->fault, "inject a platform fault")
      ->check(CLI::IsMember({"none", "lost-flushes"}));
  cmd->add_flag("--matrix", args->matrix, "run the standard matrix (docs/explorer.md)");
  cmd->add_option("--shard", args->shard, "with --matrix: run shard i of N (i/N)");
  cmd->add_option("--part", args->parts,
                  "with --matrix: run only this part (repeatable; default: all)")
      ->check(CLI::IsMember({"sequential", "concurrent", "format"}));
  cmd->add_option("--trace-dir", args->trace_dir,
                  "write a trace of every violation here (default traces-out)");
  cmd->add_flag_callback(
      "--no-traces", [args] { args->trace_dir.clear(); }, "write no traces");
  if (harness::MutantsCompiledIn()) {
    cmd->add_option("--mutant", args->mutant, "seeded BTT core mutant (docs/mutants.md)");
    cmd->add_flag("--mutant-after-setup", args->mutant_after_setup,
                  "the real core runs --setup, the mutant the workload");
  }
  return [cmd, args]() {
    if (!*cmd) return -1;
    // No options at all: the standard matrix, as `tearproof prove` runs it.
    if (cmd->count_all() == 1) args->matrix = true;
    return RunExplore(*args);
  };
}

}  // namespace tearproof::tools
