// The `paths` phase of `tearproof prove` (docs/report.md): rare BTT paths, each driven on the
// simulated medium and crashed before every medium store, flush and fence of the driving action
// (the guaranteed crash state at each point: what is surely persisted, no other resolution).
// Every crash state is reopened read-write and judged: open succeeds, LBA 0 reads one whole
// sector the action could have left (or the media error the E flag promises), Btt::Check is
// clean. The counters the coverage marks need are measured here, never assumed:
//   - roll-forward: a write crashed at every point; states whose open rolled a map entry
//     forward (btt::OpenReport::lanes_rolled_forward);
//   - error-flag: SetError then Write; states that read kMediaError;
//   - backup-info-fallback: a primary info block made invalid, then open (which restores it) and
//     a write; states whose open fell back to the backup (OpenReport::primaries_from_backup);
//   - flog-layout-0-2: a pre-4.15 (0,2) flog image (slot 1 moved to slot 2, as the old kernel
//     wrote it), then two writes; states detected as (0,2) (Btt::FlogIndices).
// Deterministic; each sweep takes well under a second.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tearproof::tools {

struct PathsOutcome {
  std::string status = "passed";  // passed | failed | error
  std::string reason;
  std::vector<std::string> lines;
  nlohmann::json section;  // {"checks": [{name, path, states, counter, counted, problem}]}
};

PathsOutcome RunRarePaths();

}  // namespace tearproof::tools
