#include "model/cvc5_runner.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>

#include "fmt/format.h"

namespace tearproof::model {

Result<Verdict> RunCvc5(const std::string& smt2, const std::string& dir, double timeout_seconds) {
  // One file per process and formula, so concurrent test processes never share one.
  const std::string path = fmt::format("{}/tearproof_cvc5_{}_{:016x}.smt2", dir, ::getpid(),
                                       std::hash<std::string>{}(smt2));
  {
    std::ofstream out(path, std::ios::trunc);
    out << smt2;
    if (!out.good()) return IoError("cannot write " + path);
  }
  const std::string command = fmt::format("cvc5 --lang=smt2 --tlimit={} '{}' 2>&1",
                                          static_cast<long>(timeout_seconds * 1000), path);
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return IoError("cannot run: " + command);
  std::string output;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int status = pclose(pipe);
  std::remove(path.c_str());
  const std::string first = output.substr(0, output.find('\n'));
  if (first == "sat") return Verdict::kSat;
  if (first == "unsat") return Verdict::kUnsat;
  if (first == "unknown" || output.find("interrupted by timeout") != std::string::npos) {
    return Verdict::kUnknown;
  }
  return IoError(
      fmt::format("cvc5 (exit status {}) printed '{}'; is the Debian package cvc5 installed "
                  "(scripts/install-deps.sh)?",
                  status, output.substr(0, 300)));
}

}  // namespace tearproof::model
