#include "traces/minimize.h"

#include <fmt/core.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "harness/matrix.h"
#include "traces/format_round_trip.h"
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

// A list with [begin, end) removed.
template <typename T>
std::vector<T> Without(const std::vector<T>& list, size_t begin, size_t end) {
  std::vector<T> out(list.begin(), list.begin() + static_cast<ptrdiff_t>(begin));
  out.insert(out.end(), list.begin() + static_cast<ptrdiff_t>(end), list.end());
  return out;
}

// The [begin, end) chunks of a list of n elements to try dropping, halves first, then quarters,
// ..., then single elements (ddmin's order); a list of one element is dropped whole.
std::vector<std::pair<size_t, size_t>> ChunksToDrop(size_t n) {
  std::vector<std::pair<size_t, size_t>> chunks;
  for (size_t chunk = std::max<size_t>(n / 2, 1); n > 0; chunk /= 2) {
    for (size_t begin = 0; begin < n; begin += chunk) {
      chunks.emplace_back(begin, std::min(n, begin + chunk));
    }
    if (chunk == 1) break;
  }
  return chunks;
}

// "drop op 3 (w0)", "drop ops 0-3".
std::string DropStep(const std::string& what, size_t begin, size_t end, const std::string& one) {
  return end - begin == 1
             ? "drop " + what + " " + std::to_string(begin) + " (" + one + ")"
             : "drop " + what + "s " + std::to_string(begin) + "-" + std::to_string(end - 1);
}

