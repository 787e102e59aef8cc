// `tearproof explore` and `tearproof replay`: crash exploration of a sector device on the
// simulated medium, and the replay (and minimization) of the traces it writes.
//
//   tearproof explore                      the standard matrix (docs/explorer.md); exit 0 = clean
//   tearproof explore --matrix --shard i/N one deterministic shard of it
//   tearproof explore --matrix --part P    only part P (sequential, concurrent, format)
//   tearproof explore --ops "w0 w1" [--device plain-pmem] [--fault lost-flushes] [--track-lbas N]
//   tearproof replay TRACE [--minimize [-o OUT]] [--mutant NAME]
//
// Every violation explore finds is written as a trace (docs/traces.md) to --trace-dir, and the
// command that replays it is printed. replay exits 1 when the trace's run shows a violation, 0
// when it passes, 2 on a malformed trace or usage error. A trace recorded on a seeded mutant
// replays only in the test-only sibling binary tearproof-mutants (tools/mutants_main.cc, the same
// sources over the mutant build): the production binary re-executes it when it lies next to it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "harness/explorer.h"

namespace tearproof::tools {

// The `tearproof explore` command line (`tearproof-mutants explore` for a mutant) that explores
// `config` again on its own: device, geometry, model, workload, lanes, schedule or preemption
// bound, crash-in-format, max-states, fault, track-lbas and mutant. Options the CLI does not
// take (an after_setup hook, reductions, a shared memo, a pinned medium size) are not part of it.
std::string ExploreCommand(const harness::ExploreConfig& config);

// Add the subcommand to `app`; the returned function runs it if it was parsed and returns the
// exit status, or -1 when it was not. In a build with mutants, both take --mutant.
std::function<int()> AddExploreCommand(CLI::App& app);
std::function<int()> AddReplayCommand(CLI::App& app, int argc, char** argv);

}  // namespace tearproof::tools
