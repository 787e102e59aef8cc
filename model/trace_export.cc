// Counterexample -> trace (trace_export.h). docs/model.md §5 is the mapping this file implements.
#include "model/trace_export.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "harness/matrix.h"
#include "traces/replay.h"

namespace tearproof::model {
namespace {

// Replays per converted trace before the converter gives up: a bound on the probing loop (each
// word read costs at most one replay per candidate, and a choice can change which words later
// reads touch, so the loop restarts after every new choice).
constexpr int kMaxReplays = 4000;

// What a medium word belongs to, in the model's terms.
enum class WordKind { kData, kFlogA, kFlogB, kMap, kOther };

// The explorer names every BTT address by its structure (harness/explorer.cc RegionNamer: "data
// block 7 word 2", "flog lane 0 slot 1 half B", "map entries of premap 0-1"); the plain-pmem
// control has no names and holds nothing but sectors.
WordKind KindOfWord(const traces::Trace& trace, const std::string& region) {
  if (trace.config.device == harness::Device::kPlainPmem) return WordKind::kData;
  if (region.find("data block ") != std::string::npos) return WordKind::kData;
  if (region.find("map entries ") != std::string::npos) return WordKind::kMap;
  if (region.find("flog lane ") != std::string::npos) {
    return region.ends_with("half A") ? WordKind::kFlogA : WordKind::kFlogB;
  }
  return WordKind::kOther;
}

// The location prefix and part of the model store that corresponds to a core word: a data word
// (word 0 of the sector is model word 0, every other word is model word 1: a torn model block is
// word 0 from one write and the rest from another), a flog half (1:1) or a map entry (two
// entries share a word; either op's entry store).
struct ModelStore {
  std::string prefix;  // "data[", "flog[", "map["
  int part = -1;       // data word or flog half; -1 = any
};
std::optional<ModelStore> ModelStoreOf(WordKind kind, uint64_t word_in_sector) {
  switch (kind) {
    case WordKind::kData:
      return ModelStore{"data[", word_in_sector == 0 ? 0 : 1};
    case WordKind::kFlogA:
      return ModelStore{"flog[", 0};
    case WordKind::kFlogB:
      return ModelStore{"flog[", 1};
    case WordKind::kMap:
      return ModelStore{"map[", -1};
    case WordKind::kOther:
      return std::nullopt;
  }
  return std::nullopt;
}

// Whether the model persisted the store of op (lane, index) to that kind of location. Stores
// after the model's crash (after_crash) never persisted.
bool ModelPersisted(const Counterexample& cex, int lane, int index, const ModelStore& store) {
  for (const CexStep& s : cex.schedule) {
    if (!s.is_store || s.lane != lane || s.op != index) continue;
    if (!s.location.starts_with(store.prefix)) continue;
    if (store.part >= 0 && s.part != store.part) continue;
    if (s.persisted) return true;
  }
  return false;
}

// Maps the explorer's op numbering (index into CrashTimeline::ops, the workload in execution
// order) back to the model's (lane, index in lane).
using ModelOp = std::pair<int, int>;

// One forced replay of the trace at its crash point with `resolution`.
class Prober {
 public:
  Prober(const traces::Trace& trace, const Counterexample& cex, std::vector<ModelOp> model_ops)
      : trace_(trace), cex_(cex), model_ops_(std::move(model_ops)) {}

  Result<traces::ReplayResult> Run(const std::map<uint64_t, harness::Choice>& decided) {
    if (++replays_ > kMaxReplays) {
      return InternalError("trace export: more than " + std::to_string(kMaxReplays) + " replays");
    }
    traces::Trace t = trace_;
    t.resolution.clear();
    for (const auto& [addr, choice] : decided) t.resolution.push_back(choice);
    TP_ASSIGN_OR_RETURN(traces::ReplayResult r, traces::Replay(t));
    if (!r.timeline.reached) {
      return Unsupported(fmt::format(
          "trace export: the mapped run has {} crash points, the counterexample crashes at {}",
          r.timeline.crash_points_total, trace_.crash_point));
    }
    return r;
  }

