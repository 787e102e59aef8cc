// Running the external programs of the campaign (pmempool, ndctl, tearproof-kill-matrix) without
// a shell: argv is passed as is, so no path or name is ever parsed by sh.
//
// Contract: RunProcess returns the exit status and the captured stdout (stderr is captured into
// `output` too when `merge_stderr`). A program that is not installed is NotFound (so the caller
// can report the phase as skipped, not failed); a program killed by a signal is an IoError.
// Blocking; thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace tearproof::tools {

struct ProcessResult {
  int exit_code = 0;
  std::string output;
};

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, bool merge_stderr);

// "tearproof prove --seed 3 --out 'my dir'": argv as a shell command line (argv[0] shown as
// "tearproof"), each argument quoted where a shell would split or expand it.
std::string ShellQuotedCommand(int argc, char** argv);

// The directory holding the running executable (from /proc/self/exe), for sibling binaries.
Result<std::string> SelfDirectory();

}  // namespace tearproof::tools
