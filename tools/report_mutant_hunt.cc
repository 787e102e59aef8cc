// tearproof-kill-matrix — the crash explorer's column of the report's mutant kill matrix.
//
// The production `tearproof` binary never contains mutant logic (docs/mutants.md): the seeded
// mutants of the BTT core exist only in tearproof_harness_mutants. `tearproof prove` therefore
// runs this sibling binary (built next to it, never installed) and reads the JSON it prints:
//
//   tearproof-kill-matrix --list                        the mutant names (JSON array)
//   tearproof-kill-matrix [--max-ops N] [--mutant NAME] [--trace-dir DIR] [--property-cases N]
//                         [--concurrent]                hunt one mutant, or all of them
//
// For every mutant (or the one named), harness::HuntMutant searches the kill sub-matrix (linux,
// 512 B, px86 + word8, nfree 1-2, every workload of 1..N ops over 2 LBAs, fresh then aged) and
// stops at the first violation; the unmutated core ("none") runs the whole sub-matrix and must stay
// clean, which shows the hooks are inert when off. With --trace-dir, each kill is stored there as a
// minimized trace (traces/, docs/traces.md) that `tearproof replay` reproduces. With
// --property-cases N, every RapidCheck property family (properties/families.h) also runs N cases
// against the mutant: the properties' column of the report's kill matrix. With --concurrent, the
// concurrent search (harness/concurrent_search.h, interleaved lanes without crashes) runs against
// it too: the concurrency column (a kill is stored as a concurrent trace with --trace-dir).
// Output: one JSON
// document on stdout
// ({"kill_matrix": ..., "result": ...} for one mutant, "results" for all; docs/report.md). Exit 0
// when the hunt ran (kills and survivors alike), 2 on a usage error. Deterministic: the hunt order
// is fixed and no time is measured.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "btt/mutant.h"
#include "harness/concurrent_search.h"
#include "harness/mutant_kills.h"
#include "properties/families.h"
#include "tools/report_traces.h"

