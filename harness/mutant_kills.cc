#include "harness/mutant_kills.h"

#include <sstream>

#include "harness/matrix.h"

namespace tearproof::harness {

namespace {

// One exploration of the hunt: the matrix's geometry and bounds, the mutant, a model, nfree, ops.
ExploreConfig HuntConfig(const KillMatrix& matrix, btt::Mutant mutant, sim::PersistencyModel model,
                         uint32_t nfree, const std::vector<WorkloadOp>& ops) {
  ExploreConfig config;
  config.profile = matrix.profile;
  config.external_lbasize = matrix.sector_size;
  config.model = model;
  config.nfree = nfree;
  config.ops = ops;
  config.max_states_per_point = matrix.max_states_per_point;
  config.stop_at_first_violation = matrix.stop_at_first_kill;
  config.mutant = mutant;
  return config;
}

// Runs one exploration of the hunt and records it in `result`; true when the hunt should stop.
bool HuntStep(const ExploreConfig& config, const std::string& workload, bool aged, bool concurrent,
              bool stop_at_first_kill, KillResult& result) {
  ++result.explorations;
  auto r = Explore(config);
  if (!r.ok()) {
    // The core refused or failed an operation of the workload (e.g. its own
    // INV-MAP-BIJECTION guard): visible, but not an oracle verdict, so not a kill.
    if (result.workload_errors++ == 0) {
      result.first_workload_error = workload + ": " + r.status().ToString();
    }
    return false;
  }
  result.violations += r->violations.size();
  result.incomplete_points += r->stats.incomplete_points;
  if (!r->violations.empty() && !result.killed) {
    const Violation& v = r->violations.front();
    result.killed = true;
    result.check = v.check;
    result.workload = workload;
    result.aged = aged;
    result.concurrent = concurrent;
    result.in_format = config.crash_in_format;
    result.model = config.model;
    result.nfree = config.nfree;
    result.crash_point = v.crash_point;
    result.op_in_flight = v.op_in_flight;
    result.detail = v.detail;
    result.config = config;
    result.violation = v;
  }
  return result.killed && stop_at_first_kill;
}

}  // namespace

Result<KillResult> HuntMutant(btt::Mutant mutant, const KillMatrix& matrix) {
  KillResult result;
  for (const bool aged : {false, true}) {
    if (aged && (matrix.aged_setup.empty() || (result.killed && matrix.stop_at_first_kill))) {
      break;
    }
    for (const auto& ops : AllWorkloads(matrix.lbas, matrix.max_ops)) {
      for (sim::PersistencyModel model : matrix.models) {
        for (uint32_t nfree : matrix.nfrees) {
          ExploreConfig config = HuntConfig(matrix, mutant, model, nfree, ops);
          if (aged) {
            // The correct core formats and runs the setup; the mutant takes over for the workload.
            config.setup_ops = matrix.aged_setup;
            config.mutant_after_setup = true;
          }
          if (HuntStep(config, WorkloadToString(ops), aged, /*concurrent=*/false,
                       matrix.stop_at_first_kill, result)) {
            return result;
          }
        }
      }
    }
  }
  if (result.killed && matrix.stop_at_first_kill) return result;
  for (const KillMatrix::ConcurrentCase& c : matrix.concurrent) {
    std::string workload =
        WorkloadToString(c.lanes.empty() ? std::vector<WorkloadOp>{} : c.lanes.front());
    for (size_t i = 1; i < c.lanes.size(); ++i) workload += " || " + WorkloadToString(c.lanes[i]);
    for (sim::PersistencyModel model : matrix.models) {
      ExploreConfig config =
          HuntConfig(matrix, mutant, model, /*nfree=*/2,
                     c.lanes.empty() ? std::vector<WorkloadOp>{} : c.lanes.front());
      config.other_lanes.assign(c.lanes.begin() + (c.lanes.empty() ? 0 : 1), c.lanes.end());
      config.preemption_bound = matrix.concurrent_preemptions;
      config.setup_ops = c.setup;
      config.mutant_after_setup = !c.setup.empty();
      if (HuntStep(config, workload, !c.setup.empty(), /*concurrent=*/true,
                   matrix.stop_at_first_kill, result)) {
        return result;
      }
    }
  }
  if (result.killed && matrix.stop_at_first_kill) return result;
  for (sim::PersistencyModel model : matrix.format_models) {
    for (uint32_t nfree : matrix.nfrees) {
      ExploreConfig config = HuntConfig(matrix, mutant, model, nfree, matrix.format_ops);
      config.crash_in_format = true;
      if (HuntStep(config, WorkloadToString(matrix.format_ops), /*aged=*/false,
                   /*concurrent=*/false, matrix.stop_at_first_kill, result)) {
        return result;
      }
    }
  }
  return result;
}

Result<std::map<std::string, std::string>> ParseKillTable(const std::string& text) {
  std::map<std::string, std::string> table;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string name, verdict, extra;
    if (!(fields >> name)) continue;
    if (!(fields >> verdict) || (fields >> extra)) {
      return InvalidArgument("kill table line " + std::to_string(number) +
                             ": expected '<mutant> <ORACLE-*|SURVIVES>'");
    }
    if (!btt::ParseMutant(name)) {
      return InvalidArgument("kill table line " + std::to_string(number) + ": unknown mutant '" +
                             name + "'");
    }
    if (verdict != "SURVIVES" && verdict.rfind("ORACLE-", 0) != 0) {
      return InvalidArgument("kill table line " + std::to_string(number) + ": bad verdict '" +
                             verdict + "'");
    }
    if (!table.emplace(name, verdict).second) {
      return InvalidArgument("kill table line " + std::to_string(number) + ": duplicate '" + name +
                             "'");
    }
  }
  return table;
}

}  // namespace tearproof::harness
