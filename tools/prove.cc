#include "tools/prove.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness/concurrent_search.h"
#include "harness/explorer.h"
#include "harness/matrix.h"
#include "model/bmc.h"
#include "model/trace_export.h"
#include "sim/scheduler.h"
#include "sim/self_check.h"
#include "tools/cli_common.h"
#include "tools/explore_command.h"
#include "tools/report.h"
#include "tools/report_explore.h"
#include "tools/report_interop.h"
#include "tools/report_paths.h"
#include "tools/report_process.h"
#include "tools/report_progress.h"
#include "tools/report_traces.h"
#include "util/prng.h"

namespace tearproof::tools {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;  // timings and the progress display only, never results

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

const std::vector<std::string>& AllPhases() {
  static const std::vector<std::string> phases = {
      "medium", "explore", "deep", "concurrent", "paths", "control", "bmc", "mutants", "interop"};
  return phases;
}

// ---------------------------------------------------------------------------------------------
// The campaign configuration: an embedded default (scaled by --budget), optionally overridden by
// a JSON file whose keys must all exist in the default with the same type (docs/report.md).

json BoundJson(const std::string& model, int lanes, int lbas, int ops) {
  json b = {{"lanes", lanes}, {"lbas", lbas}, {"ops", ops}};
  if (!model.empty()) b["model"] = model;
  return b;
}

json DefaultConfig(double budget) {
  // Exploration depth: the workload length is the exponent of the matrix ((2 x lbas)^k workloads
  // of length k), so the budget picks it in steps rather than scaling it linearly.
  const int explore_ops = budget < 0.25  ? 1
                          : budget < 0.5 ? 2
                          : budget < 1   ? 3
                          : budget < 4   ? 4
                                         : 5;
  json proofs = json::array();
  if (budget < 0.5) {
    for (const char* m : {"px86", "word8", "eadr"}) proofs.push_back(BoundJson(m, 2, 2, 1));
  } else {
    for (const char* m : {"px86", "eadr", "word8"}) proofs.push_back(BoundJson(m, 2, 2, 2));
    proofs.push_back(BoundJson("word8", 2, 3, 3));  // the weakest model, so the strongest claim
    if (budget >= 3) {
      proofs.push_back(BoundJson("px86", 2, 3, 3));
      proofs.push_back(BoundJson("eadr", 2, 3, 3));
    }
  }
  json ladder = json::array();
  for (const auto& [lanes, lbas, ops] : {std::tuple{1, 1, 1}, {2, 1, 1}, {1, 2, 2}, {2, 2, 2}}) {
    ladder.push_back(BoundJson("", lanes, lbas, ops));
  }
  return {
      {"phases", AllPhases()},
      {"medium", {{"programs", static_cast<int>(300 * budget) + 1}}},
      {"explore",
       {{"profiles", {"linux", "uefi", "pmemblk"}},
        {"sector_sizes", {512, 4096}},
        {"models", {"px86", "word8", "eadr"}},
        {"nfree", {1, 2}},
        {"lbas", 2},
        {"max_ops", explore_ops},
        {"parts", {"sequential", "concurrent", "format"}},
        // Two lanes over 2 LBAs are 227 workloads a cell (15 s over the 36 cells); the smoke run
        // (budget < 0.25, also run under ASan by ctest) keeps 27 over one LBA.
        {"concurrent_lbas", budget < 0.25 ? 1 : 2},
        {"preemption_bound", 1},
        // Crashing format under word8 judges 2^16..2^18 states per crash point (every word of an
        // info block persists alone): ~2 s a cell, ~50 s under ASan; the smoke run leaves it out.
        {"format_models", budget < 0.25 ? json{"px86", "eadr"} : json{"px86", "word8", "eadr"}}}},
      {"deep",
       {{"runs", std::max(1, static_cast<int>(1000 * budget))},
        {"min_ops", 8},
        {"max_ops", 32},
        {"min_lbas", 4},
        {"max_lbas", 8},
        {"max_nfree", 4},
        {"max_states_per_point", 1 << 14}}},
      // Preemption bound 2 is exhaustive over thousands of schedules per workload (about a
      // minute); below budget 0.25 one preemption keeps the smoke run short.
      {"concurrent",
       {{"preemption_bound", budget < 0.25 ? 1 : 2},
        {"pct_seeds", std::max(4, static_cast<int>(256 * budget))},
        {"random_seeds", std::max(4, static_cast<int>(256 * budget))}}},
      {"control", {{"max_states_per_point", 64}}},
      {"bmc",
       {{"timeout_seconds", std::max(10.0, 300 * budget)},
        {"proofs", proofs},
        {"witness_bound",
         budget < 0.5 ? BoundJson("word8", 2, 2, 1) : BoundJson("word8", 2, 2, 2)}}},
      {"mutants",
       {{"explorer_max_ops", budget < 1 ? 2 : 3},
        // The properties' own kill matrix (properties/kill_matrix.expected) holds at 100 cases.
        {"property_cases", budget < 1 ? std::max(5, static_cast<int>(100 * budget)) : 100},
        {"z3_ladder", ladder}}},
  };
}

// Every key of `user` exists in `defaults` with the same JSON type (objects recursively).
Status CheckConfigShape(const json& user, const json& defaults, const std::string& where) {
  if (!user.is_object()) return InvalidArgument(where + ": expected a JSON object");
  for (auto it = user.begin(); it != user.end(); ++it) {
    const std::string key = where.empty() ? it.key() : where + "." + it.key();
    if (!defaults.contains(it.key())) return InvalidArgument("unknown config key '" + key + "'");
    const json& d = defaults.at(it.key());
    const bool same = (d.is_number() && it->is_number()) || d.type() == it->type();
    if (!same) {
      return InvalidArgument("config key '" + key + "' must be a " + std::string(d.type_name()));
    }
    if (d.is_object()) TP_RETURN_IF_ERROR(CheckConfigShape(*it, d, key));
  }
  return Status::Ok();
}

struct Bound3 {
  int lanes = 1;
  int lbas = 1;
  int ops = 1;
};
struct ProofSpec {
  model::PersistencyModel model;
  Bound3 bound;
};

struct CampaignConfig {
  std::vector<std::string> phases;
  uint32_t medium_programs = 0;
  harness::MatrixOptions explore;
  // The models whose cells also run the explore matrix's format part.
  std::vector<sim::PersistencyModel> explore_format_models;
  uint64_t deep_runs = 0;
  uint32_t deep_min_ops = 0, deep_max_ops = 0, deep_min_lbas = 0, deep_max_lbas = 0;
  uint32_t deep_max_nfree = 0;
  uint64_t deep_max_states = 0;
  uint32_t concurrent_bound = 0;
  uint64_t concurrent_pct_seeds = 0, concurrent_random_seeds = 0;
  uint64_t control_max_states = 0;
  double bmc_timeout_seconds = 0;
  std::vector<ProofSpec> proofs;
  ProofSpec witness_bound;
  uint32_t kill_max_ops = 0;
  uint32_t property_cases = 0;
  std::vector<Bound3> z3_ladder;
  bool Runs(const std::string& phase) const {
    return std::find(phases.begin(), phases.end(), phase) != phases.end();
  }
};

Result<uint64_t> Count(const json& obj, const char* key, uint64_t lo, uint64_t hi,
                       const std::string& where) {
  const json& v = obj.at(key);
  if (!v.is_number_integer() || v.get<int64_t>() < static_cast<int64_t>(lo) ||
      v.get<uint64_t>() > hi) {
    return InvalidArgument(
        fmt::format("config {}.{}: expected an integer in [{}, {}]", where, key, lo, hi));
  }
  return v.get<uint64_t>();
}

Result<std::vector<std::string>> Names(const json& arr, const std::string& where,
                                       const std::set<std::string>& allowed) {
  std::vector<std::string> out;
  for (const json& v : arr) {
    if (!v.is_string() || !allowed.count(v.get<std::string>())) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return InvalidArgument("config " + where + ": each entry must be one of " + list);
    }
    out.push_back(v.get<std::string>());
  }
  if (out.empty()) return InvalidArgument("config " + where + ": must not be empty");
  return out;
}

Result<ProofSpec> ParseBound(const json& b, const std::string& where, bool with_model) {
  if (!b.is_object()) return InvalidArgument("config " + where + ": expected an object");
  for (auto it = b.begin(); it != b.end(); ++it) {
    if (it.key() != "lanes" && it.key() != "lbas" && it.key() != "ops" &&
        !(with_model && it.key() == "model")) {
      return InvalidArgument("config " + where + ": unknown key '" + it.key() + "'");
    }
  }
  ProofSpec spec{model::PersistencyModel::kWord8, {}};
  if (with_model) {
    if (!b.contains("model") || !b["model"].is_string()) {
      return InvalidArgument("config " + where + ".model: expected px86, word8 or eadr");
    }
    auto m = model::ParsePersistencyModel(b["model"].get<std::string>());
    if (!m.ok()) return InvalidArgument("config " + where + ".model: " + m.status().message());
    spec.model = *m;
  }
  for (const char* key : {"lanes", "lbas", "ops"}) {
    if (!b.contains(key)) return InvalidArgument("config " + where + ": missing '" + key + "'");
  }
  // The ranges model::RunBmc accepts.
  TP_ASSIGN_OR_RETURN(uint64_t lanes, Count(b, "lanes", 1, 8, where));
  TP_ASSIGN_OR_RETURN(uint64_t lbas, Count(b, "lbas", 1, 16, where));
  TP_ASSIGN_OR_RETURN(uint64_t ops, Count(b, "ops", 1, 8, where));
  spec.bound = {static_cast<int>(lanes), static_cast<int>(lbas), static_cast<int>(ops)};
  return spec;
}

