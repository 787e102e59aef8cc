// tearproof — the command-line tool.
//
//   tearproof prove    the proof-of-atomicity campaign (the main job; `make prove`)
//   tearproof explore  crash exploration of the BTT core on the simulated medium
//   tearproof bmc      Z3 bounded model check of the BTT protocol
//   tearproof format | info | check | read | write | zero IMAGE ...   the BTT core on a file
//
// Exit status: 0 the evidence holds, 1 a violation was found, 2 usage or environment error.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <map>
#include <string>

#include "harness/explorer.h"
#include "harness/matrix.h"
#include "model/bmc.h"
#include "tools/cli_common.h"
#include "tools/image_commands.h"
#include "tools/prove.h"
#include "tools/report_process.h"

namespace tearproof::tools {
namespace {

const std::map<std::string, sim::PersistencyModel> kSimModels = {
    {"px86", sim::PersistencyModel::kPx86}, {"word8", sim::PersistencyModel::kWord8},
    {"eadr", sim::PersistencyModel::kEadr}};
const std::map<std::string, harness::FlushKind> kFaults = {
    {"none", harness::FlushKind::kClwb}, {"lost-flushes", harness::FlushKind::kNone}};

struct ExploreArgs {
  std::string profile = "linux";
  uint32_t lbasize = 512;
  uint32_t nfree = 1;
  std::string model = "px86";
  std::string ops = "w0 w1 w0";
  uint64_t max_states = 1 << 14;
  std::string fault = "none";
  bool matrix = false;
  std::string shard = "0/1";
};

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
  auto result = harness::RunStandardMatrix(options);
  if (!result.ok()) {
    std::fprintf(stderr, "tearproof explore: %s\n", result.status().ToString().c_str());
    return kExitUsage;
  }
  for (const harness::MatrixCell& cell : result->cells) {
    std::printf("%-8s %4u B  %-5s nfree %u: %llu workloads, %llu crash points, %llu states, "
                "%zu violations\n",
                btt::ProfileName(cell.profile), cell.sector_size,
                sim::PersistencyModelName(cell.model), cell.nfree,
                static_cast<unsigned long long>(cell.workloads),
                static_cast<unsigned long long>(cell.stats.crash_points),
                static_cast<unsigned long long>(cell.stats.states_checked),
                cell.violations.size());
    for (size_t i = 0; i < cell.violations.size(); ++i) {
      std::printf("  VIOLATION %s workload '%s' crash point %llu: %s\n",
                  cell.violations[i].check.c_str(), cell.violation_workloads[i].c_str(),
                  static_cast<unsigned long long>(cell.violations[i].crash_point),
                  cell.violations[i].detail.c_str());
    }
  }
  std::printf("shard %u/%u: %llu explorations, %llu violations, %llu incomplete points\n", shard,
              shards, static_cast<unsigned long long>(result->workloads),
              static_cast<unsigned long long>(result->violations),
              static_cast<unsigned long long>(result->total.incomplete_points));
  std::printf("verdict: %s\n", result->ok() ? "no violation" : "VIOLATION");
  return result->ok() ? 0 : kExitViolation;
}

int RunExplore(const ExploreArgs& args) {
  if (args.matrix) return RunExploreMatrix(args);
  auto ops = harness::ParseWorkload(args.ops);
  if (!ops.ok()) {
    std::fprintf(stderr, "tearproof explore: --ops: %s\n", ops.status().message().c_str());
    return kExitUsage;
  }
  harness::ExploreConfig config;
  config.profile = ProfilesByName().at(args.profile);
  config.external_lbasize = args.lbasize;
  config.nfree = args.nfree;
  config.model = kSimModels.at(args.model);
  config.ops = *ops;
  config.max_states_per_point = args.max_states;
  config.workload_flush = kFaults.at(args.fault);
  if (config.workload_flush == harness::FlushKind::kNone) {
    // A faulty platform tears sectors everywhere; the nested checks only add noise.
    config.check_layout = false;
    config.crash_in_recovery = false;
  }
  auto result = harness::Explore(config);
  if (!result.ok()) {
    std::fprintf(stderr, "tearproof explore: %s\n", result.status().ToString().c_str());
    return kExitUsage;
  }
  const harness::ExploreStats& s = result->stats;
  std::printf("explore %s %u-byte sectors nfree %u model %s workload '%s'%s\n",
              args.profile.c_str(), args.lbasize, args.nfree, args.model.c_str(),
              harness::WorkloadToString(*ops).c_str(),
              args.fault == "none" ? "" : (" fault " + args.fault).c_str());
  std::printf("events %llu, crash points %llu, crash states judged %llu (eager space %llu), "
              "crashes inside recovery %llu, incomplete points %llu\n",
              static_cast<unsigned long long>(s.events),
              static_cast<unsigned long long>(s.crash_points),
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
  }
  if (result->ok()) {
    std::printf("verdict: no violation\n");
    return 0;
  }
  if (result->violations.empty()) {
    std::printf("verdict: incomplete (raise --max-states)\n");
    return kExitViolation;
  }
  std::printf("verdict: %zu violation(s)\n", result->violations.size());
  return kExitViolation;
}

struct BmcArgs {
  int lanes = 2;
  int lbas = 2;
  int nfree = 0;
  int ops = 1;
  std::string model = "word8";
  std::string mutant = "none";
  double timeout = 120;
  bool json = false;
  bool deepen = false;
  double budget = 600;
};

int RunBmcCommand(const BmcArgs& args) {
  auto model = model::ParsePersistencyModel(args.model);
  auto mutant = model::ParseMutant(args.mutant);
  if (!model.ok() || !mutant.ok()) {
    std::fprintf(stderr, "tearproof bmc: %s\n",
                 (!model.ok() ? model.status() : mutant.status()).ToString().c_str());
    return kExitUsage;
  }
  if (args.deepen) {
    model::DeepenOptions deepen;
    deepen.model = *model;
    deepen.mutant = *mutant;
    deepen.budget_seconds = args.budget;
    auto rows = model::RunDeepening(deepen);
    if (!rows.ok()) {
      std::fprintf(stderr, "tearproof bmc: %s\n", rows.status().ToString().c_str());
      return kExitUsage;
    }
    std::printf("%s", model::DeepenTableMarkdown(deepen, *rows).c_str());
    for (const auto& row : *rows) {
      if (row.verdict == model::Verdict::kSat && *mutant == model::Mutant::kNone) {
        return kExitViolation;
      }
    }
    return 0;
  }
  model::BmcOptions options;
  options.lanes = args.lanes;
  options.lbas = args.lbas;
  options.nfree = args.nfree;
  options.ops_per_lane = args.ops;
  options.model = *model;
  options.mutant = *mutant;
  options.timeout_seconds = args.timeout;
  auto result = model::RunBmc(options);
  if (!result.ok()) {
    std::fprintf(stderr, "tearproof bmc: %s\n", result.status().ToString().c_str());
    return kExitUsage;
  }
  if (args.json) {
    std::printf("%s\n", model::BmcResultToJson(*result).c_str());
  } else {
    std::printf("bmc lanes %d lbas %d nfree %d ops %d model %s mutant %s: %s\n", args.lanes,
                args.lbas, args.nfree == 0 ? args.lanes : args.nfree, args.ops,
                args.model.c_str(), args.mutant.c_str(), model::VerdictName(result->verdict));
    std::printf("z3 %.2fs (encode %.2fs), %llu assertions, %llu variables, %llu formula nodes\n",
                result->solve_seconds, result->encode_seconds,
                static_cast<unsigned long long>(result->assertions),
                static_cast<unsigned long long>(result->variables),
                static_cast<unsigned long long>(result->formula_nodes));
    if (result->counterexample) {
      std::printf("counterexample:\n%s\n",
                  model::CounterexampleToJson(*result->counterexample).c_str());
    }
  }
  switch (result->verdict) {
    case model::Verdict::kUnsat: return 0;
    case model::Verdict::kSat: return kExitViolation;
    case model::Verdict::kUnknown: return kExitUsage;
  }
  return kExitUsage;
}

int Main(int argc, char** argv) {
  CLI::App app{"tearproof: proves that a persistent-memory sector layer never tears a sector"};
  app.require_subcommand(1);

  ProveOptions prove;
  auto* prove_cmd = app.add_subcommand("prove", "run the proof-of-atomicity campaign");
  prove_cmd->add_option("--seed", prove.seed, "campaign seed");
  prove_cmd->add_flag("--quiet", prove.quiet, "no progress display");
  prove_cmd->add_flag("--json", prove.json, "print the result as JSON");
  prove_cmd->add_option("--budget", prove.budget, "scale the campaign (1 = default)")
      ->check(CLI::Range(0.01, 100.0));
  prove_cmd->add_option("--out", prove.out_dir, "report directory (index.html, report.json, "
                        "report.md)");
  prove_cmd->add_option("--config", prove.config_path, "JSON campaign config (docs/report.md)");
  prove_cmd->add_option("--phases", prove.phases,
                        "comma-separated subset: medium,explore,deep,control,bmc,mutants,interop");

  ExploreArgs explore;
  auto* explore_cmd =
      app.add_subcommand("explore", "crash-explore the BTT core on the simulated medium");
  explore_cmd->add_option("--profile", explore.profile)
      ->check(CLI::IsMember({"linux", "uefi", "pmemblk"}));
  explore_cmd->add_option("--lbasize", explore.lbasize, "external sector size");
  explore_cmd->add_option("--nfree", explore.nfree, "free blocks / lanes")
      ->check(CLI::Range(1, 256));
  explore_cmd->add_option("--model", explore.model)->check(CLI::IsMember({"px86", "word8", "eadr"}));
  explore_cmd->add_option("--ops", explore.ops, "workload, e.g. \"w0 w1 z0\"");
  explore_cmd->add_option("--max-states", explore.max_states, "resolutions per crash point")
      ->check(CLI::Range(1, 1 << 30));
  explore_cmd->add_option("--fault", explore.fault, "inject a platform fault")
      ->check(CLI::IsMember({"none", "lost-flushes"}));
  explore_cmd->add_flag("--matrix", explore.matrix, "run the standard matrix (docs/explorer.md)");
  explore_cmd->add_option("--shard", explore.shard, "with --matrix: run shard i of N (i/N)");

  BmcArgs bmc;
  auto* bmc_cmd = app.add_subcommand("bmc", "Z3 bounded model check of the BTT protocol");
  bmc_cmd->add_option("--lanes", bmc.lanes)->check(CLI::Range(1, 8));
  bmc_cmd->add_option("--lbas", bmc.lbas)->check(CLI::Range(1, 16));
  bmc_cmd->add_option("--nfree", bmc.nfree, "0 = lanes")->check(CLI::Range(0, 8));
  bmc_cmd->add_option("--ops", bmc.ops, "operations per lane")->check(CLI::Range(1, 8));
  bmc_cmd->add_option("--model", bmc.model)->check(CLI::IsMember({"px86", "word8", "eadr"}));
  bmc_cmd->add_option("--mutant", bmc.mutant, "protocol mutant (none = the real protocol)");
  bmc_cmd->add_option("--timeout", bmc.timeout, "seconds")->check(CLI::Range(0.0, 86400.0));
  bmc_cmd->add_flag("--json", bmc.json);
  bmc_cmd->add_flag("--deepen", bmc.deepen, "raise bounds until --budget seconds");
  bmc_cmd->add_option("--budget", bmc.budget, "seconds for --deepen")
      ->check(CLI::Range(1.0, 86400.0));

  const auto run_image_command = AddImageCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  if (*prove_cmd) {
    prove.command_line = ShellQuotedCommand(argc, argv);  // recorded in the report
    return RunProve(prove);
  }
  if (*explore_cmd) return RunExplore(explore);
  if (*bmc_cmd) return RunBmcCommand(bmc);
  const int code = run_image_command();
  return code >= 0 ? code : kExitUsage;
}

}  // namespace
}  // namespace tearproof::tools

int main(int argc, char** argv) { return tearproof::tools::Main(argc, argv); }
