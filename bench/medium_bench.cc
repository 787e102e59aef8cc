// tearproof_medium_bench: sim::Medium throughput side by side with plain memory.
//
// Each "SideBySide" benchmark runs batches of the plain-memory operation and of the medium
// operation in the same loop and reports both per-op thread-CPU times and their ratio as counters
// (plain_ns, medium_ns, ratio), so one run gives comparable numbers on the same machine state. Plain persistence uses
// libpmem's pmem_persist (clwb or clflushopt + sfence on this CPU) on ordinary DRAM. Figures and
// the command line are recorded in docs/performance.md ("Medium"). Clocks are allowed here: this is
// a benchmark, not simulator logic.
#include <benchmark/benchmark.h>
#include <libpmem.h>

#include <ctime>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "sim/crash_chooser.h"
#include "sim/medium.h"

namespace tearproof::sim {
namespace {

constexpr uint64_t kRegionBytes = uint64_t{1} << 20;  // 1 MiB, 256 slots of 4 KiB
constexpr uint64_t kSlotBytes = 4096;

Medium MakeMedium(PersistencyModel model, bool event_log) {
  Result<Medium> m = Medium::Create({kRegionBytes, model, event_log});
  if (!m.ok()) std::abort();
  return std::move(m).value();
}

struct PlainBuffer {
  PlainBuffer() : bytes(static_cast<std::byte*>(std::aligned_alloc(4096, kRegionBytes))) {
    std::memset(bytes, 0, kRegionBytes);
  }
  ~PlainBuffer() { std::free(bytes); }
  std::byte* bytes;
};

void Check(const Status& s) {
  if (!s.ok()) std::abort();
}

// Thread CPU time: on a shared machine, wall-clock per-op timings include preemption.
double ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Each benchmark iteration runs `batch` plain ops, then `batch` medium ops, timing each batch in
// thread CPU time; reports CPU ns per op for each side and their ratio.
template <typename Plain, typename Sim, typename Reset>
void SideBySide(benchmark::State& state, uint64_t batch, Plain plain, Sim sim, Reset reset,
                uint64_t reset_every) {
  double plain_time = 0, medium_time = 0;
  uint64_t i = 0;
  for (auto _ : state) {
    if (reset_every != 0 && i != 0 && i % reset_every == 0) {
      // Un-fenced stores accumulate pending pieces: start a fresh medium now and then, untimed.
      state.PauseTiming();
      reset();
      state.ResumeTiming();
    }
    const double t0 = ThreadCpuNs();
    for (uint64_t j = 0; j < batch; ++j) plain(i + j);
    const double t1 = ThreadCpuNs();
    for (uint64_t j = 0; j < batch; ++j) sim(i + j);
    const double t2 = ThreadCpuNs();
    plain_time += t1 - t0;
    medium_time += t2 - t1;
    i += batch;
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
  state.counters["plain_ns"] = plain_time / static_cast<double>(i);
  state.counters["medium_ns"] = medium_time / static_cast<double>(i);
  state.counters["ratio"] = medium_time / plain_time;
}

void BM_Store8_SideBySide(benchmark::State& state) {
  PlainBuffer plain;
  Medium medium = MakeMedium(PersistencyModel::kPx86, false);
  SideBySide(
      state, 1024,
      [&](uint64_t i) {
        const uint64_t v = i;
        std::memcpy(plain.bytes + (i * 8) % kRegionBytes, &v, 8);
        benchmark::ClobberMemory();
      },
      [&](uint64_t i) { Check(medium.Store64(Lane(0), (i * 8) % kRegionBytes, i)); },
      [&] { medium = MakeMedium(PersistencyModel::kPx86, false); }, kRegionBytes / 8);
}
BENCHMARK(BM_Store8_SideBySide);

void BM_Store4K_SideBySide(benchmark::State& state) {
  PlainBuffer plain;
  std::vector<std::byte> data(kSlotBytes, std::byte{0x5A});
  Medium medium = MakeMedium(PersistencyModel::kPx86, false);
  SideBySide(
      state, 16,
      [&](uint64_t i) {
        std::memcpy(plain.bytes + (i * kSlotBytes) % kRegionBytes, data.data(), kSlotBytes);
        benchmark::ClobberMemory();
      },
      [&](uint64_t i) { Check(medium.Store(Lane(0), (i * kSlotBytes) % kRegionBytes, data)); },
      [&] { medium = MakeMedium(PersistencyModel::kPx86, false); }, kRegionBytes / kSlotBytes);
}
BENCHMARK(BM_Store4K_SideBySide);

// The target: a persisted 4 KiB store on the medium within 10x of memcpy + clwb + sfence.
void BM_Persist4K_SideBySide(benchmark::State& state) {
  const PersistencyModel model = static_cast<PersistencyModel>(state.range(0));
  const bool event_log = state.range(1) != 0;
  PlainBuffer plain;
  std::vector<std::byte> data(kSlotBytes, std::byte{0x5A});
  Medium medium = MakeMedium(model, event_log);
  SideBySide(
      state, 16,
      [&](uint64_t i) {
        std::byte* dst = plain.bytes + (i * kSlotBytes) % kRegionBytes;
        std::memcpy(dst, data.data(), kSlotBytes);
        pmem_persist(dst, kSlotBytes);
      },
      [&](uint64_t i) {
        const uint64_t addr = (i * kSlotBytes) % kRegionBytes;
        Check(medium.Store(Lane(0), addr, data));
        Check(medium.Persist(Lane(0), addr, kSlotBytes));
        if (event_log && i % 256 == 255) medium.ClearEventLog();  // bounded memory, cost counted
      },
      [] {}, 0);
  state.SetLabel(std::string(PersistencyModelName(model)) + (event_log ? " +log" : ""));
}
BENCHMARK(BM_Persist4K_SideBySide)
    ->Args({static_cast<int>(PersistencyModel::kPx86), 0})
    ->Args({static_cast<int>(PersistencyModel::kPx86), 1})
    ->Args({static_cast<int>(PersistencyModel::kWord8), 0})
    ->Args({static_cast<int>(PersistencyModel::kEadr), 0});

// A medium with `lines` pending lines of 4 unflushed 8-byte stores each (5 px86 images per line).
Medium PendingLines(PersistencyModel model, int lines) {
  Medium m = MakeMedium(model, false);
  for (int l = 0; l < lines; ++l) {
    for (int w = 0; w < 4; ++w) Check(m.Store64(Lane(0), l * 64 * 3 + w * 8, l * 8 + w + 1));
  }
  return m;
}

void BM_EnumerateCrashStates(benchmark::State& state) {
  const PersistencyModel model = static_cast<PersistencyModel>(state.range(0));
  const Medium m = PendingLines(model, static_cast<int>(state.range(1)));
  uint64_t states = 0;
  for (auto _ : state) {
    Result<uint64_t> n = m.ForEachCrashState(
        [](const CrashState& s) {
          benchmark::DoNotOptimize(s.lines.data());
          return true;
        },
        uint64_t{1} << 24);
    if (!n.ok()) std::abort();
    states += *n;
  }
  state.counters["crash_states_per_s"] =
      benchmark::Counter(static_cast<double>(states), benchmark::Counter::kIsRate);
  state.SetLabel(PersistencyModelName(model));
}
BENCHMARK(BM_EnumerateCrashStates)
    ->Args({static_cast<int>(PersistencyModel::kPx86), 6})    // 5^6 = 15625 states
    ->Args({static_cast<int>(PersistencyModel::kWord8), 3});  // 2^12 = 4096 states

// Enumerated states turned into fresh media and read (what an explorer does per state).
void BM_MaterializeAndReadCrashStates(benchmark::State& state) {
  const Medium m = PendingLines(PersistencyModel::kPx86, 4);
  uint64_t states = 0;
  for (auto _ : state) {
    Result<uint64_t> n = m.ForEachCrashState(
        [&](const CrashState& s) {
          Medium crashed = m.MaterializeCrash(s);
          benchmark::DoNotOptimize(crashed.Load64(Lane(0), 8).value());
          return true;
        },
        uint64_t{1} << 24);
    if (!n.ok()) std::abort();
    states += *n;
  }
  state.counters["crash_states_per_s"] =
      benchmark::Counter(static_cast<double>(states), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MaterializeAndReadCrashStates);

// Lazy views: every resolution of a recovery that reads one word per pending line.
void BM_LazyResolutions(benchmark::State& state) {
  const Medium m = PendingLines(PersistencyModel::kPx86, 4);
  uint64_t runs = 0;
  for (auto _ : state) {
    auto odometer = std::make_shared<OdometerChooser>();
    do {
      Medium crashed = m.LazyCrash(odometer);
      for (int l = 0; l < 4; ++l) benchmark::DoNotOptimize(crashed.Load64(Lane(0), l * 192 + 24).value());
    } while (odometer->Advance());
    runs += odometer->runs();
  }
  state.counters["resolutions_per_s"] =
      benchmark::Counter(static_cast<double>(runs), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LazyResolutions);

}  // namespace
}  // namespace tearproof::sim

BENCHMARK_MAIN();
