// tearproof-mutants — the test-only sibling of `tearproof`, built over the mutant build of the BTT
// core (btt/mutant.h, harness/mutant_kills.h). Never installed; the production binary contains no
// mutant and re-executes this one to replay a trace recorded on a mutant.
//
//   tearproof-mutants explore --mutant NAME ...        explore as `tearproof explore`, on a mutant
//   tearproof-mutants replay TRACE [--minimize] ...    replay a trace on the mutant it names
//   tearproof-mutants hunt (--all | --mutant NAME) --out DIR
//       hunt each mutant over the kill sub-matrix; for every kill write the minimized trace to
//       DIR/<mutant>.jsonl (this is how traces/mutants/ is made: docs/traces.md)
//
// Exit status: 0 success / no violation; 1 a violation (replay, explore) or a mutant not killed
// (hunt); 2 usage error.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "harness/mutant_kills.h"
#include "tools/cli_common.h"
#include "tools/explore_command.h"
#include "traces/minimize.h"
#include "traces/replay.h"
#include "traces/trace.h"

namespace tearproof::tools {
namespace {

struct HuntArgs {
  bool all = false;
  std::vector<std::string> mutants;
  std::string out;
};

int RunHunt(const HuntArgs& args) {
  std::vector<btt::Mutant> mutants;
  if (args.all) mutants = btt::AllMutants();
  for (const std::string& name : args.mutants) {
    const auto m = btt::ParseMutant(name);
    if (!m || *m == btt::Mutant::kNone) {
      std::fprintf(stderr, "tearproof-mutants hunt: unknown mutant '%s'\n", name.c_str());
      return kExitUsage;
    }
    mutants.push_back(*m);
  }
  if (mutants.empty()) {
    std::fprintf(stderr, "tearproof-mutants hunt: name --all or --mutant NAME\n");
    return kExitUsage;
  }
  int status = 0;
  for (btt::Mutant m : mutants) {
    const std::string name(btt::MutantName(m));
    auto kill = harness::HuntMutant(m);
    if (!kill.ok()) {
      std::fprintf(stderr, "tearproof-mutants hunt: %s: %s\n", name.c_str(),
                   kill.status().ToString().c_str());
      return kExitUsage;
    }
    if (!kill->killed) {
      std::printf("%-27s SURVIVES (%llu explorations)\n", name.c_str(),
                  static_cast<unsigned long long>(kill->explorations));
      status = kExitViolation;
      continue;
    }
    const traces::Trace found = traces::TraceFromViolation(kill->config, kill->violation);
    traces::MinimizeStats stats;
    auto minimized = traces::Minimize(found, {}, &stats);
    if (!minimized.ok()) {
      std::fprintf(stderr, "tearproof-mutants hunt: %s: %s\n", name.c_str(),
                   minimized.status().ToString().c_str());
      return kExitUsage;
    }
    const std::string path = args.out + "/" + name + ".jsonl";
    const Status written = traces::WriteTraceFile(path, *minimized);
    if (!written.ok()) {
      std::fprintf(stderr, "tearproof-mutants hunt: %s\n", written.ToString().c_str());
      return kExitUsage;
    }
    std::printf("%-27s killed by %s; minimized in %llu runs (%zu steps) -> %s\n", name.c_str(),
                minimized->expect.check.c_str(), static_cast<unsigned long long>(stats.candidates),
                stats.steps.size(), path.c_str());
  }
  return status;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "tearproof-mutants: the explorer and replay over seeded BTT core mutants "
      "(test-only)"};
  app.require_subcommand(1);
  const auto run_explore = AddExploreCommand(app);
  const auto run_replay = AddReplayCommand(app, argc, argv);
  HuntArgs hunt;
  auto* hunt_cmd = app.add_subcommand("hunt", "hunt mutants and store their minimized traces");
  hunt_cmd->add_flag("--all", hunt.all, "every mutant of btt/mutant.h");
  hunt_cmd->add_option("--mutant", hunt.mutants, "one mutant (repeatable)");
  hunt_cmd->add_option("--out", hunt.out, "directory for <mutant>.jsonl")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  if (*hunt_cmd) return RunHunt(hunt);
  for (const auto& run : {run_explore, run_replay}) {
    const int code = run();
    if (code >= 0) return code;
  }
  return kExitUsage;
}

}  // namespace
}  // namespace tearproof::tools

int main(int argc, char** argv) { return tearproof::tools::Main(argc, argv); }
