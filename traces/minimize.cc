#include "traces/minimize.h"

#include <fmt/core.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "harness/matrix.h"
#include "traces/replay.h"

namespace tearproof::traces {
namespace {

using harness::ExploreConfig;
using harness::WorkloadOp;

// A shrinking move: a smaller configuration and the words that say what it did.
struct Candidate {
  ExploreConfig config;
  std::string step;
};

// The ops of a list with [begin, end) removed.
std::vector<WorkloadOp> Without(const std::vector<WorkloadOp>& ops, size_t begin, size_t end) {
  std::vector<WorkloadOp> out(ops.begin(), ops.begin() + begin);
  out.insert(out.end(), ops.begin() + end, ops.end());
  return out;
}

// Chunks of `ops` to drop, halves first, then quarters, ..., then single ops (ddmin's order).
void DropChunks(const ExploreConfig& base, std::vector<WorkloadOp> ExploreConfig::*list,
                const std::string& what, std::vector<Candidate>* out) {
  const std::vector<WorkloadOp>& ops = base.*list;
  for (size_t chunk = ops.size() / 2; chunk >= 1; chunk /= 2) {
    for (size_t begin = 0; begin < ops.size(); begin += chunk) {
      const size_t end = std::min(ops.size(), begin + chunk);
      Candidate c{base, ""};
      c.config.*list = Without(ops, begin, end);
      c.step = end - begin == 1
                   ? "drop " + what + " " + std::to_string(begin) + " (" +
                         harness::WorkloadToString({ops[begin]}) + ")"
                   : "drop " + what + "s " + std::to_string(begin) + "-" + std::to_string(end - 1);
      out->push_back(std::move(c));
    }
    if (chunk == 1) break;
  }
}

// Every op list of a configuration, for rewriting LBAs.
void ForEachOp(ExploreConfig& config, const std::function<void(WorkloadOp&)>& f) {
  for (WorkloadOp& op : config.setup_ops) f(op);
  for (WorkloadOp& op : config.ops) f(op);
  for (auto& lane : config.other_lanes) {
    for (WorkloadOp& op : lane) f(op);
  }
}

std::vector<Candidate> Shrinks(const ExploreConfig& base) {
  std::vector<Candidate> out;
  // 1. Lanes.
  for (size_t i = 0; i < base.other_lanes.size(); ++i) {
    Candidate c{base, "drop lane " + std::to_string(i + 1)};
    c.config.other_lanes.erase(c.config.other_lanes.begin() + static_cast<ptrdiff_t>(i));
    c.config.schedule.clear();  // the schedule of other lanes means nothing any more
    out.push_back(std::move(c));
  }
  // 2. Ops.
  DropChunks(base, &ExploreConfig::ops, "op", &out);
  DropChunks(base, &ExploreConfig::setup_ops, "setup op", &out);
  // 3. LBAs: first renumber densely in order of first use, then merge pairs.
  std::map<uint64_t, uint64_t> dense;
  ExploreConfig copy = base;
  ForEachOp(copy, [&](WorkloadOp& op) { dense.emplace(op.lba, dense.size()); });
  bool renumbers = false;
  for (const auto& [from, to] : dense) renumbers |= from != to;
  if (renumbers) {
    Candidate c{base, "renumber the LBAs 0.." + std::to_string(dense.size() - 1)};
    ForEachOp(c.config, [&](WorkloadOp& op) { op.lba = dense.at(op.lba); });
    out.push_back(std::move(c));
  }
  for (auto a = dense.begin(); a != dense.end(); ++a) {
    for (auto b = std::next(a); b != dense.end(); ++b) {
      Candidate c{
          base, "merge lba " + std::to_string(b->first) + " into lba " + std::to_string(a->first)};
      ForEachOp(c.config, [&](WorkloadOp& op) {
        if (op.lba == b->first) op.lba = a->first;
      });
      out.push_back(std::move(c));
    }
  }
  // 4. Geometry.
  if (base.external_lbasize > 512) {
    Candidate c{base, "sectors of " + std::to_string(base.external_lbasize) + " -> 512 bytes"};
    c.config.external_lbasize = 512;
    out.push_back(std::move(c));
  }
  if (base.device == harness::Device::kBtt) {
    for (uint32_t nfree : {1u, base.nfree - 1}) {
      if (nfree >= 1 && nfree < base.nfree) {
        Candidate c{base, "nfree " + std::to_string(base.nfree) + " -> " + std::to_string(nfree)};
        c.config.nfree = nfree;
        out.push_back(std::move(c));
        if (nfree == base.nfree - 1) break;
      }
    }
  }
  return out;
}

class Minimizer {
 public:
  Minimizer(const MinimizeOptions& options, MinimizeStats* stats)
      : options_(options), stats_(stats) {}