Result<CampaignConfig> ParseConfig(const json& c) {
  CampaignConfig cfg;
  const std::set<std::string> phase_set(AllPhases().begin(), AllPhases().end());
  TP_ASSIGN_OR_RETURN(cfg.phases, Names(c["phases"], "phases", phase_set));
  TP_ASSIGN_OR_RETURN(uint64_t programs, Count(c["medium"], "programs", 1, 1000000, "medium"));
  cfg.medium_programs = static_cast<uint32_t>(programs);

  const json& e = c["explore"];
  std::set<std::string> profile_names;
  for (const auto& [name, p] : ProfilesByName()) profile_names.insert(name);
  TP_ASSIGN_OR_RETURN(auto profiles, Names(e["profiles"], "explore.profiles", profile_names));
  TP_ASSIGN_OR_RETURN(auto models, Names(e["models"], "explore.models", {"px86", "word8", "eadr"}));
  cfg.explore.profiles.clear();
  for (const std::string& p : profiles) cfg.explore.profiles.push_back(ProfilesByName().at(p));
  cfg.explore.models.clear();
  for (const std::string& m : models) cfg.explore.models.push_back(*sim::ParsePersistencyModel(m));
  cfg.explore.sector_sizes.clear();
  for (const json& s : e["sector_sizes"]) {
    if (!s.is_number_integer() || (s.get<int64_t>() != 512 && s.get<int64_t>() != 4096)) {
      return InvalidArgument("config explore.sector_sizes: each entry must be 512 or 4096");
    }
    cfg.explore.sector_sizes.push_back(s.get<uint32_t>());
  }
  cfg.explore.nfrees.clear();
  for (const json& n : e["nfree"]) {
    if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() > 8) {
      return InvalidArgument("config explore.nfree: each entry must be an integer in [1, 8]");
    }
    cfg.explore.nfrees.push_back(n.get<uint32_t>());
  }
  if (cfg.explore.sector_sizes.empty() || cfg.explore.nfrees.empty()) {
    return InvalidArgument("config explore.sector_sizes and explore.nfree must not be empty");
  }
  TP_ASSIGN_OR_RETURN(uint64_t lbas, Count(e, "lbas", 1, 4, "explore"));
  TP_ASSIGN_OR_RETURN(uint64_t max_ops, Count(e, "max_ops", 1, 5, "explore"));
  cfg.explore.lbas = static_cast<uint32_t>(lbas);
  cfg.explore.max_ops = static_cast<uint32_t>(max_ops);
  std::set<std::string> part_names;
  for (harness::MatrixPart part :
       {harness::MatrixPart::kSequential, harness::MatrixPart::kConcurrent,
        harness::MatrixPart::kFormat}) {
    part_names.insert(harness::MatrixPartName(part));
  }
  TP_ASSIGN_OR_RETURN(auto parts, Names(e["parts"], "explore.parts", part_names));
  cfg.explore.parts.clear();
  for (const std::string& p : parts) {
    const harness::MatrixPart part = *harness::ParseMatrixPart(p);
    if (std::find(cfg.explore.parts.begin(), cfg.explore.parts.end(), part) ==
        cfg.explore.parts.end()) {
      cfg.explore.parts.push_back(part);
    }
  }
  TP_ASSIGN_OR_RETURN(uint64_t concurrent_lbas, Count(e, "concurrent_lbas", 1, 3, "explore"));
  TP_ASSIGN_OR_RETURN(uint64_t preemptions, Count(e, "preemption_bound", 0, 3, "explore"));
  cfg.explore.concurrent_lbas = static_cast<uint32_t>(concurrent_lbas);
  cfg.explore.preemption_bound = static_cast<uint32_t>(preemptions);
  TP_ASSIGN_OR_RETURN(auto format_models, Names(e["format_models"], "explore.format_models",
                                                {"px86", "word8", "eadr"}));
  for (const std::string& m : format_models) {
    cfg.explore_format_models.push_back(*sim::ParsePersistencyModel(m));
  }
  if (ExplorePlanned({cfg.explore, cfg.explore_format_models}) == 0) {
    return InvalidArgument(
        "config explore: nothing to explore (explore.parts runs only the format part and "
        "explore.format_models names none of explore.models)");
  }

  const json& d = c["deep"];
  TP_ASSIGN_OR_RETURN(cfg.deep_runs, Count(d, "runs", 0, 10000000, "deep"));
  TP_ASSIGN_OR_RETURN(uint64_t min_ops, Count(d, "min_ops", 1, 256, "deep"));
  TP_ASSIGN_OR_RETURN(uint64_t dmax_ops, Count(d, "max_ops", min_ops, 256, "deep"));
  TP_ASSIGN_OR_RETURN(uint64_t min_lbas, Count(d, "min_lbas", 1, 64, "deep"));
  TP_ASSIGN_OR_RETURN(uint64_t max_lbas, Count(d, "max_lbas", min_lbas, 64, "deep"));
  TP_ASSIGN_OR_RETURN(uint64_t max_nfree, Count(d, "max_nfree", 1, 8, "deep"));
  TP_ASSIGN_OR_RETURN(cfg.deep_max_states, Count(d, "max_states_per_point", 1, 1 << 24, "deep"));
  cfg.deep_min_ops = static_cast<uint32_t>(min_ops);
  cfg.deep_max_ops = static_cast<uint32_t>(dmax_ops);
  cfg.deep_min_lbas = static_cast<uint32_t>(min_lbas);
  cfg.deep_max_lbas = static_cast<uint32_t>(max_lbas);
  cfg.deep_max_nfree = static_cast<uint32_t>(max_nfree);

  const json& cc = c["concurrent"];
  TP_ASSIGN_OR_RETURN(uint64_t bound, Count(cc, "preemption_bound", 0, 3, "concurrent"));
  cfg.concurrent_bound = static_cast<uint32_t>(bound);
  TP_ASSIGN_OR_RETURN(cfg.concurrent_pct_seeds, Count(cc, "pct_seeds", 0, 1000000, "concurrent"));
  TP_ASSIGN_OR_RETURN(cfg.concurrent_random_seeds,
                      Count(cc, "random_seeds", 0, 1000000, "concurrent"));

  TP_ASSIGN_OR_RETURN(cfg.control_max_states,
                      Count(c["control"], "max_states_per_point", 1, 1 << 24, "control"));

  const json& b = c["bmc"];
  if (!b["timeout_seconds"].is_number() || b["timeout_seconds"].get<double>() <= 0) {
    return InvalidArgument("config bmc.timeout_seconds: expected a positive number");
  }
  cfg.bmc_timeout_seconds = b["timeout_seconds"].get<double>();
  for (size_t i = 0; i < b["proofs"].size(); ++i) {
    TP_ASSIGN_OR_RETURN(ProofSpec p,
                        ParseBound(b["proofs"][i], fmt::format("bmc.proofs[{}]", i), true));
    cfg.proofs.push_back(p);
  }
  TP_ASSIGN_OR_RETURN(cfg.witness_bound, ParseBound(b["witness_bound"], "bmc.witness_bound", true));

  const json& m = c["mutants"];
  TP_ASSIGN_OR_RETURN(uint64_t kill_ops, Count(m, "explorer_max_ops", 1, 4, "mutants"));
  cfg.kill_max_ops = static_cast<uint32_t>(kill_ops);
  TP_ASSIGN_OR_RETURN(uint64_t property_cases, Count(m, "property_cases", 1, 100000, "mutants"));
  cfg.property_cases = static_cast<uint32_t>(property_cases);
  for (size_t i = 0; i < m["z3_ladder"].size(); ++i) {
    TP_ASSIGN_OR_RETURN(
        ProofSpec p, ParseBound(m["z3_ladder"][i], fmt::format("mutants.z3_ladder[{}]", i), false));
    cfg.z3_ladder.push_back(p.bound);
  }
  if (cfg.z3_ladder.empty()) return InvalidArgument("config mutants.z3_ladder: must not be empty");
  return cfg;
}

