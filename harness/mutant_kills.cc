#include "harness/mutant_kills.h"

#include <sstream>

#include "harness/matrix.h"

namespace tearproof::harness {

Result<KillResult> HuntMutant(btt::Mutant mutant, const KillMatrix& matrix) {
  KillResult result;
  for (const bool aged : {false, true}) {
    if (aged && (matrix.aged_setup.empty() || (result.killed && matrix.stop_at_first_kill))) {
      break;
    }
    for (const auto& ops : AllWorkloads(matrix.lbas, matrix.max_ops)) {
      for (sim::PersistencyModel model : matrix.models) {
        for (uint32_t nfree : matrix.nfrees) {
          ExploreConfig config;
          config.profile = matrix.profile;
          config.external_lbasize = matrix.sector_size;
          config.model = model;
          config.nfree = nfree;
          config.ops = ops;
          config.max_states_per_point = matrix.max_states_per_point;
          config.stop_at_first_violation = matrix.stop_at_first_kill;
          config.mutant = mutant;
          if (aged) {
            // The correct core formats and runs the setup; the mutant takes over for the workload.
            config.setup_ops = matrix.aged_setup;
            config.mutant_after_setup = true;
          }
          ++result.explorations;
          auto r = Explore(config);
          if (!r.ok()) {
            // The core refused or failed an operation of the workload (e.g. its own
            // INV-MAP-BIJECTION guard): visible, but not an oracle verdict, so not a kill.
            if (result.workload_errors++ == 0) {
              result.first_workload_error = WorkloadToString(ops) + ": " + r.status().ToString();
            }
            continue;
          }
          result.violations += r->violations.size();
          result.incomplete_points += r->stats.incomplete_points;
          if (!r->violations.empty() && !result.killed) {
            const Violation& v = r->violations.front();
            result.killed = true;
            result.check = v.check;
            result.workload = WorkloadToString(ops);
            result.aged = aged;
            result.model = model;
            result.nfree = nfree;
            result.crash_point = v.crash_point;
            result.op_in_flight = v.op_in_flight;
            result.detail = v.detail;
            result.config = config;
            result.violation = v;
          }
          if (result.killed && matrix.stop_at_first_kill) return result;
        }
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
