// tearproof_bmc: a small driver for model/bmc.h until the `tearproof bmc` CLI exists.
//
//   tearproof_bmc --lanes 2 --lbas 3 --ops 3 --model word8 [--mutant NAME] [--json]
//       one bounded check; prints the verdict, times and formula size (JSON with --json,
//       including the decoded counterexample when SAT). Exit 0 = UNSAT, 1 = SAT, 2 = UNKNOWN,
//       3 = usage or internal error.
//   tearproof_bmc ... --witness roll-forward
//       coverage check: SAT (exit 1) = that state is reachable within the bound.
//   tearproof_bmc ... --smt2 FILE
//       writes the formula as an SMT-LIB2 benchmark (for another solver, e.g. cvc5) instead.
//   tearproof_bmc --table --model word8 --budget 600
//       iterative deepening over DefaultBoundLadder(); prints a Markdown table.
//   tearproof_bmc ... --trace-out DIR
//       on SAT, also writes the counterexample as a tearproof trace (model/trace_export.h) and
//       prints the `tearproof replay` command. The same source builds tearproof-bmc-mutants
//       (the mutant build, next to `tearproof`), which `tearproof bmc --trace-out` runs for a
//       model mutant whose counterpart is a core mutant.
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "model/bmc.h"
#include "model/trace_export.h"

namespace {

using tearproof::model::BmcOptions;

int Run(int argc, char** argv) {
  CLI::App app{"Z3 bounded model checks of the BTT protocol"};
  BmcOptions o;
  std::string model = "word8";
  std::string mutant = "none";
  bool json = false;
  bool table = false;
  bool writes_only = false;
  bool no_symmetry = false;
  bool no_recovery_crash = false;
  double budget = 600;
  app.add_option("--lanes", o.lanes, "lanes L");
  app.add_option("--lbas", o.lbas, "external LBAs N");
  app.add_option("--nfree", o.nfree, "free blocks F: 0 (= lanes) or lanes..8");
  app.add_option("--ops", o.ops_per_lane, "operations per lane k");
  app.add_option("--model", model, "persistency model: px86, word8, eadr");
  app.add_option("--mutant", mutant, "protocol mutant (none, no-data-persist, ...)");
  app.add_option("--timeout", o.timeout_seconds, "Z3 timeout in seconds (0 = none)");
  app.add_flag("--writes-only", writes_only, "every op is a write (no zero ops)");
  app.add_flag("--no-symmetry", no_symmetry, "disable canonical LBA labelling");
  app.add_flag("--no-recovery-crash", no_recovery_crash, "no crash inside recovery");
  std::string witness = "none";
  app.add_option("--witness", witness,
                 "coverage witness instead of the properties: roll-forward, torn-free-block, "
                 "same-lba-two-lanes, recovery-crash-cuts-roll, zero-visible");
  std::string smt2_path;
  app.add_option("--smt2", smt2_path,
                 "write the formula as an SMT-LIB2 benchmark to this file instead of solving");
  app.add_flag("--json", json, "print the result as JSON");
  std::string trace_out;
  app.add_option("--trace-out", trace_out,
                 "on SAT, write the counterexample as a tearproof trace into this directory");
  app.add_flag("--table", table, "iterative deepening, Markdown table");
  app.add_option("--budget", budget, "deepening budget in seconds");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 3;
  }
  auto pm = tearproof::model::ParsePersistencyModel(model);
  auto mu = tearproof::model::ParseMutant(mutant);
  if (!pm.ok() || !mu.ok()) {
    std::fprintf(stderr, "%s\n", (!pm.ok() ? pm.status() : mu.status()).ToString().c_str());
    return 3;
  }
  const auto mix =
      writes_only ? tearproof::model::OpMix::kWritesOnly : tearproof::model::OpMix::kWritesAndZeros;
  if (table) {
    tearproof::model::DeepenOptions d;
    d.model = *pm;
    d.mutant = *mu;
    d.op_mix = mix;
    d.budget_seconds = budget;
    auto rows = tearproof::model::RunDeepening(d);
    if (!rows.ok()) {
      std::fprintf(stderr, "%s\n", rows.status().ToString().c_str());
      return 3;
    }
    std::printf("%s", tearproof::model::DeepenTableMarkdown(d, *rows).c_str());
    return 0;
  }
  o.model = *pm;
  o.mutant = *mu;
  o.op_mix = mix;
  for (int w = 0; w <= static_cast<int>(tearproof::model::Witness::kZeroVisible); ++w) {
    const auto candidate = static_cast<tearproof::model::Witness>(w);
    if (witness == tearproof::model::WitnessName(candidate)) o.witness = candidate;
  }
  if (witness != tearproof::model::WitnessName(o.witness)) {
    std::fprintf(stderr, "unknown witness '%s'\n", witness.c_str());
    return 3;
  }
  o.symmetry_breaking = !no_symmetry;
  o.crash_during_recovery = !no_recovery_crash;
  if (!smt2_path.empty()) {
    auto formula = tearproof::model::BmcFormulaSmtLib2(o);
    std::FILE* f = formula.ok() ? std::fopen(smt2_path.c_str(), "w") : nullptr;
    if (f == nullptr || std::fputs(formula->c_str(), f) < 0 || std::fclose(f) != 0) {
      std::fprintf(stderr, "%s\n",
                   formula.ok() ? ("cannot write " + smt2_path).c_str()
                                : formula.status().ToString().c_str());
      return 3;
    }
    return 0;
  }
  auto r = tearproof::model::RunBmc(o);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    return 3;
  }
  if (json) {
    std::printf("%s\n", tearproof::model::BmcResultToJson(*r).c_str());
  } else {
    std::printf(
        "%s lanes=%d lbas=%d nfree=%d ops=%d model=%s mutant=%s: z3 %.2fs encode %.2fs "
        "assertions=%llu variables=%llu nodes=%llu\n",
        tearproof::model::VerdictName(r->verdict), o.lanes, o.lbas, r->options.nfree,
        o.ops_per_lane, model.c_str(), mutant.c_str(), r->solve_seconds, r->encode_seconds,
        static_cast<unsigned long long>(r->assertions),
        static_cast<unsigned long long>(r->variables),
        static_cast<unsigned long long>(r->formula_nodes));
    if (r->counterexample) {
      for (const auto& v : r->counterexample->violations) {
        std::printf("  violated %s: %s\n", v.property.c_str(), v.message.c_str());
      }
    }
  }
  if (!trace_out.empty() && r->verdict == tearproof::model::Verdict::kSat) {
    auto path = tearproof::model::WriteBmcTrace(*r, trace_out);
    if (!path.ok()) {
      std::fflush(stdout);  // the reason is the last line when both streams are read together
      std::fprintf(stderr, "trace export failed: %s\n", path.status().ToString().c_str());
      return 3;
    }
    std::fprintf(json ? stderr : stdout, "trace: %s\nreplay: tearproof replay %s\n", path->c_str(),
                 path->c_str());
  }
  switch (r->verdict) {
    case tearproof::model::Verdict::kUnsat:
      return 0;
    case tearproof::model::Verdict::kSat:
      return 1;
    case tearproof::model::Verdict::kUnknown:
      return 2;
  }
  return 3;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