// The effective config (default, file, --phases) as JSON, and parsed.
Result<std::pair<json, CampaignConfig>> LoadConfig(const ProveOptions& options) {
  json config = DefaultConfig(options.budget);
  if (!options.config_path.empty()) {
    std::ifstream in(options.config_path);
    if (!in) return NotFound("cannot read config file '" + options.config_path + "'");
    json user = json::parse(in, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
    if (user.is_discarded()) {
      return InvalidArgument("config file '" + options.config_path + "' is not valid JSON");
    }
    TP_RETURN_IF_ERROR(CheckConfigShape(user, config, "").Annotate(options.config_path + ": "));
    config.merge_patch(user);
  }
  if (!options.phases.empty()) {
    json phases = json::array();
    std::stringstream in(options.phases);
    std::string name;
    while (std::getline(in, name, ',')) phases.push_back(name);
    config["phases"] = phases;
  }
  auto parsed = ParseConfig(config);
  if (!parsed.ok()) return parsed.status();
  return std::make_pair(config, *parsed);
}

// ---------------------------------------------------------------------------------------------
// Phases. Each returns its outcome and fills its section of the report.

struct Outcome {
  std::string status = "passed";   // passed | failed | skipped | error
  std::string reason;              // why failed / skipped / error
  std::vector<std::string> lines;  // the text summary
  json section = nullptr;
  void Fail(const std::string& why) {
    if (status != "error") status = "failed";
    if (reason.empty()) reason = why;
  }
};

// Violations recorded as minimized traces (each costs up to kTraceCandidates re-runs); the rest
// keep their explore replay command.
constexpr uint64_t kMaxTracedViolations = 8;
constexpr uint64_t kTraceCandidates = 300;

struct Context {
  const ProveOptions& options;
  const CampaignConfig& cfg;
  Progress& progress;
  std::string trace_dir;            // <out>/traces
  json violations = json::array();  // every violation, with its replay command
  uint64_t traced = 0;
};

// A file under the report directory, named relative to it (so a moved report stays whole).
std::string ReportRelative(const Context& ctx, const std::string& path) {
  const std::string prefix = ctx.options.out_dir + "/";
  return path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : path;
}

// Stores the violation as a minimized trace and points its JSON (a violation or a control) at
// it: trace path, the replay timeline, and `tearproof replay` as the replay command.
void AttachRecorded(Context& ctx, const Result<RecordedTrace>& recorded, json* out) {
  if (!recorded.ok()) {
    (*out)["detail"] =
        (*out)["detail"].get<std::string>() + " [no trace: " + recorded.status().ToString() + "]";
    return;
  }
  (*out)["trace"] = ReportRelative(ctx, recorded->path);
  (*out)["timeline"] = recorded->timeline;
  (*out)["replay"] = "tearproof replay " + recorded->path;
}

void AttachTrace(Context& ctx, const harness::ExploreConfig& config, const harness::Violation& v,
                 const std::string& subdir, json* out) {
  if (ctx.traced >= kMaxTracedViolations) return;
  ++ctx.traced;
  AttachRecorded(ctx, RecordViolationTrace(config, v, ctx.trace_dir + subdir, kTraceCandidates),
                 out);
}

json ViolationJson(const std::string& phase, const harness::Violation& v,
                   const std::string& configuration, const std::string& workload,
                   const std::string& replay) {
  std::string state;
  for (const auto& c : v.resolution) {
    state += fmt::format("{}0x{:x}:{}/{}", state.empty() ? "" : " ", c.word_addr, c.index,
                         c.candidate_count);
  }
  return {{"phase", phase},
          {"check", v.check},
          {"configuration", configuration},
          {"workload", workload},
          {"crash_point", v.crash_point},
          {"op_in_flight", v.op_in_flight},
          {"detail", v.detail},
          {"crash_state", state},
          {"replay", replay},
          {"trace", nullptr},
          {"timeline", nullptr}};
}

Outcome MediumPhase(Context& ctx, size_t phase_index) {
  Outcome out;
  ctx.progress.StartPhase(phase_index, ctx.cfg.medium_programs, "programs");
  sim::SelfCheckOptions sc;
  sc.seed = ctx.options.seed;
  sc.programs = ctx.cfg.medium_programs;
  const sim::SelfCheckSummary summary = sim::RunSelfCheck(sc);
  if (!summary.ok()) out.Fail("the medium disagrees with its reference: " + summary.first_mismatch);
  out.lines.push_back(summary.ToString());
  out.section = {{"programs", summary.programs_run},
                 {"programs_skipped", summary.programs_skipped},
                 {"crash_states_compared",
                  {{"px86", summary.crash_states_compared[0]},
                   {"word8", summary.crash_states_compared[1]},
                   {"eadr", summary.crash_states_compared[2]}}},
                 {"lazy_runs", summary.lazy_runs},
                 {"inclusion_checks", summary.inclusion_checks},
                 {"mismatches", summary.mismatches},
                 {"first_mismatch", summary.first_mismatch}};
  return out;
}

Outcome ExplorePhase(Context& ctx, size_t phase_index) {
  const ExploreSetup setup{ctx.cfg.explore, ctx.cfg.explore_format_models};
  ctx.progress.StartPhase(phase_index, ExplorePlanned(setup), "explorations");
  ExploreOutcome explored = RunExplorePhase(
      setup, [&](uint64_t done, const std::string& cell) { ctx.progress.Update(done, cell); });
  for (const ExploreViolation& v : explored.violations) {
    json violation = ViolationJson("explore", v.violation, v.configuration, v.workload,
                                   ExploreCommand(v.config));
    AttachTrace(ctx, v.config, v.violation, "", &violation);
    ctx.violations.push_back(violation);
  }
  Outcome out;
  out.status = explored.status;
  out.reason = explored.reason;
  out.lines = std::move(explored.lines);
  out.section = std::move(explored.section);
  return out;
}

// One seeded random workload of the deep phase. Each run has its own seed, derived from the
// campaign seed and the run index, so any run can be regenerated alone.
struct DeepRun {
  uint64_t seed;
  harness::ExploreConfig config;
};

DeepRun MakeDeepRun(const CampaignConfig& cfg, uint64_t campaign_seed, uint64_t index) {
  uint64_t mix = campaign_seed ^ (0x9E3779B97F4A7C15ULL * (index + 1));
  DeepRun run{SplitMix64(mix), {}};
  Prng rng(run.seed);
  static const btt::Profile kProfiles[] = {btt::Profile::kLinux, btt::Profile::kUefi,
                                           btt::Profile::kPmemblk};
  static const sim::PersistencyModel kModels[] = {
      sim::PersistencyModel::kPx86, sim::PersistencyModel::kWord8, sim::PersistencyModel::kEadr};
  harness::ExploreConfig& c = run.config;
  c.profile = kProfiles[rng.Below(3)];
  c.external_lbasize = rng.Chance(1, 2) ? 512 : 4096;
  c.model = kModels[rng.Below(3)];
  c.nfree = static_cast<uint32_t>(rng.Range(1, cfg.deep_max_nfree));
  c.max_states_per_point = cfg.deep_max_states;
  const uint64_t lbas = rng.Range(cfg.deep_min_lbas, cfg.deep_max_lbas);
  const uint64_t ops = rng.Range(cfg.deep_min_ops, cfg.deep_max_ops);
  for (uint64_t i = 0; i < ops; ++i) {
    // Writes dominate (they are what the flog protects); one op in five is a zero.
    const auto kind =
        rng.Chance(1, 5) ? harness::WorkloadOp::Kind::kZero : harness::WorkloadOp::Kind::kWrite;
    c.ops.push_back({kind, rng.Below(lbas)});
  }
  return run;
}

Outcome DeepPhase(Context& ctx, size_t phase_index) {
  Outcome out;
  const CampaignConfig& cfg = ctx.cfg;
  ctx.progress.StartPhase(phase_index, cfg.deep_runs, "runs");
  // Aggregated per configuration, in a fixed (sorted) order.
  std::map<std::tuple<std::string, uint32_t, std::string, uint32_t>, json> cells;
  std::map<std::tuple<std::string, uint32_t, std::string, uint32_t>, harness::ExploreStats> stats;
  harness::ExploreStats total;
  uint64_t violations = 0, total_ops = 0, wrapped_runs = 0, zero_runs = 0, runs_ok = 0;
  uint64_t max_ops_seen = 0, max_lbas_seen = 0;
  for (uint64_t i = 0; i < cfg.deep_runs; ++i) {
    const DeepRun run = MakeDeepRun(cfg, ctx.options.seed, i);
    const harness::ExploreConfig& c = run.config;
    const std::string profile = btt::ProfileName(c.profile);
    const std::string model = sim::PersistencyModelName(c.model);
    const std::string workload = harness::WorkloadToString(c.ops);
    ctx.progress.Update(i, fmt::format("{} {} B {} nfree {}, {} ops", profile, c.external_lbasize,
                                       model, c.nfree, c.ops.size()));
    auto result = harness::Explore(c);
    if (!result.ok()) {
      out.status = "error";
      out.reason = fmt::format("run {} (seed {}): {}", i, run.seed, result.status().ToString());
      out.lines.push_back("error: " + out.reason);
      return out;
    }
    const auto key = std::make_tuple(profile, c.external_lbasize, model, c.nfree);
    stats[key].Add(result->stats);
    json& cell = cells[key];
    if (cell.is_null()) cell = {{"runs", 0}, {"ops", 0}, {"violations", 0}};
    cell["runs"] = cell["runs"].get<uint64_t>() + 1;
    cell["ops"] = cell["ops"].get<uint64_t>() + c.ops.size();
    total.Add(result->stats);
    total_ops += c.ops.size();
    max_ops_seen = std::max<uint64_t>(max_ops_seen, c.ops.size());
    uint64_t writes = 0, lbas = 0;
    bool zero = false;
    for (const harness::WorkloadOp& op : c.ops) {
      writes += op.kind == harness::WorkloadOp::Kind::kWrite;
      zero = zero || op.kind == harness::WorkloadOp::Kind::kZero;
      lbas = std::max(lbas, op.lba + 1);
    }
    max_lbas_seen = std::max(max_lbas_seen, lbas);
    // Pigeonhole: with more than 2 x nfree writes some lane commits at least three flog entries,
    // so its sequence number wrapped 3 -> 1 inside an explored run.
    wrapped_runs += writes > 2ULL * c.nfree;
    zero_runs += zero;
    runs_ok += result->ok();
    if (!result->violations.empty()) {
      ++violations;
      cell["violations"] = cell["violations"].get<uint64_t>() + 1;
      const harness::Violation& v = result->violations.front();
      const std::string name = fmt::format("{} {} B {} nfree {} (run {}, seed {})", profile,
                                           c.external_lbasize, model, c.nfree, i, run.seed);
      json violation = ViolationJson("deep", v, name, workload, ExploreCommand(c));
      AttachTrace(ctx, c, v, "", &violation);
      ctx.violations.push_back(violation);
      out.lines.push_back(fmt::format("VIOLATION {} [{} workload '{}' crash point {}]: {}", v.check,
                                      name, workload, v.crash_point, v.detail));
    }
  }
  json configurations = json::array();
  for (auto& [key, cell] : cells) {
    json row = StatsJson(stats[key]);
    row["profile"] = std::get<0>(key);
    row["sector_size"] = std::get<1>(key);
    row["model"] = std::get<2>(key);
    row["nfree"] = std::get<3>(key);
    row["runs"] = cell["runs"];
    row["ops"] = cell["ops"];
    row["violations"] = cell["violations"];
    configurations.push_back(row);
  }
  if (violations > 0)
    out.Fail(fmt::format("{} runs with a violation on the real core", violations));
  // An incomplete point in a random run is reported, but it is not a violation: the run is then
  // evidence for the states judged, which the report states.
  out.lines.push_back(fmt::format(
      "held on {} runs (seeded random workloads of {}..{} ops over {}..{} LBAs, nfree 1..{}, every "
      "crash point): {} crash points, {} crash states judged (+{} inside recovery), {} violations, "
      "{} incomplete points",
      cfg.deep_runs, cfg.deep_min_ops, cfg.deep_max_ops, cfg.deep_min_lbas, cfg.deep_max_lbas,
      cfg.deep_max_nfree, total.crash_points, total.states_checked, total.recovery_crash_states,
      violations, total.incomplete_points));
  json totals = StatsJson(total);
  totals["runs"] = cfg.deep_runs;
  totals["runs_clean"] = runs_ok;
  totals["ops"] = total_ops;
  totals["violations"] = violations;
  totals["runs_with_flog_wrap"] = wrapped_runs;
  totals["runs_with_zero"] = zero_runs;
  totals["longest_workload_ops"] = max_ops_seen;
  totals["most_lbas"] = max_lbas_seen;
  out.section = {{"generator",
                  {{"seed", ctx.options.seed},
                   {"runs", cfg.deep_runs},
                   {"ops", {cfg.deep_min_ops, cfg.deep_max_ops}},
                   {"lbas", {cfg.deep_min_lbas, cfg.deep_max_lbas}},
                   {"nfree", {1, cfg.deep_max_nfree}},
                   {"max_states_per_point", cfg.deep_max_states},
                   {"description",
                    "run i draws profile, sector size, model, nfree, LBA count and a write/zero "
                    "workload (1 op in 5 a zero) from its own seed SplitMix64(seed ^ "
                    "0x9E3779B97F4A7C15 * (i + 1)); each run is explored at every crash point"}}},
                 {"configurations", configurations},
                 {"totals", totals}};
  return out;
}

// The concurrent search (harness/concurrent_search.h): the standard concurrent workloads on the
// production core, every schedule within the preemption bound (proved to bound) and seeded PCT
// and random schedules (held on N runs), no crash. One workload at a time, for its own numbers.
json ConcurrentPartJson(const harness::ConcurrentPartStats& s) {
  return {{"runs", s.runs},
          {"runs_with_contention", s.runs_with_contention},
          {"preemptions_max", s.preemptions_max},
          {"steps", s.steps},
          {"violations", s.violations},
          {"errors", s.errors}};
}

Outcome ConcurrentPhase(Context& ctx, size_t phase_index) {
  Outcome out;
  const CampaignConfig& cfg = ctx.cfg;
  const auto& workloads = harness::StandardConcurrentWorkloads();
  ctx.progress.StartPhase(phase_index, workloads.size(), "workloads");
  harness::ConcurrentSearchOptions options;
  options.preemption_bound = cfg.concurrent_bound;
  options.pct_seeds = cfg.concurrent_pct_seeds;
  options.random_seeds = cfg.concurrent_random_seeds;
  // Its own seed stream, derived from the campaign seed (as the deep runs' are).
  options.seed_base = sim::RunSeed(ctx.options.seed, 0xC0);
  options.stop_at_first_violation = false;  // on the real core every workload is searched
  harness::ConcurrentPartStats exhaustive, sampled;
  bool complete = true;
  json rows = json::array();
  for (size_t i = 0; i < workloads.size(); ++i) {
    ctx.progress.Update(i, workloads[i].Name());
    auto r = harness::SearchConcurrent({workloads[i]}, options);
    if (!r.ok()) {
      out.status = "error";
      out.reason = workloads[i].Name() + ": " + r.status().ToString();
      out.lines.push_back("error: " + out.reason);
      return out;
    }
    exhaustive.Add(r->exhaustive);
    sampled.Add(r->sampled);
    complete = complete && r->exhaustive_complete;
    rows.push_back(
        {{"workload", workloads[i].Name()},
         {"lanes", workloads[i].lanes.size()},
         {"exhaustive", ConcurrentPartJson(r->exhaustive)},
         {"sampled", ConcurrentPartJson(r->sampled)},
         {"first_error", r->first_error.empty() ? json(nullptr) : json(r->first_error)}});
    if (!r->first_error.empty()) out.lines.push_back("ERROR " + r->first_error);
    if (r->first_violation.empty()) continue;
    out.lines.push_back("VIOLATION " + r->first_violation);
    json violation = {
        {"phase", "concurrent"},
        {"check", r->violation_check},
        {"configuration", "linux 512 B px86 nfree 2, interleaved lanes, no crash"},
        {"workload", r->violation_workload},
        {"crash_point", nullptr},
        {"op_in_flight", nullptr},
        {"detail", r->first_violation},
        {"crash_state", nullptr},
        {"replay", fmt::format("tearproof prove --phases concurrent --seed {} (workload '{}', "
                               "{}, schedule {})",
                               ctx.options.seed, r->violation_workload, r->violation_strategy,
                               r->violation_schedule)},
        {"trace", nullptr},
        {"timeline", nullptr}};
    if (ctx.traced < kMaxTracedViolations) {
      ++ctx.traced;
      AttachRecorded(ctx,
                     RecordConcurrentTrace(*r, {workloads[i]}, btt::Mutant::kNone,
                                           ctx.trace_dir + "/concurrent", kTraceCandidates),
                     &violation);
    }
    ctx.violations.push_back(std::move(violation));
  }
  const uint64_t violations = exhaustive.violations + sampled.violations;
  const uint64_t errors = exhaustive.errors + sampled.errors;
  if (violations > 0) out.Fail(fmt::format("{} concurrent runs with a violation", violations));
  if (errors > 0) {
    out.Fail(fmt::format("{} concurrent runs the real core refused or could not finish", errors));
  }
  const std::string bound = fmt::format(
      "every schedule with at most {} preemptions of {} workloads of 2-3 lanes (linux, 512 B, "
      "nfree 2, no crash)",
      cfg.concurrent_bound, workloads.size());
  out.lines.push_back(fmt::format(
      "{} to bound ({}): {} schedules, {} with lane or map-lock contention, {} violations",
      exhaustive.violations == 0 && exhaustive.errors == 0 && complete ? "proved" : "NOT proved",
      bound, exhaustive.runs, exhaustive.runs_with_contention, exhaustive.violations));
  out.lines.push_back(fmt::format(
      "held on {} runs ({} PCT and {} random seeds per workload, up to {} preemptions): {} with "
      "contention, {} violations",
      sampled.runs, cfg.concurrent_pct_seeds, cfg.concurrent_random_seeds, sampled.preemptions_max,
      sampled.runs_with_contention, sampled.violations));
  out.section = {
      {"bound",
       {{"description", bound},
        {"preemption_bound", cfg.concurrent_bound},
        {"workloads", workloads.size()},
        {"complete", complete}}},
      {"sampling",
       {{"pct_seeds", cfg.concurrent_pct_seeds},
        {"random_seeds", cfg.concurrent_random_seeds},
        {"seed_base", options.seed_base},
        {"description",
         "per workload, PCT seed i (depth 2 + i mod 2, 60 expected steps) and random seed i are "
         "sim::RunSeed(seed_base, i)"}}},
      {"workloads", rows},
      {"exhaustive", ConcurrentPartJson(exhaustive)},
      {"sampled", ConcurrentPartJson(sampled)}};
  return out;
}

// The controls: sector devices that must tear. Each stops at its first violation, which is
// stored as a minimized trace (under traces/controls/) with its timeline.
struct Control {
  const char* name;
  const char* description;
  harness::Device device;
  harness::FlushKind flush;
  const char* workload;
};

const Control kControls[] = {
    {"plain-pmem",
     "a sector device without BTT (memcpy + flush + fence per sector, as the kernel's pmem driver)",
     harness::Device::kPlainPmem, harness::FlushKind::kClwb, "w0"},
    {"lost-flushes", "the BTT core on a platform whose flushes are silently lost",
     harness::Device::kBtt, harness::FlushKind::kNone, "w0 w0"},
};

Outcome ControlPhase(Context& ctx, size_t phase_index) {
  Outcome out;
  const sim::PersistencyModel models[] = {sim::PersistencyModel::kPx86,
                                          sim::PersistencyModel::kWord8};
  ctx.progress.StartPhase(phase_index, std::size(kControls) * std::size(models), "controls");
  json rows = json::array();
  uint64_t done = 0;
  for (const Control& control : kControls) {
    for (sim::PersistencyModel model : models) {
      const std::string model_name = sim::PersistencyModelName(model);
      harness::ExploreConfig config;
      config.device = control.device;
      config.model = model;
      config.workload_flush = control.flush;
      config.max_states_per_point = ctx.cfg.control_max_states;
      // A torn device fails every check; the first violation is all a control needs.
      config.check_layout = false;
      config.crash_in_recovery = false;
      config.stop_at_first_violation = true;
      config.ops = *harness::ParseWorkload(control.workload);
      auto result = harness::Explore(config);
      const bool caught = result.ok() && !result->violations.empty();
      if (!caught) {
        out.Fail(fmt::format("the {} control under {} was NOT caught", control.name, model_name));
      }
      const std::string detail = caught        ? result->violations.front().detail
                                 : result.ok() ? "no violation found"
                                               : result.status().ToString();
      out.lines.push_back(fmt::format("{} under {}: {}", control.name, model_name,
                                      caught ? result->violations.front().check + ": " + detail
                                             : "NOT CAUGHT (" + detail + ")"));
      json row = {
          {"name", control.name},
          {"description", control.description},
          {"device", harness::DeviceName(control.device)},
          {"model", model_name},
          {"workload", control.workload},
          {"caught", caught},
          {"check", caught ? json(result->violations.front().check) : json(nullptr)},
          {"detail", detail},
          {"replay",
           fmt::format("tearproof explore --device {} --model {} --ops \"{}\"{} "
                       "--max-states {}",
                       harness::DeviceName(control.device), model_name, control.workload,
                       control.flush == harness::FlushKind::kNone ? " --fault lost-flushes" : "",
                       ctx.cfg.control_max_states)},
          {"trace", nullptr},
          {"timeline", nullptr}};
      if (caught) AttachTrace(ctx, config, result->violations.front(), "/controls", &row);
      rows.push_back(row);
      ctx.progress.Update(++done);
    }
  }
  out.section = {{"controls", rows}};
  return out;
}

json BoundOf(const model::BmcOptions& o) {
  return {{"lanes", o.lanes},
          {"lbas", o.lbas},
          {"nfree", o.nfree == 0 ? o.lanes : o.nfree},
          {"ops_per_lane", o.ops_per_lane}};
}

std::string BoundText(const Bound3& b) {
  return fmt::format("{} lanes x {} ops x {} LBAs", b.lanes, b.ops, b.lbas);
}

// The counterexample's schedule, one line per step: the timeline of a Z3 violation.
json ScheduleTimeline(const model::Counterexample& cex) {
  json lines = json::array();
  for (const model::CexStep& s : cex.schedule) {
    lines.push_back(fmt::format(
        "lane {} op {} ({} lba {}): {}{}", s.lane, s.op, s.op_kind, s.lba, s.step,
        s.is_store
            ? fmt::format(" {} = {}{}", s.location, s.value, s.persisted ? " [persisted]" : "")
            : ""));
  }
  lines.push_back(fmt::format("crash after step {}", cex.crash_after_step));
  for (const model::CexViolation& v : cex.violations) {
    lines.push_back(fmt::format("violates {}: {}", v.property, v.message));
  }
  return lines;
}

Outcome BmcPhase(Context& ctx, size_t phase_index) {
  Outcome out;
  const CampaignConfig& cfg = ctx.cfg;
  static const model::Witness kWitnesses[] = {
      model::Witness::kRollForward, model::Witness::kTornFreeBlock,
      model::Witness::kSameLbaTwoLanes, model::Witness::kRecoveryCrashCutsRoll,
      model::Witness::kZeroVisible};
  ctx.progress.StartPhase(phase_index, cfg.proofs.size() + std::size(kWitnesses), "Z3 checks");
  uint64_t done = 0;
  json proofs = json::array();
  for (const ProofSpec& p : cfg.proofs) {
    model::BmcOptions bmc;
    bmc.lanes = p.bound.lanes;
    bmc.lbas = p.bound.lbas;
    bmc.ops_per_lane = p.bound.ops;
    bmc.model = p.model;
    bmc.timeout_seconds = cfg.bmc_timeout_seconds;
    const std::string model_name = model::PersistencyModelName(p.model);
    ctx.progress.Update(done, model_name + ", " + BoundText(p.bound));
    auto r = model::RunBmc(bmc);
    const std::string verdict = r.ok() ? model::VerdictName(r->verdict) : "ERROR";
    json row = BoundOf(bmc);
    row["model"] = model_name;
    row["verdict"] = verdict;
    row["solve_seconds"] = r.ok() ? r->solve_seconds : 0.0;
    row["encode_seconds"] = r.ok() ? r->encode_seconds : 0.0;
    row["assertions"] = r.ok() ? r->assertions : 0;
    row["variables"] = r.ok() ? r->variables : 0;
    row["formula_nodes"] = r.ok() ? r->formula_nodes : 0;
    row["reason"] = !r.ok()                                  ? r.status().ToString()
                    : r->verdict == model::Verdict::kUnknown ? r->reason_unknown
                                                             : "";
    proofs.push_back(row);
    const std::string replay = fmt::format("tearproof bmc --lanes {} --lbas {} --ops {} --model {}",
                                           bmc.lanes, bmc.lbas, bmc.ops_per_lane, model_name);
    if (!r.ok() || r->verdict == model::Verdict::kUnknown) {
      out.Fail(fmt::format("Z3 gave no proof under {} at {}: {}", model_name, BoundText(p.bound),
                           row["reason"].get<std::string>()));
    } else if (r->verdict == model::Verdict::kSat) {
      out.Fail(
          fmt::format("the protocol is violated under {} at {}", model_name, BoundText(p.bound)));
      const model::CexViolation first = r->counterexample && !r->counterexample->violations.empty()
                                            ? r->counterexample->violations.front()
                                            : model::CexViolation{};
      ctx.violations.push_back(
          {{"phase", "bmc"},
           {"check", first.property},
           {"configuration", model_name + ", " + BoundText(p.bound)},
           {"workload", nullptr},
           {"crash_point", nullptr},
           {"op_in_flight", nullptr},
           {"detail", first.message},
           {"crash_state", nullptr},
           {"replay", replay},
           {"trace", nullptr},
           {"timeline", r->counterexample ? ScheduleTimeline(*r->counterexample) : json(nullptr)}});
    }
    out.lines.push_back(fmt::format(
        "protocol, {}: {} for {} x nfree {} ({:.1f}s, {} formula "
        "nodes){}",
        model_name, verdict, BoundText(p.bound), bmc.lanes, row["solve_seconds"].get<double>(),
        row["formula_nodes"].get<uint64_t>(), verdict == "UNSAT" ? ": proved to this bound" : ""));
    ctx.progress.Update(++done);
  }
  // Coverage witnesses: states the proofs must cover are reachable at the witness bound, so an
  // UNSAT above is not vacuous (docs/model.md, "Coverage witnesses").
  json witnesses = json::array();
  for (model::Witness w : kWitnesses) {
    model::BmcOptions bmc;
    bmc.lanes = cfg.witness_bound.bound.lanes;
    bmc.lbas = cfg.witness_bound.bound.lbas;
    bmc.ops_per_lane = cfg.witness_bound.bound.ops;
    bmc.model = cfg.witness_bound.model;
    bmc.witness = w;
    bmc.timeout_seconds = cfg.bmc_timeout_seconds;
    ctx.progress.Update(done, std::string("witness ") + model::WitnessName(w));
    auto r = model::RunBmc(bmc);
    const bool reachable = r.ok() && r->verdict == model::Verdict::kSat;
    if (!reachable) {
      out.Fail(fmt::format("coverage witness {} is not reachable at {}", model::WitnessName(w),
                           BoundText(cfg.witness_bound.bound)));
    }
    json row = BoundOf(bmc);
    row["witness"] = model::WitnessName(w);
    row["model"] = model::PersistencyModelName(bmc.model);
    row["verdict"] = r.ok() ? model::VerdictName(r->verdict) : "ERROR";
    row["reachable"] = reachable;
    row["solve_seconds"] = r.ok() ? r->solve_seconds : 0.0;
    witnesses.push_back(row);
    out.lines.push_back(fmt::format("witness {}: {}", model::WitnessName(w),
                                    reachable ? "reachable" : "NOT REACHABLE"));
    ctx.progress.Update(++done);
  }
  out.section = {
      {"timeout_seconds", cfg.bmc_timeout_seconds}, {"proofs", proofs}, {"witnesses", witnesses}};
  return out;
}

// ---------------------------------------------------------------------------------------------
// The mutant kill matrix. Rows are bug classes; each family seeds its own mutant of the class
// where it can (the core's mutants are named in btt/mutant.h, the protocol's in model/bmc.h).

struct BugClass {
  const char* bug;
  const char* explorer;  // btt::MutantName, or nullptr: not seeded in the core
  const char* z3;        // model::MutantName, or nullptr: not seeded in the model
};

const BugClass kBugClasses[] = {
    {"data not persisted before the flog commit", "data-not-persisted", "no-data-persist"},
    {"no fence between flog halves A and B", "flog-half-a-unfenced", "flog-halves-unfenced"},
    {"flog half B persisted before half A", "flog-half-b-first", nullptr},
    {"map updated before the flog commit", "map-before-flog", "map-before-flog"},
    {"flog sequence number not advanced", "seq-not-advanced", nullptr},
    {"flog sequence number advanced wrongly (1-3-2-1)", "seq-skips", "seq-reversed"},
    {"writer overwrites the active flog slot", "write-active-slot", "flog-active-slot"},
    {"recovery trusts the older flog slot", "recover-older-slot", "recovery-picks-older"},
    {"recovery rolls back yet frees old_map", "recover-roll-back", "recovery-roll-back"},
    {"recovery rolls forward without the old_map check", "recover-skip-old-map-check",
     "recovery-no-old-check"},
    {"recovery compares map entries with their flags", "recover-unmasked", "recovery-no-mask"},
    {"free block not replaced after a write", "free-not-replaced", "free-block-reused"},
    {"map entry stored without its flags", "map-without-flags", nullptr},
    {"zero not persisted", "zero-not-persisted", nullptr},
    {"read-only open writes its recovery", "read-only-writes-recovery", nullptr},
    {"flog layout detection ignored ((0,2) assumed)", "flog-layout-zero-two", nullptr},
    {"format writes the primary info block first", "info-primary-first", nullptr},
    {"read re-validation compares only the block", "read-recheck-block-only", nullptr},
    {"map lock not taken", nullptr, "no-map-lock"},
    {"no BTT at all: sector written in place (control)", nullptr, "no-btt"},
};

json Cell(const char* mutant, const std::string& status) {
  return {{"mutant", mutant ? json(mutant) : json(nullptr)},
          {"status", status},
          {"by", nullptr},
          {"where", nullptr},
          {"detail", nullptr},
          {"replay", nullptr},
          {"trace", nullptr}};
}

// The names of the core's mutants, from the sibling binary tearproof-kill-matrix (the mutant
// build of the explorer; the production binary holds no mutant). Not a JSON array: unavailable.
json ExplorerMutantNames(std::string* binary, std::string* why) {
  auto dir = SelfDirectory();
  *binary = (dir.ok() ? *dir : std::string(".")) + "/tearproof-kill-matrix";
  auto list = RunProcess({*binary, "--list"}, false);
  json names =
      list.ok() && list->exit_code == 0 ? json::parse(list->output, nullptr, false) : json(nullptr);
  if (names.is_array()) {
    for (const json& n : names) {
      if (!n.is_string()) names = nullptr;
      if (names.is_null()) break;
    }
  }
  if (!names.is_array()) {
    *why = list.ok() ? "tearproof-kill-matrix --list failed"
                     : "tearproof-kill-matrix (the mutant build, built next to tearproof) is not "
                       "available: " +
                           list.status().message();
  }
  return names;
}

// The properties family's cell for one mutant, from the per-family results of the RapidCheck
// suites: killed when any property family fails under the mutant.
json PropertyCell(const std::string& name, const json& families, const std::string& replay,
                  std::map<std::string, uint64_t>* kills_by_family) {
  json cell = Cell(nullptr, "survived");
  cell["mutant"] = name;
  cell["replay"] = replay;
  std::string by, detail;
  for (const json& f : families) {
    uint64_t& kills = (*kills_by_family)[f["family"].get<std::string>()];  // every family listed
    if (!f["killed"].get<bool>()) continue;
    ++kills;
    by += (by.empty() ? "" : ", ") + f["family"].get<std::string>();
    if (detail.empty()) detail = f["detail"].get<std::string>();
  }
  if (!by.empty()) {
    cell["status"] = "killed";
    cell["by"] = "properties: " + by;
    cell["where"] = "RapidCheck families " + by;
    cell["detail"] = detail;
  }
  return cell;
}

// The concurrency family's cell for one mutant, from the concurrent search's result.
json ConcurrencyCell(const Context& ctx, const std::string& name, const json& c) {
  json cell = Cell(nullptr, c["killed"].get<bool>() ? "killed" : "survived");
  cell["mutant"] = name;
  cell["replay"] = "tearproof-kill-matrix --mutant " + name + " --concurrent";
  if (c.contains("trace") && c["trace"].is_string()) {
    cell["trace"] = ReportRelative(ctx, c["trace"].get<std::string>());
    cell["replay"] = "tearproof replay " + c["trace"].get<std::string>();
  }
  if (c["killed"].get<bool>()) {
    cell["by"] = c["check"];
    cell["where"] = fmt::format("'{}', {}, schedule {}", c["workload"].get<std::string>(),
                                c["strategy"].get<std::string>(), c["schedule"].get<std::string>());
    cell["detail"] = c["detail"];
  }
  return cell;
}

// The explorer, properties and concurrency families: every core mutant, hunted by the sibling
// binary tearproof-kill-matrix (crash explorer, each RapidCheck property family, the concurrent
// search). Returns the three family summaries and fills the cells by mutant name.
std::vector<json> CoreMutantFamilies(Context& ctx, const std::string& binary, json names,
                                     const std::string& why,
                                     std::map<std::string, json>* explorer_cells,
                                     std::map<std::string, json>* property_cells,
                                     std::map<std::string, json>* concurrency_cells, Outcome* out,
                                     uint64_t* done) {
  json explorer = {
      {"family", "explorer"}, {"status", "ran"},        {"reason", nullptr},         {"mutants", 0},
      {"killed", 0},          {"kill_matrix", nullptr}, {"unmutated_clean", nullptr}};
  json properties = {{"family", "properties"},
                     {"status", "ran"},
                     {"reason", nullptr},
                     {"mutants", 0},
                     {"killed", 0},
                     {"unmutated_clean", nullptr},
                     {"cases", ctx.cfg.property_cases},
                     {"kills_by_family", nullptr}};
  json concurrency = {{"family", "concurrency"},
                      {"status", "ran"},
                      {"reason", nullptr},
                      {"mutants", 0},
                      {"killed", 0},
                      {"unmutated_clean", nullptr}};
  if (!names.is_array()) {
    for (json* f : {&explorer, &properties, &concurrency}) {
      (*f)["status"] = "skipped";
      (*f)["reason"] = why;
    }
    out->lines.push_back("explorer, properties and concurrency families skipped: " + why);
    return {explorer, properties, concurrency};
  }
  names.push_back("none");  // the unmutated core over the whole sub-matrix, last
  uint64_t killed = 0, property_killed = 0, concurrency_killed = 0;
  std::map<std::string, uint64_t> kills_by_family;
  const std::string cases = std::to_string(ctx.cfg.property_cases);
  for (const json& n : names) {
    const std::string name = n.get<std::string>();
    ctx.progress.Update(*done, "explorer and properties vs " + name);
    auto run = RunProcess(
        {binary, "--mutant", name, "--max-ops", std::to_string(ctx.cfg.kill_max_ops), "--trace-dir",
         ctx.trace_dir + "/mutants", "--property-cases", cases, "--concurrent"},
        false);
    json doc =
        run.ok() && run->exit_code == 0 ? json::parse(run->output, nullptr, false) : json(nullptr);
    ++*done;
    if (!doc.is_object() || !doc.contains("result") || !doc["result"].contains("properties") ||
        !doc["result"].contains("concurrency")) {
      out->status = "error";
      out->reason = "tearproof-kill-matrix --mutant " + name + " failed";
      for (json* f : {&explorer, &properties, &concurrency}) {
        (*f)["status"] = "error";
        (*f)["reason"] = out->reason;
      }
      return {explorer, properties, concurrency};
    }
    explorer["kill_matrix"] = doc["kill_matrix"];
    const json& r = doc["result"];
    const std::string property_replay =
        "tearproof-kill-matrix --mutant " + name + " --property-cases " + cases;
    if (name == "none") {
      const bool clean = !r["killed"].get<bool>() && r["workload_errors"].get<uint64_t>() == 0 &&
                         r["incomplete_points"].get<uint64_t>() == 0;
      explorer["unmutated_clean"] = clean;
      if (!clean) out->Fail("the unmutated core fails the kill sub-matrix: " + r["detail"].dump());
      std::map<std::string, uint64_t> false_alarms;
      const json cell = PropertyCell(name, r["properties"], property_replay, &false_alarms);
      properties["unmutated_clean"] = cell["status"] != "killed";
      if (cell["status"] == "killed") {
        out->Fail("the unmutated core fails " + cell["by"].get<std::string>() + ": " +
                  cell["detail"].get<std::string>());
      }
      const json& c = r["concurrency"];
      const bool concurrent_clean = !c["killed"].get<bool>() && c["errors"].get<uint64_t>() == 0;
      concurrency["unmutated_clean"] = concurrent_clean;
      if (!concurrent_clean) {
        out->Fail("the unmutated core fails the concurrent search: " +
                  c["detail"].get<std::string>() + c["first_error"].get<std::string>());
      }
      continue;
    }
    json cell = Cell(nullptr, r["killed"].get<bool>() ? "killed" : "survived");
    cell["mutant"] = name;
    if (r["killed"].get<bool>()) {
      ++killed;
      cell["by"] = r["check"];
      cell["where"] =
          fmt::format("{}'{}', {}, nfree {}, crash point {}", r["aged"].get<bool>() ? "aged " : "",
                      r["workload"].get<std::string>(), r["model"].get<std::string>(),
                      r["nfree"].get<uint64_t>(), r["crash_point"].get<uint64_t>());
      cell["detail"] = r["detail"];
    }
    cell["replay"] = "tearproof-kill-matrix --mutant " + name;
    if (r.contains("trace") && r["trace"].is_string()) {
      cell["trace"] = ReportRelative(ctx, r["trace"].get<std::string>());
      cell["replay"] = "tearproof replay " + r["trace"].get<std::string>();
    }
    (*explorer_cells)[name] = cell;
    json property_cell = PropertyCell(name, r["properties"], property_replay, &kills_by_family);
    property_killed += property_cell["status"] == "killed";
    (*property_cells)[name] = property_cell;
    json concurrency_cell = ConcurrencyCell(ctx, name, r["concurrency"]);
    concurrency_killed += concurrency_cell["status"] == "killed";
    (*concurrency_cells)[name] = concurrency_cell;
  }
  const uint64_t mutants = names.size() - 1;
  explorer["mutants"] = mutants;
  explorer["killed"] = killed;
  properties["mutants"] = mutants;
  properties["killed"] = property_killed;
  properties["kills_by_family"] = kills_by_family;
  concurrency["mutants"] = mutants;
  concurrency["killed"] = concurrency_killed;
  // Each RapidCheck family must kill something: one that kills nothing checks nothing.
  for (const auto& [family, kills] : kills_by_family) {
    if (kills == 0) out->Fail("the RapidCheck family " + family + " killed no core mutant");
  }
  out->lines.push_back(fmt::format("explorer: {}/{} core mutants killed, unmutated core {}", killed,
                                   mutants,
                                   explorer["unmutated_clean"] == true ? "clean" : "NOT clean"));
  out->lines.push_back(
      fmt::format("properties ({} cases per family): {}/{} core mutants killed, unmutated core {}",
                  ctx.cfg.property_cases, property_killed, mutants,
                  properties["unmutated_clean"] == true ? "clean" : "NOT clean"));
  out->lines.push_back(fmt::format(
      "concurrency (interleaved lanes, 1 preemption + 16 PCT + 16 random seeds per workload, no "
      "crash): {}/{} core mutants killed, unmutated core {}",
      concurrency_killed, mutants, concurrency["unmutated_clean"] == true ? "clean" : "NOT clean"));
  return {explorer, properties, concurrency};
}

// Stores the counterexample of a Z3 kill as a tearproof trace (model/trace_export.h) under
// traces/z3/ and points the cell at `tearproof replay`. The production binary converts the real
// protocol and the no-btt control itself; a counterexample whose counterpart is a seeded core
// mutant needs the mutant build, so the sibling tearproof-bmc-mutants re-solves the same bound
// and converts it. A counterexample the converter cannot map (e.g. one that needs two lanes)
// keeps its `tearproof bmc` command, and the cell says why it has no trace.
void AttachBmcTrace(Context& ctx, const model::BmcResult& result, json* cell) {
  const std::string dir = ctx.trace_dir + "/z3";
  Result<std::string> path = InternalError("unset");
  if (!model::CounterpartNeedsMutantBuild(result.options.mutant)) {
    path = model::WriteBmcTrace(result, dir);
  } else {
    auto self = SelfDirectory();
    const model::BmcOptions& o = result.options;
    auto run =
        RunProcess({(self.ok() ? *self : std::string(".")) + "/tearproof-bmc-mutants", "--model",
                    model::PersistencyModelName(o.model), "--mutant", model::MutantName(o.mutant),
                    "--lanes", std::to_string(o.lanes), "--lbas", std::to_string(o.lbas), "--ops",
                    std::to_string(o.ops_per_lane), "--nfree", std::to_string(o.nfree), "--timeout",
                    fmt::format("{}", o.timeout_seconds), "--trace-out", dir},
                   /*merge_stderr=*/true);
    if (!run.ok()) {
      path = run.status();
    } else {
      // The driver prints "trace: PATH" on SAT (exit 1), or why there is none.
      const size_t at = run->output.find("trace: ");
      const size_t end = at == std::string::npos ? at : run->output.find('\n', at);
      if (run->exit_code == 1 && at != std::string::npos && end != std::string::npos) {
        path = run->output.substr(at + 7, end - at - 7);
      } else {
        // The driver's last line says why the conversion failed.
        std::string last = run->output;
        while (!last.empty() && last.back() == '\n') last.pop_back();
        last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
        path = InternalError(
            fmt::format("tearproof-bmc-mutants exit {}: {}", run->exit_code, last.substr(0, 300)));
      }
    }
  }
  if (!path.ok()) {
    (*cell)["detail"] =
        ((*cell)["detail"].is_string() ? (*cell)["detail"].get<std::string>() : std::string()) +
        " [no trace: " + path.status().ToString() + "]";
    return;
  }
  (*cell)["trace"] = ReportRelative(ctx, *path);
  (*cell)["replay"] = "tearproof replay " + *path;
}

json Z3Family(Context& ctx, std::map<std::string, json>* cells, Outcome* out, uint64_t* done) {
  json family = {{"family", "z3"}, {"status", "ran"}, {"reason", nullptr},
                 {"mutants", 0},   {"killed", 0},     {"model", "word8"}};
  uint64_t killed = 0;
  const auto mutants = model::AllMutants();
  for (model::Mutant mutant : mutants) {
    const std::string name = model::MutantName(mutant);
    ctx.progress.Update(*done, "z3 vs " + name);
    json cell = Cell(nullptr, "survived");
    cell["mutant"] = name;
    // The ladder of small bounds, smallest first; the first SAT kills the mutant.
    for (const Bound3& b : ctx.cfg.z3_ladder) {
      model::BmcOptions bmc;
      bmc.lanes = b.lanes;
      bmc.lbas = b.lbas;
      bmc.ops_per_lane = b.ops;
      bmc.model = model::PersistencyModel::kWord8;
      bmc.mutant = mutant;
      bmc.timeout_seconds = ctx.cfg.bmc_timeout_seconds;
      auto r = model::RunBmc(bmc);
      if (!r.ok() || r->verdict != model::Verdict::kSat) continue;
      cell["status"] = "killed";
      if (r->counterexample && !r->counterexample->violations.empty()) {
        cell["by"] = r->counterexample->violations.front().property;
        cell["detail"] = r->counterexample->violations.front().message;
      }
      cell["where"] = "word8, " + BoundText(b);
      cell["replay"] = fmt::format(
          "tearproof bmc --lanes {} --lbas {} --ops {} --model word8 "
          "--mutant {}",
          b.lanes, b.lbas, b.ops, name);
      AttachBmcTrace(ctx, *r, &cell);
      ++killed;
      break;
    }
    ++*done;
    (*cells)[name] = cell;
  }
  family["mutants"] = mutants.size();
  family["killed"] = killed;
  // Every protocol mutant is a real protocol bug: one that survives means the model lost power.
  if (killed != mutants.size()) {
    out->Fail(fmt::format("Z3 killed only {}/{} protocol mutants", killed, mutants.size()));
  }
  out->lines.push_back(
      fmt::format("z3: {}/{} protocol mutants killed (SAT under word8)", killed, mutants.size()));
  return family;
}

Outcome MutantsPhase(Context& ctx, size_t phase_index) {
  Outcome out;
  std::string binary, why;
  const json names = ExplorerMutantNames(&binary, &why);
  // Work units: one per core mutant, one for the unmutated core, one per protocol mutant.
  const uint64_t explorer_units = names.is_array() ? names.size() + 1 : 0;
  ctx.progress.StartPhase(phase_index, explorer_units + model::AllMutants().size(), "mutants");
  uint64_t done = 0;
  std::map<std::string, json> explorer_cells, property_cells, concurrency_cells, z3_cells;
  json families = json::array();
  for (json& f : CoreMutantFamilies(ctx, binary, names, why, &explorer_cells, &property_cells,
                                    &concurrency_cells, &out, &done)) {
    families.push_back(f);
  }
  if (out.status == "error") return out;
  families.push_back(Z3Family(ctx, &z3_cells, &out, &done));

  json rows = json::array();
  const bool core_ran = families[0]["status"] == "ran";
  auto take = [](std::map<std::string, json>* cells, const char* name, bool ran) {
    if (name == nullptr) return Cell(nullptr, "not-seeded");
    auto it = cells->find(name);
    if (it == cells->end()) return Cell(name, ran ? "not-seeded" : "not-run");
    json cell = it->second;
    cells->erase(it);
    return cell;
  };
  for (const BugClass& bug : kBugClasses) {
    rows.push_back({{"bug", bug.bug},
                    {"explorer", take(&explorer_cells, bug.explorer, core_ran)},
                    {"properties", take(&property_cells, bug.explorer, core_ran)},
                    {"concurrency", take(&concurrency_cells, bug.explorer, core_ran)},
                    {"z3", take(&z3_cells, bug.z3, true)}});
  }
  // Mutants added to a family after this table was written still get a row of their own.
  for (auto& [name, cell] : explorer_cells) {
    rows.push_back({{"bug", name},
                    {"explorer", cell},
                    {"properties", take(&property_cells, name.c_str(), core_ran)},
                    {"concurrency", take(&concurrency_cells, name.c_str(), core_ran)},
                    {"z3", Cell(nullptr, "not-seeded")}});
  }
  for (auto& [name, cell] : z3_cells) {
    rows.push_back({{"bug", name},
                    {"explorer", Cell(nullptr, "not-seeded")},
                    {"properties", Cell(nullptr, "not-seeded")},
                    {"concurrency", Cell(nullptr, "not-seeded")},
                    {"z3", cell}});
  }
  for (const json& f : families) {
    if (f["status"] == "ran" && f["killed"].get<uint64_t>() == 0) {
      out.Fail("the " + f["family"].get<std::string>() + " family killed no mutant");
    }
  }
  out.section = {{"families", families}, {"rows", rows}};
  return out;
}

// ---------------------------------------------------------------------------------------------
// Coverage marks: rare paths, each claimed only from a number the campaign measured.

json Mark(const std::string& id, const std::string& path, bool exercised,
          const std::string& evidence) {
  return {{"id", id},
          {"path", path},
          {"status", exercised ? "exercised" : "not-exercised"},
          {"evidence", evidence}};
}

json CoverageMarks(const json& report) {
  json marks = json::array();
  const json& explore = report["explore"];
  const json& deep = report["deep"];
  auto total = [&](const char* key) {
    uint64_t n = 0;
    for (const json* s : {&explore, &deep}) {
      if (s->is_object()) n += (*s)["totals"][key].get<uint64_t>();
    }
    return n;
  };
  const uint64_t recovery_crashes = total("recovery_crash_states");
  marks.push_back(Mark(
      "crash-inside-recovery", "a crash inside recovery, then recovery again", recovery_crashes > 0,
      fmt::format("{} nested crash states judged (ORACLE-IDEMPOTENT)", recovery_crashes)));
  const uint64_t states = total("states_checked");
  marks.push_back(
      Mark("read-only-open", "read-only open (recovery into a DRAM overlay)", states > 0,
           fmt::format("run on each of {} crash states (ORACLE-RO-EQUALS-RW)", states)));
  uint64_t zero_workloads = 0;
  if (explore.is_object()) {
    // Of the 2N choices per op, N are zeros: workloads with at least one zero.
    const uint64_t n = explore["bound"]["lbas"].get<uint64_t>();
    const uint64_t k = explore["bound"]["max_ops"].get<uint64_t>();
    for (uint64_t len = 1; len <= k; ++len) {
      uint64_t all = 1, writes_only = 1;
      for (uint64_t i = 0; i < len; ++i) all *= 2 * n, writes_only *= n;
      zero_workloads += all - writes_only;
    }
    uint64_t sequential_cells = 0;
    for (const json& c : explore["configurations"]) sequential_cells += c["part"] == "sequential";
    zero_workloads *= sequential_cells;
  }
  const uint64_t deep_zero =
      deep.is_object() ? deep["totals"]["runs_with_zero"].get<uint64_t>() : 0;
  marks.push_back(Mark("zero-under-crash", "Zero (the map's Z flag) crashed at every point",
                       zero_workloads + deep_zero > 0,
                       fmt::format("{} exhaustive explorations and {} deep runs contain a zero",
                                   zero_workloads, deep_zero)));
  const uint64_t wraps =
      deep.is_object() ? deep["totals"]["runs_with_flog_wrap"].get<uint64_t>() : 0;
  marks.push_back(Mark("flog-seq-wrap", "a lane's flog sequence number wraps 3 -> 1 under crashes",
                       wraps > 0,
                       fmt::format("{} deep runs with more than 2 x nfree writes (pigeonhole: "
                                   "some lane commits 3 entries)",
                                   wraps)));
  std::set<uint64_t> nfrees;
  for (const json* s : {&explore, &deep}) {
    if (!s->is_object()) continue;
    for (const json& c : (*s)["configurations"]) nfrees.insert(c["nfree"].get<uint64_t>());
  }
  const bool many_lanes = !nfrees.empty() && *nfrees.rbegin() >= 3;
  marks.push_back(Mark("nfree-3-plus", "three or more free blocks and flog lanes", many_lanes,
                       nfrees.empty()
                           ? "no exploration ran"
                           : fmt::format("largest nfree explored: {}", *nfrees.rbegin())));
  // The rare paths of the paths phase: claimed from the counter each sweep measured.
  struct Flagged {
    const char* id;
    const char* path;
    const char* without;  // what would exercise it, when the paths phase did not run
  };
  for (const Flagged& f :
       {Flagged{"recovery-roll-forward", "recovery rolls an interrupted map update forward",
                "the paths phase did not run (the explorer does not sum "
                "btt::OpenReport::lanes_rolled_forward)"},
        Flagged{"backup-info-fallback", "open falls back to the backup info block",
                "the paths phase did not run; no explored state corrupts an info block"},
        Flagged{"flog-layout-0-2", "the pre-4.15 (0,2) flog slot layout under crashes",
                "the paths phase did not run; every explored medium has the (0,1) layout"},
        Flagged{"error-flag", "the map's E flag (SetError) under crashes",
                "the paths phase did not run; explored workloads are writes and zeros"}}) {
    const json* check = nullptr;
    if (report["paths"].is_object()) {
      for (const json& c : report["paths"]["checks"]) {
        if (c["mark"] == f.id) check = &c;
      }
    }
    if (check == nullptr) {
      marks.push_back(Mark(f.id, f.path, false, f.without));
      continue;
    }
    const bool held = (*check)["problem"].get<std::string>().empty();
    marks.push_back(
        Mark(f.id, f.path, held && (*check)["counted"].get<uint64_t>() > 0,
             fmt::format("paths phase, {}: {} of {} crash states ({}){}",
                         (*check)["name"].get<std::string>(), (*check)["counted"].get<uint64_t>(),
                         (*check)["states"].get<uint64_t>(), (*check)["counter"].get<std::string>(),
                         held ? "" : "; FAILED: " + (*check)["problem"].get<std::string>())));
  }
  marks.push_back(Mark("multiple-arenas", "a namespace with more than one arena", false,
                       "every exploration and sweep uses one minimum-size arena (btt_test covers "
                       "multi-arena I/O on a sparse 1 TiB namespace, outside the campaign)"));
  const json& concurrent = report["concurrent"];
  uint64_t concurrent_runs = 0, contended = 0;
  if (concurrent.is_object()) {
    for (const char* part : {"exhaustive", "sampled"}) {
      concurrent_runs += concurrent[part]["runs"].get<uint64_t>();
      contended += concurrent[part]["runs_with_contention"].get<uint64_t>();
    }
  }
  marks.push_back(Mark(
      "concurrent-lanes",
      "two or three lanes of the core interleaved at every medium operation, lock and spin-wait, "
      "with a BTT lane or map lock found held (no crash)",
      contended > 0,
      fmt::format("{} concurrent runs judged, {} of them with lane or map-lock contention",
                  concurrent_runs, contended)));
  // The explore phase's parts other than sequential, from their totals.
  auto explore_part = [&](const char* name) -> const json* {
    if (!explore.is_object()) return nullptr;
    for (const json& p : explore["parts"]) {
      if (p["part"] == name) return &p;
    }
    return nullptr;
  };
  const json* crashed_lanes = explore_part("concurrent");
  marks.push_back(Mark(
      "concurrent-lanes-under-crash", "interleaved lanes crashed at every point",
      crashed_lanes != nullptr && (*crashed_lanes)["states_checked"].get<uint64_t>() > 0,
      crashed_lanes == nullptr
          ? "the explore phase ran no concurrent part (explore.parts); the concurrent phase has "
            "no crash"
          : fmt::format("explore, concurrent part: {} schedules of {} two-lane workloads crashed "
                        "at {} points, {} crash states judged",
                        (*crashed_lanes)["executions"].get<uint64_t>(),
                        (*crashed_lanes)["workloads"].get<uint64_t>(),
                        (*crashed_lanes)["crash_points"].get<uint64_t>(),
                        (*crashed_lanes)["states_checked"].get<uint64_t>())));
  const json* crashed_format = explore_part("format");
  marks.push_back(
      Mark("crash-inside-format", "format crashed at every fence, then opened and written",
           crashed_format != nullptr && (*crashed_format)["states_checked"].get<uint64_t>() > 0,
           crashed_format == nullptr
               ? "the explore phase ran no format part (explore.parts, explore.format_models)"
               : fmt::format("explore, format part: {} configurations, {} crash points, {} crash "
                             "states judged (ORACLE-FORMAT)",
                             (*crashed_format)["workloads"].get<uint64_t>(),
                             (*crashed_format)["crash_points"].get<uint64_t>(),
                             (*crashed_format)["states_checked"].get<uint64_t>())));
  const json& bmc = report["bmc"];
  if (bmc.is_object()) {
    for (const json& w : bmc["witnesses"]) {
      marks.push_back(Mark(
          "z3-witness-" + w["witness"].get<std::string>(),
          "Z3 reaches the witness state " + w["witness"].get<std::string>(),
          w["reachable"].get<bool>(),
          fmt::format("{} at {} lanes x {} ops x {} LBAs under {}", w["verdict"].get<std::string>(),
                      w["lanes"].get<int>(), w["ops_per_lane"].get<int>(), w["lbas"].get<int>(),
                      w["model"].get<std::string>())));
    }
  }
  const json& mutants = report["mutants"];
  if (mutants.is_object()) {
    std::map<std::string, uint64_t> first_fired;
    for (const json& row : mutants["rows"]) {
      const json& cell = row["explorer"];
      if (cell["status"] == "killed" && cell["by"].is_string()) {
        ++first_fired[cell["by"].get<std::string>()];
      }
    }
    for (const char* check : {"ORACLE-RECOVER", "ORACLE-RO-EQUALS-RW", "ORACLE-ATOMIC",
                              "ORACLE-CHECK", "ORACLE-IDEMPOTENT"}) {
      const uint64_t n = first_fired.count(check) ? first_fired[check] : 0;
      marks.push_back(Mark(std::string("oracle-fires-") + check,
                           std::string(check) + " is the first check to catch a seeded mutant",
                           n > 0, fmt::format("first check on {} killed core mutants", n)));
    }
  }
  return marks;
}

// ---------------------------------------------------------------------------------------------

json Verdict(const json& report, const CampaignConfig& cfg, int* exit_code) {
  json proved = json::array();
  json held = json::array();
  json failures = json::array();
  for (const json& p : report["phases"]) {
    if (p["status"] == "failed" || p["status"] == "error") {
      failures.push_back(p["name"].get<std::string>() + ": " + p["reason"].get<std::string>());
    }
  }
  const json& explore = report["explore"];
  if (explore.is_object() && explore["totals"]["violations"] == 0 &&
      explore["totals"]["incomplete_points"] == 0) {
    proved.push_back({{"phase", "explore"},
                      {"subject",
                       "the production BTT core (btt/), every crash point and crash "
                       "state"},
                      {"bound", explore["bound"]["description"]},
                      {"configurations", explore["configurations"].size()}});
  }
  if (report["bmc"].is_object()) {
    for (const json& p : report["bmc"]["proofs"]) {
      if (p["verdict"] != "UNSAT") continue;
      proved.push_back(
          {{"phase", "bmc"},
           {"subject", "the BTT protocol (Z3 model), every interleaving and crash"},
           {"bound", fmt::format("{} lanes x {} ops x {} LBAs, nfree {}, {}", p["lanes"].get<int>(),
                                 p["ops_per_lane"].get<int>(), p["lbas"].get<int>(),
                                 p["nfree"].get<int>(), p["model"].get<std::string>())},
           {"configurations", 1}});
    }
  }
  const json& concurrent = report["concurrent"];
  if (concurrent.is_object() && concurrent["bound"]["complete"] == true &&
      concurrent["exhaustive"]["violations"] == 0 && concurrent["exhaustive"]["errors"] == 0) {
    proved.push_back({{"phase", "concurrent"},
                      {"subject",
                       "the production BTT core under interleaved lanes (linearizable, whole "
                       "sectors, clean check; no crash)"},
                      {"bound", concurrent["bound"]["description"]},
                      {"configurations", concurrent["bound"]["workloads"]}});
  }
  const json& deep = report["deep"];
  if (concurrent.is_object() && concurrent["sampled"]["runs"].get<uint64_t>() > 0) {
    held.push_back({{"phase", "concurrent"},
                    {"subject",
                     "the production BTT core under seeded PCT and random schedules beyond the "
                     "preemption bound (no crash)"},
                    {"runs", concurrent["sampled"]["runs"]},
                    {"violations", concurrent["sampled"]["violations"]}});
  }
  if (deep.is_object() && cfg.deep_runs > 0) {
    held.push_back({{"phase", "deep"},
                    {"subject", "the production BTT core on seeded random longer workloads"},
                    {"runs", deep["totals"]["runs"]},
                    {"violations", deep["totals"]["violations"]}});
  }
  uint64_t held_runs = 0;
  for (const json& h : held) held_runs += h["runs"].get<uint64_t>();
  const uint64_t violations = report["violations"].size();
  std::string status = "holds";
  *exit_code = 0;
  for (const json& p : report["phases"]) {
    if (p["status"] == "error") status = "error";
  }
  if (status != "error" && (violations > 0 || !failures.empty())) {
    status = violations > 0 ? "violation" : "evidence-failed";
  }
  if (status == "error") *exit_code = kExitUsage;
  if (status == "violation" || status == "evidence-failed") *exit_code = kExitViolation;
  std::string headline;
  if (status == "holds") {
    headline = fmt::format(
        "All evidence holds: proved to bound in {} checks, held on {} random "
        "runs, no violation.",
        proved.size(), held_runs);
  } else if (status == "violation") {
    headline = fmt::format(
        "VIOLATION: {} violation(s) found. See the violations section for the "
        "replay commands.",
        violations);
  } else if (status == "evidence-failed") {
    headline = "EVIDENCE DOES NOT HOLD: " + failures.front().get<std::string>();
  } else {
    headline = "ERROR: the campaign could not run: " + failures.front().get<std::string>();
  }
  return {{"status", status},          {"exit_code", *exit_code}, {"headline", headline},
          {"proved_to_bound", proved}, {"held_on_runs", held},    {"violations", violations},
          {"failures", failures}};
}

// Rough durations at budget 1 on one core of the reference machine, for the progress estimate.
std::vector<double> PhaseEstimates(const CampaignConfig& cfg) {
  const double explorations =
      static_cast<double>(harness::AllWorkloads(cfg.explore.lbas, cfg.explore.max_ops).size() *
                          cfg.explore.profiles.size() * cfg.explore.sector_sizes.size() *
                          cfg.explore.models.size() * cfg.explore.nfrees.size());
  double bmc = 5;
  for (const ProofSpec& p : cfg.proofs) {
    bmc += p.bound.lanes * p.bound.ops * p.bound.lbas >= 18 ? 60 : 3;
  }
  std::vector<double> estimates;
  for (const std::string& phase : cfg.phases) {
    if (phase == "medium") estimates.push_back(cfg.medium_programs * 0.004);
    if (phase == "explore") estimates.push_back(explorations * 0.003);
    if (phase == "deep") estimates.push_back(static_cast<double>(cfg.deep_runs) * 0.05);
    if (phase == "concurrent") {
      estimates.push_back(
          (cfg.concurrent_bound >= 2 ? 30.0 : 0.5) +
          static_cast<double>(cfg.concurrent_pct_seeds + cfg.concurrent_random_seeds) * 0.01);
    }
    if (phase == "paths") estimates.push_back(1);
    if (phase == "control") estimates.push_back(0.2);
    if (phase == "bmc") estimates.push_back(bmc);
    if (phase == "mutants") {
      estimates.push_back((cfg.kill_max_ops >= 3 ? 25 : 8) + cfg.property_cases * 0.1);
    }
    if (phase == "interop") estimates.push_back(2);
  }
  return estimates;
}

}  // namespace

