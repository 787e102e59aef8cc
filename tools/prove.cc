#include "tools/prove.h"

#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/explorer.h"
#include "harness/matrix.h"
#include "model/bmc.h"
#include "sim/self_check.h"

namespace tearproof::tools {
namespace {

using Clock = std::chrono::steady_clock;  // for the progress display and timings only

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Phase {
  std::string name;
  bool ok = false;
  double seconds = 0;
  std::vector<std::string> lines;
  nlohmann::json json = nlohmann::json::object();
};

Phase MediumPhase(const ProveOptions& options) {
  Phase phase;
  phase.name = "medium";
  const auto start = Clock::now();
  sim::SelfCheckOptions sc;
  sc.seed = options.seed;
  sc.programs = static_cast<uint32_t>(300 * options.budget) + 1;
  const sim::SelfCheckSummary summary = sim::RunSelfCheck(sc);
  phase.ok = summary.ok();
  phase.seconds = SecondsSince(start);
  phase.lines.push_back(summary.ToString());
  phase.json = {{"programs", summary.programs_run},
                {"programs_skipped", summary.programs_skipped},
                {"crash_states_compared",
                 {{"px86", summary.crash_states_compared[0]},
                  {"word8", summary.crash_states_compared[1]},
                  {"eadr", summary.crash_states_compared[2]}}},
                {"mismatches", summary.mismatches},
                {"first_mismatch", summary.first_mismatch}};
  return phase;
}

Phase ExplorePhase(const ProveOptions& options) {
  Phase phase;
  phase.name = "explore";
  const auto start = Clock::now();
  harness::MatrixOptions matrix;
  matrix.max_ops = options.budget >= 2.0 ? 4 : 3;
  auto progress = [&](uint64_t done, uint64_t total) {
    if (options.quiet || done % 20 != 0) return;
    const double elapsed = SecondsSince(start);
    std::fprintf(stderr, "\r[explore] %llu/%llu explorations, %.0fs elapsed, ~%.0fs left   ",
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                 elapsed, elapsed / static_cast<double>(done) * static_cast<double>(total - done));
  };
  auto result = harness::RunStandardMatrix(matrix, progress);
  if (!options.quiet) std::fprintf(stderr, "\n");
  phase.seconds = SecondsSince(start);
  if (!result.ok()) {
    phase.lines.push_back("error: " + result.status().ToString());
    phase.json = {{"error", result.status().ToString()}};
    return phase;
  }
  phase.ok = result->ok();
  const harness::ExploreStats& t = result->total;
  phase.lines.push_back(fmt::format(
      "held on {} workloads x configurations: {} crash points, {} crash states judged "
      "(+{} crashes inside recovery), {} violations, {} incomplete points",
      result->workloads, t.crash_points, t.states_checked, t.recovery_crash_states,
      result->violations, t.incomplete_points));
  phase.lines.push_back(fmt::format(
      "matrix: profiles linux/uefi/pmemblk x sectors 512/4096 x models px86/word8/eadr x nfree "
      "1/2 x every workload of 1..{} ops over 2 LBAs (write/zero), one op at a time",
      matrix.max_ops));
  phase.lines.push_back(fmt::format(
      "reductions: fence dominance checked {} crash points for {} medium events; lazy "
      "branching judged {} states where eager enumeration of the same points has {}",
      t.crash_points, t.events, t.states_checked,
      t.eager_states == UINT64_MAX ? std::string("more than 2^64")
                                   : std::to_string(t.eager_states)));
  nlohmann::json cells = nlohmann::json::array();
  for (const harness::MatrixCell& cell : result->cells) {
    nlohmann::json violations = nlohmann::json::array();
    for (size_t i = 0; i < cell.violations.size(); ++i) {
      const harness::Violation& v = cell.violations[i];
      violations.push_back({{"check", v.check},
                            {"workload", cell.violation_workloads[i]},
                            {"crash_point", v.crash_point},
                            {"detail", v.detail}});
      phase.lines.push_back(fmt::format(
          "VIOLATION {} [{} {} {} nfree {} workload '{}' crash point {}]: {}", v.check,
          btt::ProfileName(cell.profile), cell.sector_size,
          sim::PersistencyModelName(cell.model), cell.nfree, cell.violation_workloads[i],
          v.crash_point, v.detail));
    }
    cells.push_back({{"profile", btt::ProfileName(cell.profile)},
                     {"sector_size", cell.sector_size},
                     {"model", sim::PersistencyModelName(cell.model)},
                     {"nfree", cell.nfree},
                     {"workloads", cell.workloads},
                     {"crash_points", cell.stats.crash_points},
                     {"states_checked", cell.stats.states_checked},
                     {"recovery_crash_states", cell.stats.recovery_crash_states},
                     {"eager_states", cell.stats.eager_states},
                     {"incomplete_points", cell.stats.incomplete_points},
                     {"violations", violations}});
  }
  phase.json = {{"workloads", result->workloads},
                {"crash_points", t.crash_points},
                {"states_checked", t.states_checked},
                {"violations", result->violations},
                {"cells", cells}};
  return phase;
}

Phase ControlPhase() {
  Phase phase;
  phase.name = "control";
  const auto start = Clock::now();
  phase.ok = true;
  nlohmann::json rows = nlohmann::json::array();
  for (sim::PersistencyModel model :
       {sim::PersistencyModel::kPx86, sim::PersistencyModel::kWord8}) {
    harness::ExploreConfig config;
    config.model = model;
    config.workload_flush = harness::FlushKind::kNone;
    config.max_states_per_point = 64;
    config.check_layout = false;
    config.crash_in_recovery = false;
    config.ops = {{harness::WorkloadOp::Kind::kWrite, 0}, {harness::WorkloadOp::Kind::kWrite, 0}};
    auto result = harness::Explore(config);
    const bool caught = result.ok() && !result->violations.empty();
    phase.ok = phase.ok && caught;
    std::string first = caught ? result->violations.front().check + ": " +
                                     result->violations.front().detail
                               : std::string("NOT CAUGHT");
    phase.lines.push_back(fmt::format("lost flushes under {}: {}",
                                      sim::PersistencyModelName(model), first));
    rows.push_back({{"model", sim::PersistencyModelName(model)}, {"caught", caught},
                    {"first", first}});
  }
  phase.seconds = SecondsSince(start);
  phase.json = {{"lost_flushes", rows}};
  return phase;
}

Phase BmcPhase(const ProveOptions& options) {
  Phase phase;
  phase.name = "bmc";
  const auto start = Clock::now();
  phase.ok = true;
  nlohmann::json proofs = nlohmann::json::array();
  nlohmann::json kills = nlohmann::json::array();
  // Proofs: every model at 2 lanes x 2 ops x 2 LBAs, and word8 (the weakest model, so the
  // strongest claim) at 2 lanes x 3 ops x 3 LBAs.
  struct ProofBound {
    model::PersistencyModel model;
    model::Bound bound;
  };
  const ProofBound proof_bounds[] = {
      {model::PersistencyModel::kPx86, {2, 2, 2}},
      {model::PersistencyModel::kEadr, {2, 2, 2}},
      {model::PersistencyModel::kWord8, {2, 2, 2}},
      {model::PersistencyModel::kWord8, {2, 3, 3}},
  };
  for (const ProofBound& pb : proof_bounds) {
    model::BmcOptions bmc;
    bmc.lanes = pb.bound.lanes;
    bmc.lbas = pb.bound.lbas;
    bmc.ops_per_lane = pb.bound.ops_per_lane;
    bmc.model = pb.model;
    bmc.timeout_seconds = 300 * options.budget;
    if (!options.quiet && !options.json) {
      std::fprintf(stderr, "[bmc] %s, %d lanes x %d ops x %d LBAs...\n",
                   model::PersistencyModelName(pb.model), bmc.lanes, bmc.ops_per_lane, bmc.lbas);
    }
    auto r = model::RunBmc(bmc);
    const bool proved = r.ok() && r->verdict == model::Verdict::kUnsat;
    phase.ok = phase.ok && proved;
    std::string verdict = r.ok() ? model::VerdictName(r->verdict) : r.status().ToString();
    phase.lines.push_back(fmt::format(
        "protocol, {}: {} for {} lanes x {} ops x {} LBAs x nfree {} ({:.1f}s, {} formula "
        "nodes){}",
        model::PersistencyModelName(pb.model), verdict, bmc.lanes, bmc.ops_per_lane, bmc.lbas,
        bmc.lanes, r.ok() ? r->solve_seconds : 0.0, r.ok() ? r->formula_nodes : 0,
        proved ? ": proved to this bound" : ""));
    proofs.push_back({{"model", model::PersistencyModelName(pb.model)}, {"verdict", verdict},
                      {"lanes", bmc.lanes}, {"lbas", bmc.lbas},
                      {"ops_per_lane", bmc.ops_per_lane},
                      {"solve_seconds", r.ok() ? r->solve_seconds : 0.0}});
  }
  uint32_t killed = 0;
  const auto mutants = model::AllMutants();
  // Each mutant is tried on a short ladder of small bounds; the first SAT kills it.
  const model::Bound kill_ladder[] = {{1, 1, 1}, {2, 1, 1}, {2, 2, 1}, {1, 2, 2}};
  for (model::Mutant mutant : mutants) {
    bool sat = false;
    std::string property;
    std::string bound;
    for (const model::Bound& b : kill_ladder) {
      model::BmcOptions bmc;
      bmc.lanes = b.lanes;
      bmc.lbas = b.lbas;
      bmc.ops_per_lane = b.ops_per_lane;
      bmc.model = model::PersistencyModel::kWord8;
      bmc.mutant = mutant;
      bmc.timeout_seconds = 120 * options.budget;
      auto r = model::RunBmc(bmc);
      if (!r.ok() || r->verdict != model::Verdict::kSat) continue;
      sat = true;
      bound = fmt::format("{} lanes x {} ops x {} LBAs", b.lanes, b.ops_per_lane, b.lbas);
      if (r->counterexample && !r->counterexample->violations.empty()) {
        property = r->counterexample->violations.front().property;
      }
      break;
    }
    killed += sat;
    kills.push_back({{"mutant", model::MutantName(mutant)}, {"killed", sat},
                     {"property", property}, {"bound", bound}});
    phase.lines.push_back(fmt::format("mutant {}: {}", model::MutantName(mutant),
                                      sat ? "killed (" + property + ", " + bound + ")"
                                          : std::string("NOT KILLED")));
  }
  phase.ok = phase.ok && killed == mutants.size();
  phase.lines.push_back(fmt::format("protocol mutants killed (SAT under word8): {}/{}", killed,
                                    mutants.size()));
  phase.seconds = SecondsSince(start);
  phase.json = {{"proofs", proofs}, {"mutants", kills}};
  return phase;
}

}  // namespace

int RunProve(const ProveOptions& options) {
  std::vector<Phase> phases;
  auto announce = [&](const char* name) {
    if (!options.quiet && !options.json) std::fprintf(stderr, "[%s] running...\n", name);
  };
  announce("medium");
  phases.push_back(MediumPhase(options));
  announce("explore");
  phases.push_back(ExplorePhase(options));
  announce("control");
  phases.push_back(ControlPhase());
  announce("bmc");
  phases.push_back(BmcPhase(options));

  bool all_ok = true;
  for (const Phase& p : phases) all_ok = all_ok && p.ok;
  if (options.json) {
    nlohmann::json out = {{"tearproof_prove_version", 1}, {"seed", options.seed},
                          {"verdict", all_ok ? "holds" : "violation"}};
    for (const Phase& p : phases) {
      out["phases"][p.name] = p.json;
      out["phases"][p.name]["ok"] = p.ok;
      out["phases"][p.name]["seconds"] = p.seconds;
    }
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("tearproof prove (seed %llu)\n", static_cast<unsigned long long>(options.seed));
    for (const Phase& p : phases) {
      std::printf("\n== %s: %s (%.1fs)\n", p.name.c_str(), p.ok ? "ok" : "FAILED", p.seconds);
      for (const std::string& line : p.lines) std::printf("  %s\n", line.c_str());
    }
    std::printf("\nverdict: %s\n", all_ok ? "all evidence holds" : "VIOLATION (see above)");
  }
  return all_ok ? 0 : 1;
}

}  // namespace tearproof::tools