  // The model op that stored the value word `addr` holds in `r`, with the word's index in the
  // store (its sector word, for data), or nullopt when it holds its guaranteed value.
  std::optional<std::pair<ModelOp, uint64_t>> SourceOf(const traces::ReplayResult& r,
                                                       uint64_t addr) const {
    for (const auto& w : r.timeline.words) {
      if (w.choice.word_addr != addr) continue;
      if (w.store_op < 0 || static_cast<size_t>(w.store_op) >= model_ops_.size()) {
        return std::nullopt;
      }
      uint64_t word_in_store = 0;
      for (const auto& p : r.timeline.pending) {
        if (static_cast<int64_t>(p.event.seq) == w.store_event && addr >= p.event.addr) {
          word_in_store = (addr - p.event.addr) / 8;
        }
      }
      return std::make_pair(model_ops_[w.store_op], word_in_store);
    }
    return std::nullopt;
  }

  // True when candidate `source` of a word of `kind` is a store the model persisted.
  bool Wanted(WordKind kind, const std::optional<std::pair<ModelOp, uint64_t>>& source) const {
    if (!source) return false;
    const auto store = ModelStoreOf(kind, source->second);
    return store && ModelPersisted(cex_, source->first.first, source->first.second, *store);
  }

  int replays() const { return replays_; }

