// The `explore` phase of `tearproof prove` (docs/report.md): harness::RunStandardMatrix over the
// campaign's matrix, one cell at a time (each with its own time), every configured part
// (sequential, concurrent, format), reported per part and cell. The phase is a verifier: it fails
// when the core violates the oracle anywhere in the bound or when a crash point is incomplete
// (report_explore_test runs it on the mutant build and pins which part catches which bug).
// Deterministic; the progress callback sees explorations done and the cell running.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/explorer.h"
#include "harness/matrix.h"
#include "sim/event.h"

namespace tearproof::tools {

struct ExploreSetup {
  // The cells and every part's bounds; `parts` may hold any of the three.
  harness::MatrixOptions matrix;
  // The models whose cells also run the format part (word8 crashes inside format judge
  // 2^16..2^18 states per point); a cell in another model runs only the other parts.
  std::vector<sim::PersistencyModel> format_models;
};

// One violation the phase found: what it broke and the exploration that reproduces it alone.
struct ExploreViolation {
  std::string configuration;  // "concurrent linux 512 B px86 nfree 1"
  std::string workload;       // harness::MatrixWorkloadName
  harness::ExploreConfig config;
  harness::Violation violation;
};

struct ExploreOutcome {
  std::string status = "passed";  // passed | failed | error
  std::string reason;
  std::vector<std::string> lines;
  // {"bound", "configurations", "parts", "totals"} (docs/report.schema.json)
  nlohmann::json section;
  std::vector<ExploreViolation> violations;  // the first few of each part and cell
};

// The explorations RunExplorePhase will run (for the progress display).
uint64_t ExplorePlanned(const ExploreSetup& setup);
ExploreOutcome RunExplorePhase(
    const ExploreSetup& setup,
    const std::function<void(uint64_t done, const std::string& cell)>& progress = nullptr);

// The statistics of one configuration, with what each reduction saved (docs/report.md); the
// deep phase reports the same object.
nlohmann::json StatsJson(const harness::ExploreStats& s);

}  // namespace tearproof::tools