int RunProve(const ProveOptions& options) {
  auto loaded = LoadConfig(options);
  if (!loaded.ok()) {
    std::fprintf(stderr, "tearproof prove: %s\n", loaded.status().message().c_str());
    return kExitUsage;
  }
  const auto& [config_json, cfg] = *loaded;
  // Fail on an unwritable output directory before spending minutes on the campaign.
  if (Status s = PrepareReportDirectory(options.out_dir); !s.ok()) {
    std::fprintf(stderr, "tearproof prove: %s\n", s.message().c_str());
    return kExitUsage;
  }
  // Traces of an earlier campaign in the same directory would be mistaken for this one's.
  std::error_code ignored;
  std::filesystem::remove_all(options.out_dir + "/traces", ignored);
  Progress progress(!options.quiet, cfg.phases, PhaseEstimates(cfg));
  Context ctx{options, cfg, progress, options.out_dir + "/traces"};
  const auto campaign_start = Clock::now();

  json report = {
      {"schema_version", kReportSchemaVersion},
      {"generator", GeneratorJson()},
      {"campaign",
       {{"seed", options.seed},
        {"budget", options.budget},
        {"command", options.command_line},
        {"config_file", options.config_path.empty() ? json(nullptr) : json(options.config_path)},
        {"config", config_json},
        {"seconds", 0.0}}},
      {"verdict", nullptr},
      {"phases", json::array()}};
  for (const std::string& phase : AllPhases()) report[phase] = nullptr;

  for (size_t i = 0; i < cfg.phases.size(); ++i) {
    const std::string& name = cfg.phases[i];
    const auto start = Clock::now();
    Outcome out;
    if (name == "medium") out = MediumPhase(ctx, i);
    if (name == "explore") out = ExplorePhase(ctx, i);
    if (name == "deep") out = DeepPhase(ctx, i);
    if (name == "concurrent") out = ConcurrentPhase(ctx, i);
    if (name == "paths") {
      ctx.progress.StartPhase(i, 1, "sweeps");
      PathsOutcome paths = RunRarePaths();
      out.status = paths.status;
      out.reason = paths.reason;
      out.lines = paths.lines;
      out.section = paths.section;
    }
    if (name == "control") out = ControlPhase(ctx, i);
    if (name == "bmc") out = BmcPhase(ctx, i);
    if (name == "mutants") out = MutantsPhase(ctx, i);
    if (name == "interop") {
      ctx.progress.StartPhase(i, kInteropChecks, "checks");
      InteropOutcome interop = RunInterop(
          options.seed,
          [&](uint64_t done, const std::string& item) { ctx.progress.Update(done, item); });
      out.status = interop.status;
      out.reason = interop.reason;
      out.lines = interop.lines;
      out.section = interop.section;
    }
    const double seconds = SecondsSince(start);
    progress.EndPhase(out.status);
    report[name] = out.section;
    report["phases"].push_back({{"name", name},
                                {"status", out.status},
                                {"reason", out.reason},
                                {"seconds", seconds},
                                {"summary", out.lines}});
  }
  for (const std::string& phase : AllPhases()) {
    if (!cfg.Runs(phase)) {
      report["phases"].push_back({{"name", phase},
                                  {"status", "skipped"},
                                  {"reason", "not selected (--phases or the config's phases)"},
                                  {"seconds", 0.0},
                                  {"summary", json::array()}});
    }
  }
  report["violations"] = ctx.violations;
  report["coverage"] = CoverageMarks(report);
  int exit_code = 0;
  report["verdict"] = Verdict(report, cfg, &exit_code);
  report["campaign"]["seconds"] = SecondsSince(campaign_start);

  const Status written = WriteReportFiles(report, options.out_dir);
  if (options.json) {
    std::printf("%s\n", report.dump(2).c_str());
  } else {
    std::printf("%s", RenderText(report).c_str());
  }
  if (!written.ok()) {
    std::fprintf(stderr, "tearproof prove: %s\n", written.message().c_str());
    return kExitUsage;
  }
  if (!options.json && !options.quiet) {
    std::printf("report: %s/index.html, %s/report.json, %s/report.md\n", options.out_dir.c_str(),
                options.out_dir.c_str(), options.out_dir.c_str());
  }
  return exit_code;
}

}  // namespace tearproof::tools