 private:
  const traces::Trace& trace_;
  const Counterexample& cex_;
  std::vector<ModelOp> model_ops_;
  int replays_ = 0;
};

// The pending stores that overlap word `addr`, by seq: under word8 a word's candidates are its
// guaranteed value and the values these stores left, so two words with the same overlapping
// stores and the same candidate count have the same candidate sources.
std::vector<uint64_t> OverlappingStores(const harness::CrashTimeline& t, uint64_t addr) {
  std::vector<uint64_t> seqs;
  for (const auto& p : t.pending) {
    if (p.event.addr < addr + 8 && p.event.addr + p.event.data.size() > addr) {
      seqs.push_back(p.event.seq);
    }
  }
  return seqs;
}

// Fills trace->resolution (see the file comment of trace_export.h). Returns the number of
// words forced to a candidate other than their guaranteed value.
Result<int> MapResolution(traces::Trace* trace, const Counterexample& cex,
                          std::vector<ModelOp> model_ops) {
  Prober prober(*trace, cex, std::move(model_ops));
  std::map<uint64_t, harness::Choice> decided;  // by word address
  // word8 cache: (overlapping stores, count) -> the candidate sources, index by index.
  using Sources = std::vector<std::optional<std::pair<ModelOp, uint64_t>>>;
  std::map<std::pair<std::vector<uint64_t>, uint32_t>, Sources> cache;
  const bool cacheable = trace->config.model == sim::PersistencyModel::kWord8;
  for (;;) {
    TP_ASSIGN_OR_RETURN(traces::ReplayResult r, prober.Run(decided));
    const harness::CrashTimeline::ResolvedWord* next = nullptr;
    for (const auto& w : r.timeline.words) {
      if (!decided.contains(w.choice.word_addr)) {
        next = &w;
        break;
      }
    }
    if (next == nullptr) {
      trace->resolution = r.resolution;  // the choices in read order
      trace->op_in_flight = r.timeline.op_in_flight;
      int forced = 0;
      for (const auto& c : trace->resolution) forced += c.index != 0;
      return forced;
    }
    const uint64_t addr = next->choice.word_addr;
    const uint32_t count = next->choice.candidate_count;
    const WordKind kind = KindOfWord(*trace, next->region);
    uint32_t best = 0;
    if (kind != WordKind::kOther) {
      const auto key = std::make_pair(OverlappingStores(r.timeline, addr), count);
      Sources sources;
      if (const auto it = cache.find(key); cacheable && it != cache.end()) {
        sources = it->second;
        // Same stores, same sources; only the word's own position in the store (its sector
        // word) differs, and that comes from this word's address.
        for (auto& s : sources) {
          if (!s) continue;
          for (const auto& p : r.timeline.pending) {
            if (addr >= p.event.addr && addr < p.event.addr + p.event.data.size()) {
              s->second = (addr - p.event.addr) / 8;
            }
          }
        }
      } else {
        sources.resize(count);
        for (uint32_t j = 1; j < count; ++j) {
          auto probe = decided;
          probe[addr] = harness::Choice{addr, count, j};
          TP_ASSIGN_OR_RETURN(traces::ReplayResult pr, prober.Run(probe));
          sources[j] = prober.SourceOf(pr, addr);
        }
        if (cacheable) cache[key] = sources;
      }
      // The latest candidate (candidates are in store order) whose store the model persisted.
      for (uint32_t j = 1; j < count; ++j) {
        if (prober.Wanted(kind, sources[j])) best = j;
      }
    }
    decided[addr] = harness::Choice{addr, count, best};
  }
}

// The workload of the trace: lane 0's ops in `ops`, lane l's in other_lanes[l - 1] (each in
// program order), and who each is in the explorer's numbering (lane by lane).
struct Workload {
  std::vector<harness::WorkloadOp> ops;
  std::vector<std::vector<harness::WorkloadOp>> other_lanes;
  std::vector<ModelOp> model_ops;
};

Workload WorkloadOf(const Counterexample& cex) {
  std::vector<CexOp> ops = cex.ops;
  std::sort(ops.begin(), ops.end(), [](const CexOp& a, const CexOp& b) {
    return std::make_pair(a.lane, a.index) < std::make_pair(b.lane, b.index);
  });
  Workload w;
  for (const CexOp& op : ops) {
    harness::WorkloadOp o;
    o.kind =
        op.kind == "zero" ? harness::WorkloadOp::Kind::kZero : harness::WorkloadOp::Kind::kWrite;
    o.lba = static_cast<uint64_t>(op.lba);
    if (op.lane == 0) {
      w.ops.push_back(o);
    } else {
      w.other_lanes.resize(static_cast<size_t>(op.lane));
      w.other_lanes[op.lane - 1].push_back(o);
    }
    w.model_ops.emplace_back(op.lane, op.index);
  }
  return w;
}

// Several lanes: the model's interleaving is at the granularity of its steps, the fiber
// scheduler's at every medium operation, lane acquisition and lock of the core, and no mapping
// between the two is derived here. So the schedule, crash point and resolution are found by
// exploring the counterexample's workload on the counterpart (every schedule within
// `preemptions`, only the expected check, first violation): the workload and the expected check
// come from Z3, the execution that shows it from the explorer.
Result<std::optional<traces::Trace>> SearchConcurrent(const traces::Trace& base,
                                                      uint32_t preemptions) {
  harness::ExploreConfig config = base.config;
  TP_ASSIGN_OR_RETURN(config.mutant, harness::MutantByName(base.mutant));
  config.preemption_bound = preemptions;
  config.schedule.clear();
  config.only_check = base.expect.check;
  config.stop_at_first_violation = true;
  TP_ASSIGN_OR_RETURN(const harness::ExploreResult explored, harness::Explore(config));
  if (explored.violations.empty()) return std::optional<traces::Trace>();
  traces::Trace t = traces::TraceFromViolation(config, explored.violations.front());
  t.mutant = base.mutant;
  return std::optional<traces::Trace>(std::move(t));
}

sim::PersistencyModel SimModel(PersistencyModel model) {
  switch (model) {
    case PersistencyModel::kPx86:
      return sim::PersistencyModel::kPx86;
    case PersistencyModel::kWord8:
      return sim::PersistencyModel::kWord8;
    case PersistencyModel::kEadr:
      return sim::PersistencyModel::kEadr;
  }
  return sim::PersistencyModel::kWord8;
}

}  // namespace

Result<CoreCounterpart> CoreCounterpartOf(Mutant mutant) {
  // docs/model.md §5. no-data-persist and flog-halves-unfenced emit exactly the model mutant's
  // events (§8); the others are the nearest core fault (e.g. seq-skips goes 1->2->1, the model's
  // seq-reversed 1->3->2).
  switch (mutant) {
    case Mutant::kNone:
      return CoreCounterpart{harness::Device::kBtt, "none"};
    case Mutant::kNoDataPersist:
      return CoreCounterpart{harness::Device::kBtt, "data-not-persisted"};
    case Mutant::kMapBeforeFlog:
      return CoreCounterpart{harness::Device::kBtt, "map-before-flog"};
    case Mutant::kFlogHalvesUnfenced:
      return CoreCounterpart{harness::Device::kBtt, "flog-half-a-unfenced"};
    case Mutant::kFlogActiveSlot:
      return CoreCounterpart{harness::Device::kBtt, "write-active-slot"};
    case Mutant::kSeqReversed:
      return CoreCounterpart{harness::Device::kBtt, "seq-skips"};
    case Mutant::kFreeBlockReused:
      return CoreCounterpart{harness::Device::kBtt, "free-not-replaced"};
    case Mutant::kRecoveryPicksOlder:
      return CoreCounterpart{harness::Device::kBtt, "recover-older-slot"};
    case Mutant::kRecoveryRollBack:
      return CoreCounterpart{harness::Device::kBtt, "recover-roll-back"};
    case Mutant::kRecoveryNoMask:
      return CoreCounterpart{harness::Device::kBtt, "recover-unmasked"};
    case Mutant::kRecoveryNoOldCheck:
      return CoreCounterpart{harness::Device::kBtt, "recover-skip-old-map-check"};
    case Mutant::kNoBtt:
      return CoreCounterpart{harness::Device::kPlainPmem, "none"};
    case Mutant::kNoMapLock:
      break;
  }
  return NotFound(
      fmt::format("the model mutant '{}' has no counterpart in the core", MutantName(mutant)));
}

bool CounterpartNeedsMutantBuild(Mutant mutant) {
  auto c = CoreCounterpartOf(mutant);
  return c.ok() && c->core_mutant != "none";
}

namespace {
// The ORACLE-* check of one violated property (ExpectedCheck).
Result<std::string> CheckOf(const Counterexample& cex, const CexViolation& violation) {
  const std::string& property = violation.property;
  if (property == PropertyName(Property::kAtomicity) ||
      property == PropertyName(Property::kDurability)) {
    return std::string("ORACLE-ATOMIC");
  }
  if (property == PropertyName(Property::kBijection)) {
    std::set<int> free_blocks;
    for (const CexRecoveryLane& r : cex.recovery) {
      if (!free_blocks.insert(r.free_block).second) return std::string("ORACLE-RECOVER");
    }
    return std::string("ORACLE-CHECK");
  }
  if (property == PropertyName(Property::kFlogSeq)) return std::string("ORACLE-RECOVER");
  if (property == PropertyName(Property::kIdempotence)) return std::string("ORACLE-IDEMPOTENT");
  return InvalidArgument("unknown property '" + property + "'");
}

}  // namespace

Result<std::string> ExpectedCheck(const Counterexample& cex) {
  if (cex.violations.empty()) return InvalidArgument("the counterexample violates nothing");
  return CheckOf(cex, cex.violations.front());
}

std::string BmcTraceStem(const BmcOptions& options) {
  return fmt::format("tearproof-bmc-{}-{}x{}x{}-nfree{}-{}", MutantName(options.mutant),
                     options.lanes, options.lbas, options.ops_per_lane,
                     options.nfree == 0 ? options.lanes : options.nfree,
                     PersistencyModelName(options.model));
}

Result<traces::Trace> TraceFromCounterexample(const BmcOptions& options,
                                              const Counterexample& cex) {
  TP_ASSIGN_OR_RETURN(const CoreCounterpart counterpart, CoreCounterpartOf(options.mutant));
  if (counterpart.core_mutant != "none" && !harness::MutantsCompiledIn()) {
    return Unsupported(fmt::format(
        "the counterpart of the model mutant '{}' is the core mutant '{}', which only the mutant "
        "build contains (tearproof-bmc-mutants)",
        MutantName(options.mutant), counterpart.core_mutant));
  }
  TP_ASSIGN_OR_RETURN(const std::string check, ExpectedCheck(cex));
  Workload workload = WorkloadOf(cex);

  traces::Trace trace;
  trace.tool_commit = traces::ToolCommit();
  trace.mutant = counterpart.core_mutant;
  harness::ExploreConfig& c = trace.config;
  c.device = counterpart.device;
  c.profile = btt::Profile::kLinux;  // the model abstracts profile and sector size
  c.external_lbasize = 512;
  c.nfree = static_cast<uint32_t>(options.nfree == 0 ? options.lanes : options.nfree);
  c.model = SimModel(options.model);
  c.ops = std::move(workload.ops);
  c.other_lanes = std::move(workload.other_lanes);
  if (c.device == harness::Device::kPlainPmem) {
    // The model's formatted contents are a tag per sector ("initial(lba x)"), the explorer's
    // fresh plain medium reads as zeros: a setup write of every LBA (completed, no crash points)
    // gives each sector contents of its own, so that a zero tearing them is visible as in the
    // model. The BTT needs none: its setup would change the flog and free blocks the model
    // starts from, and the core's torn states never involve the formatted data.
    for (int lba = 0; lba < options.lbas; ++lba) {
      c.setup_ops.push_back({harness::WorkloadOp::Kind::kWrite, static_cast<uint64_t>(lba)});
    }
  }
  c.max_states_per_point = 1024;
  if (auto size = harness::ExploreMediumSize(c); size.ok()) c.medium_size = *size;  // pinned
  trace.crash_point = static_cast<uint64_t>(cex.fences_before_crash) + 1;
  trace.expect.violation = true;
  trace.expect.check = check;
  const CexViolation& v = cex.violations.front();

  if (!c.other_lanes.empty()) {
    // Each violated property in turn: with overlapping ops on one LBA the explorer's concurrent
    // oracle accepts any value that can be linearized last, while the model's INV-SECTOR-DURABLE
    // asks for the last op by completion time, so a durability violation of the model may be
    // no violation there, while the same counterexample's INV-MAP-BIJECTION is.
    for (const CexViolation& violation : cex.violations) {
      TP_ASSIGN_OR_RETURN(trace.expect.check, CheckOf(cex, violation));
      for (uint32_t preemptions = 0; preemptions <= 2; ++preemptions) {
        TP_ASSIGN_OR_RETURN(std::optional<traces::Trace> found,
                            SearchConcurrent(trace, preemptions));
        if (!found) continue;
        found->expect.detail = fmt::format(
            "Z3 counterexample (model mutant {}, {} x {} x {}, {}): {}: {}; {} lanes: workload "
            "and check from the model, schedule, crash point and resolution found by exploring "
            "that workload on the counterpart within {} preemption(s) (not mapped from the "
            "model's interleaving)",
            MutantName(options.mutant), options.lanes, options.lbas, options.ops_per_lane,
            PersistencyModelName(options.model), violation.property, violation.message,
            c.other_lanes.size() + 1, preemptions);
        return *found;
      }
    }
    return NotFound(fmt::format(
        "trace export: exploring the counterexample's {}-lane workload on '{}' within 2 "
        "preemptions shows none of the checks its violations map to",
        c.other_lanes.size() + 1, trace.mutant));
  }
  TP_ASSIGN_OR_RETURN(const int forced, MapResolution(&trace, cex, std::move(workload.model_ops)));
  // The counterpart is the nearest core fault, not the model mutant itself: at some bounds it
  // behaves like the real core where the model mutant already fails (seq-reversed's one-write
  // counterexample: the core's seq-skips gets the first write's seq right). A trace that does not
  // show its check on the counterpart is refused rather than handed out as evidence.
  TP_ASSIGN_OR_RETURN(const traces::ReplayResult replayed, traces::Replay(trace));
  if (!replayed.matches_expectation) {
    return NotFound(fmt::format(
        "trace export: the counterexample's workload '{}' replayed on '{}' at crash point {} "
        "does not show {} (at {} x {} x {} the counterpart behaves unlike the model mutant)",
        harness::WorkloadToString(c.ops), trace.mutant, trace.crash_point, trace.expect.check,
        options.lanes, options.lbas, options.ops_per_lane));
  }
  trace.expect.detail = fmt::format(
      "Z3 counterexample (model mutant {}, {} x {} x {}, {}): {}: {}; one lane: crash point = "
      "fences_before_crash {} + 1, resolution mapped from the model's persisted stores ({} of "
      "{} words read take a persisted candidate)",
      MutantName(options.mutant), options.lanes, options.lbas, options.ops_per_lane,
      PersistencyModelName(options.model), v.property, v.message, cex.fences_before_crash, forced,
      trace.resolution.size());
  return trace;
}

Result<traces::Trace> TraceFromBmcResult(const BmcResult& result) {
  if (result.verdict != Verdict::kSat || !result.counterexample) {
    return InvalidArgument(
        fmt::format("no counterexample: the verdict is {}", VerdictName(result.verdict)));
  }
  return TraceFromCounterexample(result.options, *result.counterexample);
}

Result<std::string> WriteBmcTrace(const BmcResult& result, const std::string& dir) {
  TP_ASSIGN_OR_RETURN(const traces::Trace trace, TraceFromBmcResult(result));
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return IoError("cannot create " + dir + ": " + error.message());
  const std::string path =
      (std::filesystem::path(dir) / (BmcTraceStem(result.options) + ".jsonl")).string();
  TP_RETURN_IF_ERROR(traces::WriteTraceFile(path, trace));
  return path;
}

}  // namespace tearproof::model