  bool Exhausted() const { return stats_->candidates >= options_.max_candidates; }

  // The first violation of `check` when exploring `config` from scratch, as a trace.
  std::optional<Trace> Explore(const Trace& base, const ExploreConfig& config) {
    ++stats_->candidates;
    ExploreConfig run = config;
    auto mutant = harness::MutantByName(base.mutant);
    if (!mutant.ok()) return std::nullopt;
    run.mutant = *mutant;
    run.only_check = base.expect.check;
    run.max_states_per_point = std::min(run.max_states_per_point, options_.max_states_per_point);
    run.stop_at_first_violation = true;
    run.target.reset();
    // Re-explored from scratch, a candidate is sized afresh: fewer LBAs or free blocks fit a
    // smaller medium, whatever size the trace being minimized was recorded on.
    run.medium_size = 0;
    auto result = harness::Explore(run);
    // A workload the device refuses (e.g. an LBA past a smaller geometry) is no candidate.
    if (!result.ok() || result->violations.empty()) return std::nullopt;
    Trace t = TraceFromViolation(run, result->violations.front());
    t.seed = base.seed;
    return t;
  }

  // The trace with `resolution`, if its replay still shows the check (with the actual choices).
  std::optional<Trace> Replay(const Trace& base, std::vector<harness::Choice> resolution) {
    ++stats_->candidates;
    Trace t = base;
    t.resolution = std::move(resolution);
    auto replayed = traces::Replay(t);
    if (!replayed.ok() || !replayed->matches_expectation) return std::nullopt;
    t.resolution = replayed->resolution;
    t.expect.detail = replayed->Expected(t)->detail;
    return t;
  }

  void Step(std::string step) { stats_->steps.push_back(std::move(step)); }

 private:
  const MinimizeOptions& options_;
  MinimizeStats* stats_;
};

}  // namespace

Result<Trace> Minimize(const Trace& trace, const MinimizeOptions& options, MinimizeStats* stats) {
  MinimizeStats local;
  if (stats == nullptr) stats = &local;
  if (!trace.expect.violation) {
    return InvalidArgument("the trace expects a pass: only a failing trace can be minimized");
  }
  TP_ASSIGN_OR_RETURN(ReplayResult first, Replay(trace));
  if (!first.matches_expectation) {
    return InvalidArgument("the trace does not reproduce " + trace.expect.check +
                           ": nothing to minimize");
  }
  Minimizer m(options, stats);
  Trace best = trace;
  best.resolution = first.resolution;
  best.expect.detail = first.Expected(trace)->detail;

  // Steps 1-4: restart from every smaller trace until no move is kept.
  for (bool changed = true; changed && !m.Exhausted();) {
    changed = false;
    for (const Candidate& c : Shrinks(best.config)) {
      if (m.Exhausted()) break;
      if (auto smaller = m.Explore(best, c.config)) {
        best = std::move(*smaller);
        m.Step(c.step);
        changed = true;
        break;
      }
    }
  }
  // Step 5: un-persist words, last read first (later reads depend on earlier ones).
  for (bool changed = true; changed && !m.Exhausted();) {
    changed = false;
    for (size_t i = best.resolution.size(); i-- > 0 && !m.Exhausted();) {
      if (best.resolution[i].index == 0) continue;
      std::vector<harness::Choice> fewer = best.resolution;
      fewer[i].index = 0;
      if (auto smaller = m.Replay(best, fewer)) {
        m.Step(fmt::format("word 0x{:x} not persisted", best.resolution[i].word_addr));
        best = std::move(*smaller);
        changed = true;
        break;
      }
    }
  }
  best.tool_commit = ToolCommit();
  return best;
}

}  // namespace tearproof::traces