namespace tearproof::tools {
namespace {

nlohmann::json HuntToJson(btt::Mutant mutant, const harness::KillResult& r) {
  return {{"mutant", std::string(btt::MutantName(mutant))},
          {"killed", r.killed},
          {"check", r.killed ? nlohmann::json(r.check) : nlohmann::json(nullptr)},
          {"workload", r.killed ? nlohmann::json(r.workload) : nlohmann::json(nullptr)},
          {"aged", r.aged},
          {"model",
           r.killed ? nlohmann::json(sim::PersistencyModelName(r.model)) : nlohmann::json(nullptr)},
          {"nfree", r.nfree},
          {"crash_point", r.crash_point},
          {"op_in_flight", r.op_in_flight},
          {"detail", r.detail},
          {"explorations", r.explorations},
          {"workload_errors", r.workload_errors},
          {"violations", r.violations},
          {"incomplete_points", r.incomplete_points}};
}

// The first line of RapidCheck's failure message: the check that fired (its description is
// "file:line:\nRC_FAIL(...)\n\n<message>").
std::string FailureMessage(const std::string& description) {
  const size_t blank = description.find("\n\n");
  std::string message = blank == std::string::npos ? description : description.substr(blank + 2);
  return message.substr(0, message.find('\n'));
}

// Every RapidCheck property family (properties/families.h) against `mutant`, `cases` cases each,
// with the fixed seed of the properties' kill matrix and no shrinking: the first failing case is
// the kill, so the result is deterministic.
nlohmann::json PropertyKills(btt::Mutant mutant, uint32_t cases) {
  rc::detail::TestParams params;
  params.seed = properties::kDefaultSeed;
  params.maxSuccess = static_cast<int>(cases);
  params.maxSize = properties::kMaxSize;
  params.disableShrinking = true;
  nlohmann::json rows = nlohmann::json::array();
  for (const properties::Family& family : properties::AllFamilies()) {
    btt::SetMutant(mutant);
    const rc::detail::TestResult result = properties::RunFamily(family, params, /*quiet=*/true);
    btt::SetMutant(btt::Mutant::kNone);
    rc::detail::FailureResult failure;
    rc::detail::GaveUpResult gave_up;
    const bool killed = result.match(failure);
    rows.push_back({{"family", family.name},
                    {"killed", killed},
                    {"gave_up", result.match(gave_up)},
                    {"detail", killed ? FailureMessage(failure.description) : ""}});
  }
  return rows;
}

// The concurrent search (harness/concurrent_search.h) against `mutant`: the concurrency family of
// the kill matrix. Bound 1 exhaustive, then 16 PCT and 16 random seeds per standard workload; a
// mutant stops at its first ORACLE violation, the unmutated core ("none") runs the whole search.
// With `trace_dir`, a kill is stored there as a minimized concurrent trace ("trace": its path).
Result<nlohmann::json> ConcurrentKill(btt::Mutant mutant, const std::string& trace_dir) {
  harness::ConcurrentSearchOptions options;
  options.preemption_bound = 1;
  options.pct_seeds = 16;
  options.random_seeds = 16;
  options.mutant = mutant;
  options.stop_at_first_violation = mutant != btt::Mutant::kNone;
  TP_ASSIGN_OR_RETURN(harness::ConcurrentSearchResult r,
                      harness::SearchConcurrent(harness::StandardConcurrentWorkloads(), options));
  const bool killed = !r.first_violation.empty();
  nlohmann::json trace = nullptr;
  if (killed && !trace_dir.empty()) {
    TP_ASSIGN_OR_RETURN(
        RecordedTrace recorded,
        RecordConcurrentTrace(r, harness::StandardConcurrentWorkloads(), mutant, trace_dir, 4000));
    trace = recorded.path;
  }
  return nlohmann::json{
      {"trace", trace},
      {"killed", killed},
      {"check", killed ? nlohmann::json(r.violation_check) : nlohmann::json(nullptr)},
      {"workload", killed ? nlohmann::json(r.violation_workload) : nlohmann::json(nullptr)},
      {"strategy", killed ? nlohmann::json(r.violation_strategy) : nlohmann::json(nullptr)},
      {"schedule", killed ? nlohmann::json(r.violation_schedule) : nlohmann::json(nullptr)},
      {"detail", r.first_violation},
      {"runs", r.exhaustive.runs + r.sampled.runs},
      {"errors", r.exhaustive.errors + r.sampled.errors},
      {"first_error", r.first_error}};
}

int Main(int argc, char** argv) {
  CLI::App app{"tearproof-kill-matrix: hunt the seeded BTT core mutants with the crash explorer"};
  uint32_t max_ops = 3;
  std::string only;
  std::string trace_dir;
  uint32_t property_cases = 0;
  bool list = false;
  bool concurrent = false;
  app.add_flag("--concurrent", concurrent,
               "also run the concurrent search (interleaved lanes, no crash) against the mutant");
  app.add_option("--max-ops", max_ops, "longest workload of the kill sub-matrix")
      ->check(CLI::Range(1, 4));
  app.add_option("--mutant", only, "hunt only this mutant (none: the unmutated core)");
  app.add_flag("--list", list, "print the mutant names as a JSON array");
  app.add_option("--trace-dir", trace_dir, "store each kill as a minimized trace here");
  app.add_option("--property-cases", property_cases,
                 "also run every RapidCheck property family with this many cases (0: none)")
      ->check(CLI::Range(0, 100000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (list) {
    nlohmann::json names = nlohmann::json::array();
    for (btt::Mutant m : btt::AllMutants()) names.push_back(std::string(btt::MutantName(m)));
    std::printf("%s\n", names.dump().c_str());
    return 0;
  }
  std::vector<btt::Mutant> mutants = btt::AllMutants();
  mutants.push_back(btt::Mutant::kNone);
  if (!only.empty()) {
    const auto parsed = btt::ParseMutant(only);
    if (!parsed) {
      std::fprintf(stderr, "tearproof-kill-matrix: unknown mutant '%s'\n", only.c_str());
      return 2;
    }
    mutants = {*parsed};
  }
  harness::KillMatrix matrix;
  matrix.max_ops = max_ops;
  nlohmann::json rows = nlohmann::json::array();
  for (btt::Mutant mutant : mutants) {
    harness::KillMatrix m = matrix;
    // The unmutated core runs the whole sub-matrix: any violation there is a harness or core
    // bug, and would make every kill meaningless.
    m.stop_at_first_kill = mutant != btt::Mutant::kNone;
    auto r = harness::HuntMutant(mutant, m);
    if (!r.ok()) {
      std::fprintf(stderr, "tearproof-kill-matrix: %s: %s\n",
                   std::string(btt::MutantName(mutant)).c_str(), r.status().ToString().c_str());
      return 2;
    }
    nlohmann::json row = HuntToJson(mutant, *r);
    row["trace"] = nullptr;
    if (r->killed && !trace_dir.empty()) {
      auto recorded = RecordViolationTrace(r->config, r->violation, trace_dir, 4000);
      if (!recorded.ok()) {
        std::fprintf(stderr, "tearproof-kill-matrix: %s: trace: %s\n",
                     std::string(btt::MutantName(mutant)).c_str(),
                     recorded.status().ToString().c_str());
        return 2;
      }
      row["trace"] = recorded->path;
    }
    if (property_cases > 0) row["properties"] = PropertyKills(mutant, property_cases);
    if (concurrent) {
      auto c = ConcurrentKill(mutant, trace_dir);
      if (!c.ok()) {
        std::fprintf(stderr, "tearproof-kill-matrix: %s: concurrent search: %s\n",
                     std::string(btt::MutantName(mutant)).c_str(), c.status().ToString().c_str());
        return 2;
      }
      row["concurrency"] = *c;
    }
    rows.push_back(row);
  }
  nlohmann::json out = {{"kill_matrix",
                         {{"profile", "linux"},
                          {"sector_size", matrix.sector_size},
                          {"models", {"px86", "word8"}},
                          {"nfree", matrix.nfrees},
                          {"lbas", matrix.lbas},
                          {"max_ops", matrix.max_ops}}}};
  if (only.empty()) {
    out["results"] = rows;
  } else {
    out["result"] = rows.front();
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace
}  // namespace tearproof::tools

int main(int argc, char** argv) { return tearproof::tools::Main(argc, argv); }
