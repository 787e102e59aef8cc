// The proof-of-atomicity campaign behind `tearproof prove` (and `make prove`).
//
// Phases, each a real run of a tearproof component on the embedded default campaign (a config
// file and --budget change it; docs/report.md lists every knob):
//   1. medium    sim::RunSelfCheck: the simulated medium against its independent reference
//                enumerator in all three persistency models;
//   2. explore   exhaustive crash exploration of the production BTT core over the standard matrix
//                (every crash point, every resolution of what recovery reads): proved to its bound;
//   3. deep      seeded random longer workloads (more LBAs and ops, nfree up to 4), each explored
//                at every crash point: "held on N runs", never a proof;
//   4. control   the same explorer on a platform that loses flushes must find torn sectors;
//   5. bmc       Z3 bounded model checks: the protocol is UNSAT (proved to the bound) in every
//                model, and the coverage witnesses are reachable (the proof is not vacuous);
//   6. mutants   the mutant kill matrix: seeded BTT core mutants against the explorer and the
//                RapidCheck property families (through the sibling binary
//                tearproof-kill-matrix), protocol mutants against Z3;
//   7. interop   PMDK's pmempool and ndctl read what tearproof wrote, where they are installed.
// The result is report.json (docs/report.schema.json), index.html and report.md in --out.
// Deterministic: apart from timings, versions and the host, the same seed, budget and config give
// the same report bit for bit.
#pragma once

#include <cstdint>
#include <string>

namespace tearproof::tools {

struct ProveOptions {
  uint64_t seed = 1;
  bool quiet = false;
  bool json = false;    // print report.json on stdout instead of the text summary
  double budget = 1.0;  // scales the default campaign (see docs/report.md)
  std::string out_dir = "report";
  std::string config_path;   // optional JSON campaign config (docs/report.md)
  std::string phases;        // optional comma-separated subset of the phases
  std::string command_line;  // how the campaign was invoked, recorded in the report
};

// Returns the process exit status: 0 all evidence holds, 1 a violation (or evidence that does not
// hold: a control not caught, a proof not obtained), 2 a usage or environment error.
int RunProve(const ProveOptions& options);

}  // namespace tearproof::tools
