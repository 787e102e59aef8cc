#include "tools/report_explore.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "btt/layout.h"

namespace tearproof::tools {

using json = nlohmann::json;

json StatsJson(const harness::ExploreStats& s) {
  const bool saturated = s.eager_states == UINT64_MAX;
  // Without fence dominance every medium event would be a crash point.
  const uint64_t dominance_saved = s.events > s.crash_points ? s.events - s.crash_points : 0;
  return {
      {"executions", s.executions},
      {"events", s.events},
      {"crash_points", s.crash_points},
      {"crash_points_saved_by_fence_dominance", dominance_saved},
      {"crash_points_repeated", s.crash_points_repeated},
      {"states_checked", s.states_checked},
      {"recovery_crash_states", s.recovery_crash_states},
      {"eager_states", saturated ? json(nullptr) : json(s.eager_states)},
      {"eager_states_saturated", saturated},
      {"states_saved_by_lazy_branching",
       saturated ? json(nullptr)
                 : json(s.eager_states > s.states_checked ? s.eager_states - s.states_checked : 0)},
      {"incomplete_points", s.incomplete_points}};
}

namespace {

using Clock = std::chrono::steady_clock;  // the report's timings only, never results

void Fail(ExploreOutcome& out, const std::string& why) {
  if (out.status != "error") out.status = "failed";
  if (out.reason.empty()) out.reason = why;
}

// The explore matrix of one cell: the configured parts, less the format part in a model outside
// explore.format_models.
harness::MatrixOptions ExploreCell(const ExploreSetup& setup, btt::Profile profile,
                                   uint32_t sector_size, sim::PersistencyModel model,
                                   uint32_t nfree) {
  harness::MatrixOptions one = setup.matrix;
  one.profiles = {profile};
  one.sector_sizes = {sector_size};
  one.models = {model};
  one.nfrees = {nfree};
  const auto& fm = setup.format_models;
  if (std::find(fm.begin(), fm.end(), model) == fm.end()) {
    std::erase(one.parts, harness::MatrixPart::kFormat);
  }
  return one;
}

// What the explore phase's bound covers, part by part (the report's bound description).
std::string ExploreBound(const ExploreSetup& setup) {
  const harness::MatrixOptions& m = setup.matrix;
  auto runs = [&](harness::MatrixPart part) {
    return std::find(m.parts.begin(), m.parts.end(), part) != m.parts.end();
  };
  std::vector<std::string> parts;
  if (runs(harness::MatrixPart::kSequential)) {
    parts.push_back(fmt::format(
        "sequential: every workload of 1..{} write/zero ops over {} LBAs, one op at a time",
        m.max_ops, m.lbas));
  }
  if (runs(harness::MatrixPart::kConcurrent)) {
    parts.push_back(fmt::format(
        "concurrent: 2 lanes (1..2 ops and 1 op from write/zero/read over {} LBA{}, plus {} "
        "aged case{}), every schedule within {} preemption{}",
        m.concurrent_lbas, m.concurrent_lbas == 1 ? "" : "s", m.concurrent_cases.size(), m.concurrent_cases.size() == 1 ? "" : "s",
        m.preemption_bound, m.preemption_bound == 1 ? "" : "s"));
  }
  if (runs(harness::MatrixPart::kFormat)) {
    std::string models;
    for (sim::PersistencyModel model : setup.format_models) {
      if (std::find(m.models.begin(), m.models.end(), model) == m.models.end()) continue;
      if (!models.empty()) models += '/';
      models += sim::PersistencyModelName(model);
    }
    if (!models.empty()) {
      parts.push_back(fmt::format("format: crashed at every fence of format under {}, then '{}'",
                                  models, harness::WorkloadToString(m.format_ops)));
    }
  }
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out + "; every crash point, on one arena";
}

// Each cell runs alone (so it gets its own time); its parts share nothing with other cells
// (the crash point memo is per part and cell), so this is the same search as one matrix run.
struct Cell {
  std::string name;  // "linux 512 B px86 nfree 1"
  harness::MatrixOptions options;
};

std::vector<Cell> Cells(const ExploreSetup& setup) {
  const harness::MatrixOptions& m = setup.matrix;
  std::vector<Cell> cells;
  for (btt::Profile profile : m.profiles) {
    for (uint32_t sector_size : m.sector_sizes) {
      for (sim::PersistencyModel model : m.models) {
        for (uint32_t nfree : m.nfrees) {
          cells.push_back({fmt::format("{} {} B {} nfree {}", btt::ProfileName(profile),
                                       sector_size, sim::PersistencyModelName(model), nfree),
                           ExploreCell(setup, profile, sector_size, model, nfree)});
        }
      }
    }
  }
  return cells;
}

}  // namespace

uint64_t ExplorePlanned(const ExploreSetup& setup) {
  uint64_t planned = 0;
  for (const Cell& cell : Cells(setup)) planned += harness::MatrixExplorations(cell.options);
  return planned;
}

ExploreOutcome RunExplorePhase(
    const ExploreSetup& setup,
    const std::function<void(uint64_t done, const std::string& cell)>& progress) {
  ExploreOutcome out;
  const harness::MatrixOptions& m = setup.matrix;
  const std::vector<Cell> cells = Cells(setup);
  json configurations = json::array();
  harness::ExploreStats total;
  std::map<std::string, harness::ExploreStats> by_part;
  std::map<std::string, uint64_t> explorations_by_part, violations_by_part;
  uint64_t done_before = 0, violations = 0, explorations = 0;
  for (const Cell& c : cells) {
    const auto start = Clock::now();
    auto result = harness::RunStandardMatrix(
        c.options, [&](uint64_t done, uint64_t) {
          if (progress) progress(done_before + done, c.name);
        });
    if (!result.ok()) {
      out.status = "error";
      out.reason = c.name + ": " + result.status().ToString();
      out.lines.push_back("error: " + out.reason);
      return out;
    }
    done_before += result->workloads;
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (const harness::MatrixCell& cell : result->cells) {
      const std::string part = harness::MatrixPartName(cell.part);
      total.Add(cell.stats);
      by_part[part].Add(cell.stats);
      explorations_by_part[part] += cell.workloads;
      violations_by_part[part] += cell.violation_count;
      explorations += cell.workloads;
      violations += cell.violation_count;
      json row = StatsJson(cell.stats);
      row["part"] = part;
      row["profile"] = btt::ProfileName(cell.profile);
      row["sector_size"] = cell.sector_size;
      row["model"] = sim::PersistencyModelName(cell.model);
      row["nfree"] = cell.nfree;
      row["workloads"] = cell.workloads;
      row["violations"] = cell.violation_count;
      // The cell's time, shared by its parts in proportion to the states they judged.
      const uint64_t all_states = result->total.states_checked + result->total.recovery_crash_states;
      const uint64_t states = cell.stats.states_checked + cell.stats.recovery_crash_states;
      row["seconds"] = all_states == 0 ? seconds / static_cast<double>(result->cells.size())
                                       : seconds * static_cast<double>(states) /
                                             static_cast<double>(all_states);
      configurations.push_back(row);
      for (size_t i = 0; i < cell.violations.size(); ++i) {
        const harness::Violation& v = cell.violations[i];
        const std::string name = part + " " + c.name;
        const std::string& w = cell.violation_workloads[i];
        out.violations.push_back({name, w, cell.violation_configs[i], v});
        out.lines.push_back(fmt::format("VIOLATION {} [{} workload '{}' crash point {}]: {}",
                                        v.check, name, w, v.crash_point, v.detail));
      }
    }
  }
  if (violations > 0) Fail(out, fmt::format("{} violations on the real core", violations));
  if (total.incomplete_points > 0) {
    Fail(out, fmt::format("{} crash points hit max_states_per_point (incomplete, not a proof)",
                         total.incomplete_points));
  }
  const std::string bound = ExploreBound(setup);
  out.lines.push_back(fmt::format(
      "{} to bound ({}): {} configurations, {} explorations, {} crash points ({} repeated, judged "
      "once), {} crash states judged (+{} crashes inside recovery), {} violations, {} incomplete "
      "points",
      out.status == "passed" ? "proved" : "NOT proved", bound, cells.size(), explorations,
      total.crash_points, total.crash_points_repeated, total.states_checked,
      total.recovery_crash_states, violations, total.incomplete_points));
  json parts = json::array();
  for (harness::MatrixPart p : m.parts) {
    const std::string part = harness::MatrixPartName(p);
    if (!explorations_by_part.count(part)) continue;
    const harness::ExploreStats& s = by_part[part];
    out.lines.push_back(fmt::format(
        "  part {}: {} explorations, {} executions, {} crash points, {} crash states judged (+{} "
        "inside recovery), {} violations",
        part, explorations_by_part[part], s.executions, s.crash_points, s.states_checked,
        s.recovery_crash_states, violations_by_part[part]));
    json row = StatsJson(s);
    row["part"] = part;
    row["workloads"] = explorations_by_part[part];
    row["violations"] = violations_by_part[part];
    parts.push_back(row);
  }
  out.lines.push_back(fmt::format(
      "reductions: fence dominance crashed at {} points instead of {} medium events; lazy "
      "branching judged {} states where eager enumeration of the same points has {}",
      total.crash_points, total.events, total.states_checked,
      total.eager_states == UINT64_MAX ? std::string("more than 2^64")
                                       : std::to_string(total.eager_states)));
  json totals = StatsJson(total);
  totals["workloads"] = explorations;
  totals["violations"] = violations;
  json part_names = json::array();
  for (harness::MatrixPart p : m.parts) part_names.push_back(harness::MatrixPartName(p));
  json format_models = json::array();
  for (sim::PersistencyModel model : setup.format_models) {
    format_models.push_back(sim::PersistencyModelName(model));
  }
  out.section = {
      {"bound",
       {{"description", bound},
        {"parts", part_names},
        {"max_ops", m.max_ops},
        {"lbas", m.lbas},
        {"workloads_per_configuration",
         harness::MatrixPartWorkloads(m, harness::MatrixPart::kSequential).size()},
        {"concurrent_lbas", m.concurrent_lbas},
        {"preemption_bound", m.preemption_bound},
        {"format_models", format_models}}},
      {"configurations", configurations},
      {"parts", parts},
      {"totals", totals}};
  return out;
}


}  // namespace tearproof::tools
