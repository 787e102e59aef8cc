#include "traces/replay.h"

#include <fmt/core.h>

#include <algorithm>
#include <string>

#include "harness/matrix.h"
#include "sim/scheduler.h"
#include "traces/format_round_trip.h"

namespace tearproof::traces {
namespace {

std::string OpName(const harness::WorkloadOp& op) { return harness::WorkloadToString({op}); }

// A short account of what a store wrote: the tag of sector data, or the bytes of metadata.
std::string StoreSummary(const sim::Event& e) {
  if (e.data.size() % 8 == 0 && e.data.size() >= 64) {
    return fmt::format("[{}]", harness::DescribeSector(e.data));
  }
  std::string hex;
  for (size_t i = 0; i < e.data.size() && i < 16; ++i) {
    hex += fmt::format("{:02x}", static_cast<unsigned>(e.data[i]));
  }
  if (e.data.size() > 16) hex += "...";
  return hex;
}

// One word's value and where it came from; for a run of words, only the source (the values of
// a tagged sector differ in their word index).
std::string ValueSummary(uint64_t value, bool run) {
  const std::string source = harness::DescribeWord(value);
  if (source == "untagged") return fmt::format("0x{:016x}", value);
  if (run) return source.substr(0, source.find(" word "));
  return fmt::format("0x{:016x} ({})", value, source);
}

// Adjacent words, chosen alike, that hold the same value or consecutive words of one write.
bool SameFate(const harness::CrashTimeline::ResolvedWord& a,
              const harness::CrashTimeline::ResolvedWord& b) {
  if (b.choice.word_addr != a.choice.word_addr + 8 || b.choice.index != a.choice.index ||
      b.choice.candidate_count != a.choice.candidate_count ||
      (a.value == a.guaranteed) != (b.value == b.guaranteed) || a.store_event != b.store_event) {
    return false;
  }
  const std::string sa = harness::DescribeWord(a.value), sb = harness::DescribeWord(b.value);
  if (sa == "untagged" || sb == "untagged") return a.value == b.value;
  return sa.substr(0, sa.find(" word ")) == sb.substr(0, sb.find(" word "));
}

// Ops are numbered lane by lane (harness::ExploreConfig::ops); the timeline lists them so.
std::string OpRef(const Trace& trace, const harness::CrashTimeline& t, int64_t op) {
  if (op < 0 || static_cast<size_t>(op) >= t.ops.size()) return "before the workload";
  const harness::CrashTimeline::Op& o = t.ops[op];
  if (trace.config.other_lanes.empty()) return fmt::format("op {} {}", op, OpName(o.op));
  return fmt::format("op {} {} (lane {})", op, OpName(o.op), o.lane);
}

}  // namespace

const harness::Violation* ReplayResult::Expected(const Trace& trace) const {
  for (const harness::Violation& v : violations) {
    if (v.check == trace.expect.check) return &v;
  }
  return nullptr;
}

namespace {

// A bad-input or format round-trip trace: its executor runs the case.
Result<ReplayResult> ReplayBadInput(const Trace& trace) {
  TP_ASSIGN_OR_RETURN(const btt::Mutant mutant, harness::MutantByName(trace.mutant));
  auto run = trace.kind == TraceKind::kFormatRoundTrip
                 ? RunFormatRoundTrip(trace.bad_input, nullptr, mutant)
                 : RunBadInputCase(trace.bad_input, nullptr, mutant);
  if (!run.ok()) return run.status().Annotate("replay: ");
  ReplayResult result;
  if (run->violation) {
    harness::Violation v;
    v.check = run->violation->check;
    v.detail = run->violation->detail;
    result.violations.push_back(std::move(v));
  }
  result.bad_input = std::move(*run);
  result.matches_expectation =
      trace.expect.violation ? result.Expected(trace) != nullptr : result.violations.empty();
  return result;
}

}  // namespace

harness::ConcurrentSearchOptions ConcurrentTraceSearch(const Trace& trace, btt::Mutant mutant) {
  harness::ConcurrentSearchOptions options;
  options.preemption_bound =
      static_cast<uint32_t>(std::clamp<uint64_t>(trace.concurrent.preemptions, 1, 3));
  options.pct_seeds = 0;
  options.random_seeds = 0;
  options.mutant = mutant;
  options.stop_at_first_violation = true;
  return options;
}

namespace {

// A concurrent trace: the recorded run, strictly; if this core leaves its schedule, the search
// of every schedule within the trace's preemptions (replay.h).
Result<ReplayResult> ReplayConcurrentTrace(const Trace& trace) {
  TP_ASSIGN_OR_RETURN(const btt::Mutant mutant, harness::MutantByName(trace.mutant));
  const harness::ConcurrentWorkload workload = trace.concurrent.Workload();
  auto run = harness::ReplayConcurrent(workload, trace.concurrent.schedule, mutant);
  if (!run.ok()) return run.status().Annotate("replay: ");
  ReplayResult result;
  ReplayResult::Concurrent c;
  if (run->check == "ERROR" && run->report.outcome == sim::RunOutcome::kScheduleError) {
    c.schedule_fits = false;
    const harness::ConcurrentSearchOptions options = ConcurrentTraceSearch(trace, mutant);
    c.search_bound = options.preemption_bound;
    auto search = harness::SearchConcurrent({workload}, options);
    if (!search.ok()) return search.status().Annotate("replay: ");
    c.search_runs = search->exhaustive.runs;
    if (!search->first_violation.empty()) {
      harness::Violation v;
      v.check = search->violation_check;
      v.detail = search->first_violation;
      result.violations.push_back(std::move(v));
    } else if (!search->first_error.empty()) {
      return InvalidArgument(
          "replay: the recorded schedule does not fit this run (" + run->detail +
          ") and a schedule of the search cannot be judged: " + search->first_error);
    }
  } else if (run->check == "ERROR") {
    return InvalidArgument("replay: the run cannot be judged: " + run->detail);
  } else if (!run->check.empty()) {
    harness::Violation v;
    v.check = run->check;
    v.detail = run->detail;
    result.violations.push_back(std::move(v));
  }
  c.run = std::move(*run);
  result.concurrent = std::move(c);
  result.matches_expectation =
      trace.expect.violation ? result.Expected(trace) != nullptr : result.violations.empty();
  return result;
}

// "zeros", "setup write 1", "write 3": a value of a concurrent run.
std::string ConcurrentValue(uint64_t value) {
  const uint64_t setup_base = harness::kConcurrentSetupWriteBase;
  if (value == 0) return "zeros";
  if (value >= setup_base) return fmt::format("setup write {}", value - setup_base);
  return fmt::format("write {}", value);
}

void ConcurrentTimeline(const Trace& trace, const ReplayResult::Concurrent& c, std::string* out) {
  auto line = [out](const std::string& s) { *out += s + "\n"; };
  const ConcurrentTraceRun& r = trace.concurrent;
  line(fmt::format(
      "concurrent run (no crash) on mutant {}: linux profile, {}-byte sectors, nfree {}, "
      "px86",
      trace.mutant, harness::kConcurrentSectorBytes, harness::kConcurrentNfree));
  if (!r.setup.empty()) {
    line("setup (completed by the real core before the lanes): " +
         harness::WorkloadToString(r.setup));
  }
  for (size_t i = 0; i < r.lanes.size(); ++i) {
    line(fmt::format("lane {}: {}", i, harness::WorkloadToString(r.lanes[i])));
  }
  line(fmt::format("schedule (lane picked at each decision; {} decisions, {} preemption(s){}): {}",
                   r.schedule.size(), r.preemptions,
                   r.strategy.empty() ? "" : ", found by " + r.strategy,
                   sim::ScheduleToString(r.schedule)));
  const sim::RunReport& report = c.run.report;
  line(fmt::format(
      "run: {} after {} scheduling points, {} preemption(s); {}",
      sim::RunOutcomeName(report.outcome), report.steps, report.preemptions,
      c.run.contention ? "a BTT lane or map lock was found held" : "no lane or lock contention"));
  line("ops in response order ([invoke, respond] on the run's logical clock):");
  if (c.run.ops.empty()) line("  none completed");
  for (const harness::ConcurrentOpRecord& op : c.run.ops) {
    const bool read = op.op.kind == harness::WorkloadOp::Kind::kRead;
    const std::string what = !op.problem.empty() ? "returns a sector that " + op.problem
                             : read              ? "returns " + ConcurrentValue(op.value)
                                                 : "stores " + ConcurrentValue(op.value);
    line(fmt::format("  [{}, {}]  lane {} op {}  {:<4} {}", op.invoke, op.respond, op.lane,
                     op.index, harness::WorkloadToString({op.op}), what));
  }
  if (!c.schedule_fits) {
    line(
        fmt::format("the recorded schedule does not fit this run ({}): judged instead every "
                    "schedule of the workload within {} preemption(s), {} runs",
                    c.run.detail, c.search_bound, c.search_runs));
  }
}

// The last lines of every timeline: the verdict and whether it is the one the trace expects.
void VerdictLines(const Trace& trace, const ReplayResult& result, std::string* out) {
  auto line = [out](const std::string& s) { *out += s + "\n"; };
  if (result.violations.empty()) {
    line("verdict: no violation");
  } else {
    for (const harness::Violation& v : result.violations) {
      line(fmt::format("verdict: VIOLATION {}: {}", v.check, v.detail));
    }
  }
  if (trace.expect.violation) {
    line(fmt::format("the trace expects {}: {}", trace.expect.check,
                     result.matches_expectation ? "reproduced" : "NOT reproduced"));
  } else {
    line(fmt::format("the trace expects a pass: {}",
                     result.matches_expectation ? "it passes" : "it does NOT pass"));
  }
}

}  // namespace

Result<ReplayResult> Replay(const Trace& trace) {
  if (trace.kind == TraceKind::kConcurrent) return ReplayConcurrentTrace(trace);
  if (trace.kind != TraceKind::kCrash) return ReplayBadInput(trace);
  TP_ASSIGN_OR_RETURN(harness::ExploreConfig config, ReplayConfig(trace));
  auto explored = harness::Explore(config);
  if (!explored.ok()) return explored.status().Annotate("replay: ");
  ReplayResult result;
  result.violations = std::move(explored->violations);
  if (explored->timeline) result.timeline = std::move(*explored->timeline);
  for (const auto& word : result.timeline.words) result.resolution.push_back(word.choice);
  result.matches_expectation =
      trace.expect.violation ? result.Expected(trace) != nullptr : result.violations.empty();
  return result;
}

std::string FormatTimeline(const Trace& trace, const ReplayResult& result) {
  const harness::ExploreConfig& c = trace.config;
  const harness::CrashTimeline& t = result.timeline;
  std::string out;
  auto line = [&out](const std::string& s) { out += s + "\n"; };
  if (result.concurrent) {
    ConcurrentTimeline(trace, *result.concurrent, &out);
    VerdictLines(trace, result, &out);
    return out;
  }
  if (result.bad_input) {
    line((trace.kind == TraceKind::kFormatRoundTrip ? "format round trip on mutant "
                                                    : "bad-input case on mutant ") +
         trace.mutant);
    for (const std::string& l : result.bad_input->timeline) line(l);
    VerdictLines(trace, result, &out);
    return out;
  }

  std::string what = fmt::format("device {}", harness::DeviceName(c.device));
  if (c.device == harness::Device::kBtt) {
    what += fmt::format(" ({} profile, nfree {})", btt::ProfileName(c.profile), c.nfree);
  }
  line(fmt::format("{}, {}-byte sectors, model {}{}, mutant {}", what, c.external_lbasize,
                   sim::PersistencyModelName(c.model),
                   c.workload_flush == harness::FlushKind::kNone ? ", every flush lost" : "",
                   trace.mutant));
  if (c.track_lbas != 0) {
    line(fmt::format("judged after the crash: every LBA an op names, and LBAs 0-{} (track_lbas {})",
                     c.track_lbas - 1, c.track_lbas));
  }
  if (!c.setup_ops.empty()) {
    line(fmt::format("setup (completed, no crash points{}): {}",
                     c.mutant_after_setup ? ", run by the real core" : "",
                     harness::WorkloadToString(c.setup_ops)));
  }

  if (!c.schedule.empty()) {
    line(fmt::format("schedule (lane picked at each decision): {}",
                     sim::ScheduleToString(c.schedule)));
  }
  // Per lane; with several lanes an op's events and crash points are those of its span, which
  // include other lanes' (the schedule interleaves them).
  for (size_t i = 0; i < t.ops.size(); ++i) {
    const harness::CrashTimeline::Op& op = t.ops[i];
    if (i == 0 || t.ops[i - 1].lane != op.lane) line(fmt::format("lane {}:", op.lane));
    std::string s = fmt::format("  op {}  {:<4}", i, OpName(op.op));
    if (op.write_id != 0) s += fmt::format(" write {}", op.write_id);
    if (op.end_event > op.first_event) {
      s += fmt::format("  events #{}-#{}", op.first_event, op.end_event - 1);
    } else if (static_cast<int64_t>(i) != t.op_in_flight) {
      s += "  no medium events";
    }
    if (op.first_crash_point != 0) {
      s += op.first_crash_point == op.last_crash_point
               ? fmt::format("  crash point {}", op.first_crash_point)
               : fmt::format("  crash points {}-{}", op.first_crash_point, op.last_crash_point);
    }
    if (static_cast<int64_t>(i) == t.op_in_flight) s += "  <- in flight at the crash";
    line(s);
  }

  if (trace.crash_point == 0) {
    line("no crash: the verdict is about the workload's own reads");
  } else if (!t.reached) {
    line(fmt::format("crash point {} NOT REACHED: this run has only {} crash points",
                     trace.crash_point, t.crash_points_total));
  } else {
    line(fmt::format("crash point {} of {}: {}", t.crash_point, t.crash_points_total,
                     t.in_format ? std::string("inside format, just before one of its fences")
                     : t.op_in_flight < 0
                         ? "after the last operation (nothing in flight)"
                         : "just before a fence of " + OpRef(trace, t, t.op_in_flight)));
    line("pending at the crash (workload stores with words not yet guaranteed):");
    if (t.pending.empty()) line("  none");
    for (const auto& p : t.pending) {
      const std::string region = p.region.empty() ? "" : " (" + p.region + ")";
      line(fmt::format("  #{} {} {} 0x{:x}+{}{}: {}", p.event.seq, OpRef(trace, t, p.op),
                       sim::EventKindName(p.event.kind), p.event.addr, p.event.data.size(), region,
                       StoreSummary(p.event)));
    }
    line("crash state: each word read after the crash, in read order (candidate / count):");
    if (t.words.empty())
      line("  no unguaranteed word was read: the crash state is the guaranteed one");
    // Runs of adjacent words with the same fate print as one line (a sector is 64+ words).
    for (size_t i = 0; i < t.words.size();) {
      const auto& w = t.words[i];
      size_t j = i + 1;
      while (j < t.words.size() && SameFate(t.words[j - 1], t.words[j])) ++j;
      std::string s = j - i == 1 ? fmt::format("  0x{:x}", w.choice.word_addr)
                                 : fmt::format("  0x{:x}-0x{:x} ({} words)", w.choice.word_addr,
                                               t.words[j - 1].choice.word_addr, j - i);
      if (!w.region.empty()) s += (j - i == 1 ? " " : " from ") + w.region;
      s += fmt::format("  {}/{}  ", w.choice.index, w.choice.candidate_count);
      if (w.value == w.guaranteed) {
        s += "not persisted, keeps " + ValueSummary(w.value, j - i > 1);
      } else {
        s += "persisted " + ValueSummary(w.value, j - i > 1);
        if (w.store_event >= 0) {
          s += fmt::format(" from #{} ({})", w.store_event, OpRef(trace, t, w.store_op));
        }
      }
      line(s);
      i = j;
    }
    if (t.unused_choices != 0 || t.diverged_choices != 0) {
      line(
          fmt::format("  note: {} recorded choices name words this run never read, {} name a "
                      "word whose candidate count differs (this run is not the recorded one)",
                      t.unused_choices, t.diverged_choices));
    }
    line("sectors after recovery:");
    if (t.sectors.empty()) line("  none read (recovery failed)");
    for (const auto& sector : t.sectors) {
      std::string s = fmt::format("  lba {} {:<11} [{}]", sector.lba, sector.verdict, sector.read);
      if (!sector.ok) s += ", expected " + sector.expected;
      line(s);
    }
  }

  VerdictLines(trace, result, &out);
  return out;
}

}  // namespace tearproof::traces
