// Test support: runs the cvc5 SMT solver (Debian package cvc5) on a formula, for the independent
// cross-check of the Z3 verdicts (model/cvc5_cross_check_test.cc, bmc_slow_test.cc).
//
// The formula is written to a file under `dir` and `cvc5 --lang=smt2 --tlimit=MS FILE` is run
// through the shell; its first output line is the verdict. Deterministic for a given formula.
#pragma once

#include <string>

#include "model/bmc.h"
#include "util/status.h"

namespace tearproof::model {

// kSat / kUnsat / kUnknown (cvc5's own "unknown" or its time limit). An error Status when cvc5
// cannot be run (not installed: scripts/install-deps.sh installs it) or prints something else.
Result<Verdict> RunCvc5(const std::string& smt2, const std::string& dir, double timeout_seconds);

}  // namespace tearproof::model
