// tearproof_explorer_bench: crash-exploration throughput (issue 4 §6).
//
// Reports judged crash states per second of thread CPU time for single explorations on small
// geometries (the unit the target of 100,000 states/s/core is stated in), and the CPU time
// of one shard of the standard matrix (docs/explorer.md), from which the whole matrix's time on N
// cores follows. A "state" here is every crash state the oracle judged: the crash states of the
// workload (ExploreStats::states_checked) plus the nested crash states inside recovery
// (ExploreStats::recovery_crash_states), each a full recovery + reads (+ check for the outer ones).
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
  const double states =
      static_cast<double>(stats.states_checked + stats.recovery_crash_states);
  state.counters["states"] = states / static_cast<double>(state.iterations());
  state.counters["states_per_cpu_s"] = states / cpu_seconds;
  state.counters["crash_points"] =
      static_cast<double>(stats.crash_points) / static_cast<double>(state.iterations());
}

// Args: sector size, persistency model (index into kAllPersistencyModels), nfree.
void BM_ExploreWorkload(benchmark::State& state) {
  ExploreConfig config;
  config.external_lbasize = static_cast<uint32_t>(state.range(0));
  config.model = sim::kAllPersistencyModels[state.range(1)];
  config.nfree = static_cast<uint32_t>(state.range(2));
  auto ops = ParseWorkload("w0 w1 z0 w0");
  if (!ops.ok()) std::abort();
  config.ops = *ops;
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
BENCHMARK(BM_ExploreWorkload)
    ->ArgNames({"lbasize", "model", "nfree"})
    ->Args({512, 1, 1})
    ->Args({512, 2, 2})
    ->Args({4096, 1, 2})
    ->Args({4096, 2, 2})
    ->Args({512, 0, 2})
    ->Unit(benchmark::kMillisecond);

// One shard of the standard matrix (the default MatrixOptions), `shards` shards in all. The
// whole matrix costs about shards × this on one core.
void BM_StandardMatrixShard(benchmark::State& state) {
  MatrixOptions options;
  options.shards = static_cast<uint32_t>(state.range(0));
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
  state.counters["whole_matrix_cpu_s_est"] =
      cpu / static_cast<double>(state.iterations()) * static_cast<double>(options.shards);
}
BENCHMARK(BM_StandardMatrixShard)->Arg(40)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace tearproof::harness

BENCHMARK_MAIN();