void DropChunks(const ExploreConfig& base, std::vector<WorkloadOp> ExploreConfig::*list,
                const std::string& what, std::vector<Candidate>* out) {
  const std::vector<WorkloadOp>& ops = base.*list;
  for (const auto& [begin, end] : ChunksToDrop(ops.size())) {
    Candidate c{base, DropStep(what, begin, end, harness::WorkloadToString({ops[begin]}))};
    c.config.*list = Without(ops, begin, end);
    out->push_back(std::move(c));
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
  // Then judge fewer LBAs after the crash: none, then one fewer (a violation may sit on an LBA
  // that only ExploreConfig::track_lbas has the oracle judge).
  if (base.track_lbas != 0) {
    for (uint32_t tracked : {0u, base.track_lbas - 1}) {
      Candidate c{
          base, "track_lbas " + std::to_string(base.track_lbas) + " -> " + std::to_string(tracked)};
      c.config.track_lbas = tracked;
      out.push_back(std::move(c));
      if (tracked == base.track_lbas - 1) break;
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

// --- Bad-input traces ---------------------------------------------------------------------------

struct BadInputCandidate {
  BadInputCase c;
  std::string step;
};

// Fewer workload ops (and, for a round trip, fewer ops of its second history), fewer patches,
// fewer bytes per patch. The geometry stays: the patches' offsets mean something only in it.
std::vector<BadInputCandidate> BadInputShrinks(const BadInputCase& base) {
  std::vector<BadInputCandidate> out;
  for (auto [list, what] : {std::pair{&BadInputCase::ops, "op"},
                            std::pair{&BadInputCase::after_ops, "second-history op"}}) {
    const std::vector<properties::Op>& ops = base.*list;
    for (const auto& [begin, end] : ChunksToDrop(ops.size())) {
      BadInputCandidate c{base, DropStep(what, begin, end, properties::ToString(ops[begin]))};
      c.c.*list = Without(ops, begin, end);
      NumberBadInputWrites(c.c);
      out.push_back(std::move(c));
    }
  }
  // Every patch at once first: a round trip's layout rewrite is several patches that only
  // together are a rewrite (a part of it cannot run), so halves never remove it.
  if (base.patches.size() > 1) {
    BadInputCandidate c{base, fmt::format("drop every patch ({})", base.patches.size())};
    c.c.patches.clear();
    out.push_back(std::move(c));
  }
  for (const auto& [begin, end] : ChunksToDrop(base.patches.size())) {
    BadInputCandidate c{base, DropStep("patch", begin, end,
                                       fmt::format("0x{:x}+{}", base.patches[begin].offset,
                                                   base.patches[begin].bytes.size()))};
    c.c.patches = Without(base.patches, begin, end);
    out.push_back(std::move(c));
  }
  // One byte fewer: the byte keeps its value from before the corruption. Dropping an inner byte
  // splits the patch in two.
  for (size_t i = 0; i < base.patches.size(); ++i) {
    const BytePatch& p = base.patches[i];
    for (size_t k = 0; k < p.bytes.size() && p.bytes.size() > 1; ++k) {
      BadInputCandidate c{base, fmt::format("patch 0x{:x}+{}: leave byte 0x{:x} alone", p.offset,
                                            p.bytes.size(), p.offset + k)};
      BytePatch head{p.offset, {p.bytes.begin(), p.bytes.begin() + static_cast<ptrdiff_t>(k)}};
      BytePatch tail{p.offset + k + 1,
                     {p.bytes.begin() + static_cast<ptrdiff_t>(k) + 1, p.bytes.end()}};
      std::vector<BytePatch>& patches = c.c.patches;
      patches.erase(patches.begin() + static_cast<ptrdiff_t>(i));
      auto at = patches.begin() + static_cast<ptrdiff_t>(i);
      if (!tail.bytes.empty()) at = patches.insert(at, std::move(tail));
      if (!head.bytes.empty()) patches.insert(at, std::move(head));
      out.push_back(std::move(c));
    }
  }
  return out;
}

Result<Trace> MinimizeBadInput(const Trace& trace, const MinimizeOptions& options,
                               MinimizeStats* stats) {
  TP_ASSIGN_OR_RETURN(const btt::Mutant mutant, harness::MutantByName(trace.mutant));
  // The violation of `c`, when it is the trace's check. A candidate that is no longer a round
  // trip (a byte of a flog slot's move left alone) cannot run and is not kept.
  auto same_check = [&](const BadInputCase& c) -> std::optional<properties::Violation> {
    ++stats->candidates;
    auto run = trace.kind == TraceKind::kFormatRoundTrip ? RunFormatRoundTrip(c, nullptr, mutant)
                                                         : RunBadInputCase(c, nullptr, mutant);
    if (!run.ok() || !run->violation || run->violation->check != trace.expect.check) {
      return std::nullopt;
    }
    return run->violation;
  };
  Trace best = trace;
  for (bool changed = true; changed && stats->candidates < options.max_candidates;) {
    changed = false;
    for (const BadInputCandidate& c : BadInputShrinks(best.bad_input)) {
      if (stats->candidates >= options.max_candidates) break;
      if (auto v = same_check(c.c)) {
        best.bad_input = c.c;
        best.expect.detail = v->detail;
        stats->steps.push_back(c.step);
        changed = true;
        break;
      }
    }
  }
  best.tool_commit = ToolCommit();
  return best;
}

// The moves of a concurrent trace: drop a lane, drop chunks of a lane's ops (a lane keeps one),
// drop chunks of the setup.
std::vector<std::pair<ConcurrentTraceRun, std::string>> ConcurrentShrinks(
    const ConcurrentTraceRun& r) {
  std::vector<std::pair<ConcurrentTraceRun, std::string>> out;
  if (r.lanes.size() > 1) {
    for (size_t lane = 0; lane < r.lanes.size(); ++lane) {
      ConcurrentTraceRun c = r;
      c.lanes = Without(r.lanes, lane, lane + 1);
      out.emplace_back(std::move(c), fmt::format("drop lane {} ({})", lane,
                                                 harness::WorkloadToString(r.lanes[lane])));
    }
  }
  for (size_t lane = 0; lane < r.lanes.size(); ++lane) {
    for (const auto& [begin, end] : ChunksToDrop(r.lanes[lane].size())) {
      if (end - begin == r.lanes[lane].size()) continue;  // dropping a lane is the move above
      ConcurrentTraceRun c = r;
      c.lanes[lane] = Without(r.lanes[lane], begin, end);
      const std::vector<WorkloadOp> dropped(r.lanes[lane].begin() + static_cast<ptrdiff_t>(begin),
                                            r.lanes[lane].begin() + static_cast<ptrdiff_t>(end));
      out.emplace_back(std::move(c), fmt::format("drop lane {} ops {}-{} ({})", lane, begin,
                                                 end - 1, harness::WorkloadToString(dropped)));
    }
  }
  for (const auto& [begin, end] : ChunksToDrop(r.setup.size())) {
    ConcurrentTraceRun c = r;
    c.setup = Without(r.setup, begin, end);
    out.emplace_back(std::move(c), fmt::format("drop setup ops {}-{}", begin, end - 1));
  }
  return out;
}

// Each candidate changes the run, so its schedule is found anew: the exhaustive search of the
// candidate within the trace's preemptions (as replay.h falls back to), stopped at the first
// violation, kept when that violation is the trace's check.
Result<Trace> MinimizeConcurrent(const Trace& trace, const MinimizeOptions& options,
                                 MinimizeStats* stats) {
  TP_ASSIGN_OR_RETURN(const btt::Mutant mutant, harness::MutantByName(trace.mutant));
  const harness::ConcurrentSearchOptions search = ConcurrentTraceSearch(trace, mutant);
  Trace best = trace;
  for (bool changed = true; changed && stats->candidates < options.max_candidates;) {
    changed = false;
    for (const auto& [candidate, step] : ConcurrentShrinks(best.concurrent)) {
      if (stats->candidates >= options.max_candidates) break;
      ++stats->candidates;
      const std::vector<harness::ConcurrentWorkload> w = {candidate.Workload()};
      auto found = harness::SearchConcurrent(w, search);
      if (!found.ok() || found->violation_check != trace.expect.check) continue;
      TP_ASSIGN_OR_RETURN(Trace smaller, TraceFromConcurrentViolation(*found, w, mutant));
      smaller.mutant = trace.mutant;
      best = std::move(smaller);
      stats->steps.push_back(step);
      changed = true;
      break;
    }
  }
  best.tool_commit = ToolCommit();
  return best;
}

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
  if (trace.kind == TraceKind::kConcurrent) return MinimizeConcurrent(trace, options, stats);
  if (trace.kind != TraceKind::kCrash) return MinimizeBadInput(trace, options, stats);
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
