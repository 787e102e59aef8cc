// tearproof — the command-line tool.
//
//   tearproof prove    the proof-of-atomicity campaign (the main job; `make prove`)
//   tearproof explore  crash exploration of the BTT core on the simulated medium
//   tearproof replay   replay (and minimize) a trace that explore wrote
//   tearproof bmc      Z3 bounded model check of the BTT protocol
//   tearproof format | info | check | read | write | zero IMAGE ...   the BTT core on a file
//
// Exit status: 0 the evidence holds, 1 a violation was found, 2 usage or environment error.
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "harness/explorer.h"
#include "harness/matrix.h"
#include "model/bmc.h"
#include "model/trace_export.h"
#include "tools/cli_common.h"
#include "tools/explore_command.h"
#include "tools/image_commands.h"
#include "tools/prove.h"
#include "tools/report_process.h"

namespace tearproof::tools {
namespace {

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
  std::string trace_out;  // on SAT, write the counterexample as a trace here
};

// `tearproof bmc --mutant M --trace-out DIR` for a model mutant whose counterpart is a core
// mutant: the production binary holds no mutant, so the test-only sibling tearproof-bmc-mutants
// (model/bmc_main.cc over the mutant build) solves and converts. Its exit statuses are the
// driver's (0 UNSAT, 1 SAT, 2 UNKNOWN, 3 usage); 3 becomes this CLI's usage status.
int RunBmcMutantsSibling(const BmcArgs& args) {
  constexpr const char* kSibling = "tearproof-bmc-mutants";
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  const std::string program = (self.parent_path() / kSibling).string();
  if (error || access(program.c_str(), X_OK) != 0) {
    std::fprintf(stderr,
                 "tearproof bmc: the counterpart of '%s' is a seeded core mutant, which this "
                 "production binary does not contain; --trace-out needs the test-only %s next "
                 "to it (cmake --build BUILD --target tearproof_bmc_mutants)\n",
                 args.mutant.c_str(), kSibling);
    return kExitUsage;
  }
  std::vector<std::string> words = {program, "--model", args.model, "--mutant", args.mutant,
                                    "--trace-out", args.trace_out};
  for (const auto& [flag, value] : {std::pair{"--lanes", args.lanes}, {"--lbas", args.lbas},
                                    {"--nfree", args.nfree}, {"--ops", args.ops}}) {
    words.insert(words.end(), {flag, std::to_string(value)});
  }
  words.insert(words.end(), {"--timeout", fmt::format("{}", args.timeout)});
  if (args.json) words.push_back("--json");
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  pid_t pid = 0;
  if (posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    std::fprintf(stderr, "tearproof bmc: cannot run %s\n", program.c_str());
    return kExitUsage;
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return kExitUsage;
  const int code = WEXITSTATUS(status);
  return code == 0 || code == kExitViolation ? code : kExitUsage;
}

int RunBmcCommand(const BmcArgs& args) {
  auto model = model::ParsePersistencyModel(args.model);
  auto mutant = model::ParseMutant(args.mutant);
  if (!model.ok() || !mutant.ok()) {
    std::fprintf(stderr, "tearproof bmc: %s\n",
                 (!model.ok() ? model.status() : mutant.status()).ToString().c_str());
    return kExitUsage;
  }
  if (!args.trace_out.empty() && args.deepen) {
    std::fprintf(stderr, "tearproof bmc: --trace-out needs a single bound (not --deepen)\n");
    return kExitUsage;
  }
  if (!args.trace_out.empty() && model::CounterpartNeedsMutantBuild(*mutant)) {
    return RunBmcMutantsSibling(args);
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
  if (!args.trace_out.empty() && result->verdict == model::Verdict::kSat) {
    auto path = model::WriteBmcTrace(*result, args.trace_out);
    if (!path.ok()) {
      std::fprintf(stderr, "tearproof bmc: trace: %s\n", path.status().ToString().c_str());
      return kExitUsage;
    }
    std::fprintf(args.json ? stderr : stdout, "trace: %s\nreplay: tearproof replay %s\n",
                 path->c_str(), path->c_str());
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

  const auto run_explore = AddExploreCommand(app);
  const auto run_replay = AddReplayCommand(app, argc, argv);

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
  bmc_cmd->add_option("--trace-out", bmc.trace_out,
                      "on SAT, write the counterexample as a tearproof trace into this directory "
                      "and print its replay command");

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
  for (const auto& run : {run_explore, run_replay}) {
    const int code = run();
    if (code >= 0) return code;
  }
  if (*bmc_cmd) return RunBmcCommand(bmc);
  const int code = run_image_command();
  return code >= 0 ? code : kExitUsage;
}

}  // namespace
}  // namespace tearproof::tools

int main(int argc, char** argv) { return tearproof::tools::Main(argc, argv); }
