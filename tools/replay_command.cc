// `tearproof replay TRACE [--minimize [-o OUT]] [--mutant NAME]` (see explore_command.h).
#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "harness/explorer.h"
#include "tools/cli_common.h"
#include "tools/explore_command.h"
#include "traces/minimize.h"
#include "traces/replay.h"
#include "traces/trace.h"

namespace tearproof::tools {
namespace {

constexpr const char* kMutantsBinary = "tearproof-mutants";

struct ReplayArgs {
  std::string trace;
  bool minimize = false;
  std::string out;
  std::string mutant;  // empty: the one the trace names
  bool quiet = false;
};

// The production binary has no mutants: a trace recorded on one is replayed by the test-only
// sibling binary, with the same arguments. Returns only when that binary cannot be run.
int ReexecMutantsBinary(const std::string& mutant, int argc, char** argv) {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  const std::filesystem::path sibling = self.parent_path() / kMutantsBinary;
  if (!error && access(sibling.c_str(), X_OK) == 0) {
    std::vector<char*> args(argv, argv + argc);
    std::string program = sibling.string();
    args[0] = program.data();
    args.push_back(nullptr);
    std::fflush(stdout);
    execv(program.c_str(), args.data());
    std::fprintf(stderr, "tearproof replay: cannot run %s: %s\n", program.c_str(),
                 std::strerror(errno));
    return kExitUsage;
  }
  std::fprintf(stderr,
               "tearproof replay: the trace was recorded on the seeded mutant '%s', which this "
               "production binary does not contain; replay it with the test-only binary %s "
               "(cmake --build BUILD --target tearproof_mutants), which was not found next to "
               "this one%s, or pass --mutant none to replay it on the real core\n",
               mutant.c_str(), kMutantsBinary,
               error ? "" : (" (" + self.parent_path().string() + ")").c_str());
  return kExitUsage;
}

std::string DefaultMinimizedPath(const std::string& trace) {
  const std::string suffix = ".jsonl";
  if (trace.size() > suffix.size() && trace.ends_with(suffix)) {
    return trace.substr(0, trace.size() - suffix.size()) + ".min.jsonl";
  }
  return trace + ".min.jsonl";
}

int RunReplay(const ReplayArgs& args, int argc, char** argv) {
  auto trace = traces::ReadTraceFile(args.trace);
  if (!trace.ok()) {
    std::fprintf(stderr, "tearproof replay: %s\n", trace.status().message().c_str());
    return kExitUsage;
  }
  if (!args.mutant.empty()) trace->mutant = args.mutant;
  if (trace->mutant != "none" && !harness::MutantsCompiledIn()) {
    return ReexecMutantsBinary(trace->mutant, argc, argv);
  }
  if (args.minimize) {
    traces::MinimizeStats stats;
    auto minimized = traces::Minimize(*trace, {}, &stats);
    if (!minimized.ok()) {
      std::fprintf(stderr, "tearproof replay --minimize: %s\n",
                   minimized.status().message().c_str());
      return kExitUsage;
    }
    const std::string out = args.out.empty() ? DefaultMinimizedPath(args.trace) : args.out;
    const Status written = traces::WriteTraceFile(out, *minimized);
    if (!written.ok()) {
      std::fprintf(stderr, "tearproof replay --minimize: %s\n", written.message().c_str());
      return kExitUsage;
    }
    std::printf("minimized in %llu candidate runs:\n",
                static_cast<unsigned long long>(stats.candidates));
    for (const std::string& step : stats.steps) std::printf("  %s\n", step.c_str());
    std::printf("minimized trace: %s\n", out.c_str());
    *trace = std::move(*minimized);
  }
  auto result = traces::Replay(*trace);
  if (!result.ok()) {
    std::fprintf(stderr, "tearproof replay: %s: %s\n", args.trace.c_str(),
                 result.status().message().c_str());
    return kExitUsage;
  }
  if (!args.quiet) std::printf("%s", traces::FormatTimeline(*trace, *result).c_str());
  return result->violated() ? kExitViolation : 0;
}

}  // namespace

std::function<int()> AddReplayCommand(CLI::App& app, int argc, char** argv) {
  auto args = std::make_shared<ReplayArgs>();
  auto* cmd = app.add_subcommand(
      "replay", "re-run a trace (docs/traces.md): exit 1 if it shows a violation, 0 if it passes");
  cmd->add_option("TRACE", args->trace, "trace file (JSON lines)")->required();
  cmd->add_flag("--minimize", args->minimize,
                "shrink the failing trace while the same check still fails, then replay it");
  cmd->add_option("-o,--out", args->out,
                  "with --minimize: where to write (default TRACE.min.jsonl)");
  cmd->add_option("--mutant", args->mutant,
                  "replay on this mutant instead of the trace's (none = the real core)");
  cmd->add_flag("--quiet", args->quiet, "no timeline, only the exit status");
  return [cmd, args, argc, argv]() { return *cmd ? RunReplay(*args, argc, argv) : -1; };
}

}  // namespace tearproof::tools
