// tearproof_explorer_bench: crash-exploration throughput (issue 4 §6).
//
// Reports judged crash states per second of thread CPU time for single explorations on small
// geometries (the unit the target of 100,000 states/s/core is stated in), for a concurrent
// exploration (two lanes, every schedule within one preemption), and the CPU time of one shard of
// each part of the standard matrix (docs/explorer.md), from which the whole matrix's time on N
// cores follows. A "state" here is every crash state the oracle judged: the crash states of the
// workload (ExploreStats::states_checked) plus the nested crash states inside recovery
// (ExploreStats::recovery_crash_states), each a full recovery + reads (+ check for the outer
// ones). Crash points the memo skipped (ExploreStats::crash_points_repeated) are not states
// judged and are not counted; "points_per_cpu_s" counts every crash point covered.
// Figures and the command line are recorded in docs/performance.md ("Crash exploration").
// Clocks are allowed here: this is a benchmark, not simulator logic.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <ctime>

#include "harness/explorer.h"
#include "harness/matrix.h"

namespace tearproof::harness {
namespace {

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void Report(benchmark::State& state, const ExploreStats& stats, double cpu_seconds) {
  const double states = static_cast<double>(stats.states_checked + stats.recovery_crash_states);
  const double iterations = static_cast<double>(state.iterations());
  state.counters["states"] = states / iterations;
  state.counters["states_per_cpu_s"] = states / cpu_seconds;
  state.counters["crash_points"] = static_cast<double>(stats.crash_points) / iterations;
  state.counters["points_per_cpu_s"] = static_cast<double>(stats.crash_points) / cpu_seconds;
}

// Runs `config` once per iteration and reports its statistics.
void RunExplorations(benchmark::State& state, const ExploreConfig& config) {
  ExploreStats total;
  double cpu = 0;
  for (auto _ : state) {
    const double start = ThreadCpuSeconds();
    auto result = Explore(config);
    cpu += ThreadCpuSeconds() - start;
    if (!result.ok() || !result->ok()) {
      state.SkipWithError("exploration failed or found a violation");
      return;
    }
    total.Add(result->stats);
  }
  Report(state, total, cpu);
  state.SetLabel(std::string(sim::PersistencyModelName(config.model)));
}

ExploreConfig Config(int64_t lbasize, int64_t model, int64_t nfree, const char* ops) {
  ExploreConfig config;
  config.external_lbasize = static_cast<uint32_t>(lbasize);
  config.model = sim::kAllPersistencyModels[model];
  config.nfree = static_cast<uint32_t>(nfree);
  auto parsed = ParseWorkload(ops);
  if (!parsed.ok()) std::abort();
  config.ops = *parsed;
  return config;
}

// Args: sector size, persistency model (index into kAllPersistencyModels), nfree.
void BM_ExploreWorkload(benchmark::State& state) {
  RunExplorations(state, Config(state.range(0), state.range(1), state.range(2), "w0 w1 z0 w0"));
}
BENCHMARK(BM_ExploreWorkload)
    ->ArgNames({"lbasize", "model", "nfree"})
    ->Args({512, 1, 1})
    ->Args({512, 2, 2})
    ->Args({4096, 1, 2})
    ->Args({4096, 2, 2})
    ->Args({512, 0, 2})
    ->Unit(benchmark::kMillisecond);

// Two lanes, "w0 w1 || w0 r1", every schedule within one preemption, crashed at every point.
void BM_ExploreConcurrent(benchmark::State& state) {
  ExploreConfig config = Config(state.range(0), state.range(1), 2, "w0 w1");
  config.other_lanes = {*ParseWorkload("w0 r1")};
  config.preemption_bound = 1;
  RunExplorations(state, config);
}
BENCHMARK(BM_ExploreConcurrent)
    ->ArgNames({"lbasize", "model"})
    ->Args({512, 1})
    ->Args({4096, 2})
    ->Unit(benchmark::kMillisecond);

// Shard 0 of `shards` of one part of the standard matrix (the default MatrixOptions). Shards take
// every shards-th exploration, so the part costs about shards × this on one core.
void BM_StandardMatrixPart(benchmark::State& state) {
  MatrixOptions options;
  options.parts = {static_cast<MatrixPart>(state.range(0))};
  options.shards = static_cast<uint32_t>(state.range(1));
  options.shard = 0;
  ExploreStats total;
  double cpu = 0;
  for (auto _ : state) {
    const double start = ThreadCpuSeconds();
    auto result = RunStandardMatrix(options);
    cpu += ThreadCpuSeconds() - start;
    if (!result.ok() || !result->ok()) {
      state.SkipWithError("matrix shard failed or found a violation");
      return;
    }
    total.Add(result->total);
  }
  Report(state, total, cpu);
  state.counters["part_cpu_s_est"] =
      cpu / static_cast<double>(state.iterations()) * static_cast<double>(options.shards);
  state.SetLabel(MatrixPartName(options.parts.front()));
}
BENCHMARK(BM_StandardMatrixPart)
    ->ArgNames({"part", "shards"})
    ->Args({static_cast<int64_t>(MatrixPart::kSequential), 4})
    ->Args({static_cast<int64_t>(MatrixPart::kConcurrent), 16})
    ->Args({static_cast<int64_t>(MatrixPart::kFormat), 4})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace tearproof::harness

BENCHMARK_MAIN();
