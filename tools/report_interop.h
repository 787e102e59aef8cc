// The interop phase of `tearproof prove`: other implementations read what tearproof wrote, and
// tearproof reads what they wrote, on real files.
//
// Checks (docs/report.md, "interop"):
//   libpmemblk-to-tearproof  a pool written by PMDK's libpmemblk reads identically in tearproof
//   tearproof-to-pmempool    a pmemblk pool written by tearproof is consistent for `pmempool
//                            check` and reads identically through libpmemblk
//   linux-to-ndctl           `ndctl read-infoblock` accepts a linux-profile image (BTT 1.1 at
//                            4 KiB) with the geometry tearproof wrote
//   uefi-to-ndctl            the same for a uefi-profile image (BTT 2.0 at 0)
// A check whose tool is not installed is skipped with the reason, never passed. Files live in a
// fresh directory under /tmp, removed afterwards. Deterministic apart from the tools' own output:
// the UUIDs and data come from the seed.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tearproof::tools {

inline constexpr uint64_t kInteropChecks = 4;

struct InteropOutcome {
  std::string status;  // passed | failed | skipped | error
  std::string reason;
  std::vector<std::string> lines;
  nlohmann::json section;  // {"checks": [...]}
};

// progress(done, item) after each check.
InteropOutcome RunInterop(uint64_t seed,
                          const std::function<void(uint64_t, const std::string&)>& progress);

}  // namespace tearproof::tools
