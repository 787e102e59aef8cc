// BTT I/O throughput side by side, on the same /dev/shm memory, in one run:
//   tearproof   the production core (btt::Btt over btt::FileNamespace, libpmem primitives)
//   pmemblk     PMDK's libpmemblk, the reference BTT implementation
//   raw         pmem_memcpy_persist / memcpy of the same block size: the physical limit
// Random 4 KiB and 512 B writes and reads, 1 and 2 threads. PMEM_IS_PMEM_FORCE=1 is set (the
// binary re-executes itself if it was not) so that both libraries use flush instructions instead
// of msync on /dev/shm. After the run the binary prints ratios: tearproof/pmemblk for writes and
// tearproof/raw for reads (the targets in docs/performance.md).
#include <benchmark/benchmark.h>
#include <libpmem.h>
#include <libpmemblk.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "btt/btt.h"
#include "btt/file_namespace.h"
#include "util/prng.h"

namespace tearproof {
namespace {

constexpr uint64_t kPoolBytes = 256ULL << 20;
constexpr uint64_t kWorkingSetBlocks = 16384;  // random LBAs drawn from the first 16 Ki blocks

std::string ShmPath(const std::string& name) {
  return "/dev/shm/tearproof_bench_" + std::to_string(getpid()) + "_" + name;
}

// One device per implementation and block size, created on first use, removed at exit.
struct TearproofDevice {
  std::unique_ptr<btt::FileNamespace> ns;
  std::unique_ptr<btt::Btt> btt;
};
struct PmemblkDevice {
  PMEMblkpool* pool = nullptr;
};
struct RawDevice {
  std::byte* base = nullptr;
  size_t size = 0;
};

std::vector<std::string>& CreatedFiles() {
  static std::vector<std::string> files;
  return files;
}

// Devices are created on first use by whichever benchmark thread gets there first.
std::mutex& DeviceMutex() {
  static std::mutex mu;
  return mu;
}

// `copy` > 0: another device of the same shape, for BM_ReadGap's variants (each must read
// memory no other variant touches, or it would find the others' blocks in the caches).
TearproofDevice& Tearproof(uint32_t bsize, int copy = 0) {
  static std::map<std::pair<uint32_t, int>, TearproofDevice> devices;
  std::lock_guard<std::mutex> lock(DeviceMutex());
  TearproofDevice& d = devices[{bsize, copy}];
  if (!d.btt) {
    const std::string path =
        ShmPath("tp" + std::to_string(bsize * 100 + static_cast<uint32_t>(copy)));
    CreatedFiles().push_back(path);
    auto ns = btt::FileNamespace::Create(path, kPoolBytes);
    if (!ns.ok()) std::abort();
    d.ns = std::move(*ns);
    btt::FormatOptions format;
    format.profile = btt::Profile::kLinux;
    format.external_lbasize = bsize;
    format.uuid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    format.medium_is_zeroed = true;
    if (!btt::Btt::Format(*d.ns, format).ok()) std::abort();
    auto b = btt::Btt::Open(*d.ns);
    if (!b.ok()) std::abort();
    d.btt = std::move(*b);
  }
  return d;
}

PmemblkDevice& Pmemblk(uint32_t bsize) {
  static std::map<uint32_t, PmemblkDevice> devices;
  std::lock_guard<std::mutex> lock(DeviceMutex());
  PmemblkDevice& d = devices[bsize];
  if (d.pool == nullptr) {
    const std::string path = ShmPath("blk" + std::to_string(bsize));
    CreatedFiles().push_back(path);
    d.pool = pmemblk_create(path.c_str(), bsize, kPoolBytes, 0600);
    if (d.pool == nullptr) {
      std::perror("pmemblk_create");
      std::abort();
    }
    // Lay the BTT out now (libpmemblk does it lazily on the first write), outside the timing.
    std::vector<char> zero(bsize, 0);
    if (pmemblk_write(d.pool, zero.data(), 0) != 0) std::abort();
  }
  return d;
}

RawDevice& Raw() {
  static RawDevice d;
  std::lock_guard<std::mutex> lock(DeviceMutex());
  if (d.base == nullptr) {
    const std::string path = ShmPath("raw");
    CreatedFiles().push_back(path);
    int is_pmem = 0;
    void* p = pmem_map_file(path.c_str(), kPoolBytes, PMEM_FILE_CREATE, 0600, &d.size, &is_pmem);
    if (p == nullptr) std::abort();
    d.base = static_cast<std::byte*>(p);
  }
  return d;
}

std::vector<std::byte> Pattern(uint32_t bsize, uint64_t seed) {
  std::vector<std::byte> v(bsize);
  Prng prng(seed);
  for (auto& b : v) b = std::byte(prng.Next());
  return v;
}

// One round of an interleaved benchmark: runs each of the `variants` once over the current batch
// of `batch` ops, starting with variant `round % variants` (so none is always first), and appends
// each one's wall time per op (ns) to ns[variant].
template <typename Run>
void TimeRotated(int variants, uint64_t round, int batch, Run&& run, std::vector<double>* ns) {
  for (int k = 0; k < variants; ++k) {
    const int v = static_cast<int>((round + k) % variants);
    const auto t0 = std::chrono::steady_clock::now();
    run(v);
    const auto t1 = std::chrono::steady_clock::now();
    ns[v].push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / batch);
  }
}

double Median(std::vector<double>& v) {
  if (v.empty()) return 0.0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Arguments: block size. Each thread draws its own LBA sequence from its thread index.
void BM_TearproofWrite(benchmark::State& state) {
  const auto bsize = static_cast<uint32_t>(state.range(0));
  btt::Btt& b = *Tearproof(bsize).btt;
  auto data = Pattern(bsize, 1);
  Prng prng(100 + state.thread_index());
  for (auto _ : state) {
    const Status s = b.Write(btt::ExternalLba(prng.Below(kWorkingSetBlocks)), data);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * bsize);
}

void BM_PmemblkWrite(benchmark::State& state) {
  const auto bsize = static_cast<uint32_t>(state.range(0));
  PMEMblkpool* pool = Pmemblk(bsize).pool;
  auto data = Pattern(bsize, 1);
  Prng prng(100 + state.thread_index());
  for (auto _ : state) {
    if (pmemblk_write(pool, data.data(), static_cast<long long>(prng.Below(kWorkingSetBlocks))) !=
        0) {
      state.SkipWithError("pmemblk_write failed");
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * bsize);
}

void BM_RawWrite(benchmark::State& state) {
  const auto bsize = static_cast<uint32_t>(state.range(0));
  RawDevice& raw = Raw();
  auto data = Pattern(bsize, 1);
  Prng prng(100 + state.thread_index());
  for (auto _ : state) {
    pmem_memcpy_persist(raw.base + prng.Below(kWorkingSetBlocks) * bsize, data.data(), bsize);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * bsize);
}

void BM_TearproofRead(benchmark::State& state) {
  const auto bsize = static_cast<uint32_t>(state.range(0));
  btt::Btt& b = *Tearproof(bsize).btt;
  std::vector<std::byte> out(bsize);
  Prng prng(200 + state.thread_index());
  for (auto _ : state) {
    const Status s = b.Read(btt::ExternalLba(prng.Below(kWorkingSetBlocks)), out);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * bsize);
}

void BM_PmemblkRead(benchmark::State& state) {
  const auto bsize = static_cast<uint32_t>(state.range(0));
  PMEMblkpool* pool = Pmemblk(bsize).pool;
  std::vector<char> out(bsize);
  Prng prng(200 + state.thread_index());
  for (auto _ : state) {
    if (pmemblk_read(pool, out.data(), static_cast<long long>(prng.Below(kWorkingSetBlocks))) !=
        0) {
      state.SkipWithError("pmemblk_read failed");
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * bsize);
}

void BM_RawRead(benchmark::State& state) {
  const auto bsize = static_cast<uint32_t>(state.range(0));
  RawDevice& raw = Raw();
  std::vector<std::byte> out(bsize);
  Prng prng(200 + state.thread_index());
  for (auto _ : state) {
    std::memcpy(out.data(), raw.base + prng.Below(kWorkingSetBlocks) * bsize, bsize);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * bsize);
}

// Interleaved side by side. Arguments: 1 = write / 0 = read, block size. Each benchmark iteration
// draws one batch of kBatch random LBAs and runs it on tearproof, libpmemblk and raw in turn
// (rotating which goes first), timing each batch with the wall clock. The counters are the
// median per-op time of each implementation over all batches, and the ratios of those medians
// (ops/s ratios: > 1 means tearproof is faster). The batches of the three alternate within a
// millisecond, so load from other processes hits all three alike and the ratios stay stable on
// a shared machine when the absolute figures do not.
void BM_SideBySide(benchmark::State& state) {
  constexpr int kBatch = 64;
  const bool write = state.range(0) == 1;
  const auto bsize = static_cast<uint32_t>(state.range(1));
  btt::Btt& tp = *Tearproof(bsize).btt;
  PMEMblkpool* pool = Pmemblk(bsize).pool;
  RawDevice& raw = Raw();
  const auto data = Pattern(bsize, 1);
  std::vector<std::byte> out(bsize);
  Prng prng(300 + state.thread_index());
  uint64_t lbas[kBatch];
  std::vector<double> ns[3];  // tearproof, pmemblk, raw
  bool failed = false;
  auto run = [&](int impl) {
    for (const uint64_t lba : lbas) {
      if (impl == 0) {
        const Status st =
            write ? tp.Write(btt::ExternalLba(lba), data) : tp.Read(btt::ExternalLba(lba), out);
        failed |= !st.ok();
      } else if (impl == 1) {
        const auto l = static_cast<long long>(lba);
        failed |=
            (write ? pmemblk_write(pool, data.data(), l) : pmemblk_read(pool, out.data(), l)) != 0;
      } else if (write) {
        pmem_memcpy_persist(raw.base + lba * bsize, data.data(), bsize);
      } else {
        std::memcpy(out.data(), raw.base + lba * bsize, bsize);
      }
      benchmark::DoNotOptimize(out.data());
    }
  };
  uint64_t round = 0;
  for (auto _ : state) {
    for (uint64_t& lba : lbas) lba = prng.Below(kWorkingSetBlocks);
    TimeRotated(3, round++, kBatch, run, ns);
  }
  if (failed) state.SkipWithError("an I/O call failed");
  const double tp_ns = Median(ns[0]), blk_ns = Median(ns[1]), raw_ns = Median(ns[2]);
  using C = benchmark::Counter;
  state.counters["tearproof_ns"] = C(tp_ns, C::kAvgThreads);
  state.counters["pmemblk_ns"] = C(blk_ns, C::kAvgThreads);
  state.counters["raw_ns"] = C(raw_ns, C::kAvgThreads);
  state.counters["vs_pmemblk"] = C(tp_ns > 0 ? blk_ns / tp_ns : 0, C::kAvgThreads);
  state.counters["vs_raw"] = C(tp_ns > 0 ? raw_ns / tp_ns : 0, C::kAvgThreads);
  state.SetItemsProcessed(state.iterations() * kBatch * 3);
}
BENCHMARK(BM_SideBySide)
    ->ArgNames({"write", "bsize"})
    ->ArgsProduct({{1, 0}, {4096, 512}})
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->MinTime(1.0);

// Where the 4 KiB read gap between tearproof and raw memcpy goes. Interleaved like
// BM_SideBySide (one batch of kBatch random LBAs, run by each variant in turn, rotating which
// goes first; median per-op time of each). Every variant reads its own device (a BTT laid out
// and written exactly like tearproof's, or the raw file), so none finds another's blocks in the
// caches; all of them have had every LBA of the working set written once:
//   raw        memcpy from the raw file (the figure the target is set against)
//   known      memcpy of the block each LBA maps to, with the map read before the timer starts:
//              the copy alone, no map access
//   map        load the map entry (acquire), then memcpy the block it names: + the dependent
//              map access (a cache miss when the entry is cold)
//   map+fence  map, plus the read protocol's publication: a relaxed store to an RTT-like slot,
//              a seq_cst fence and the validating re-load of the entry
//   lane       map+fence inside a lane taken from and returned to a ThreadSync (what Btt::Read
//              does around it: two atomic read-modify-writes)
//   tearproof  Btt::Read: + the LBA checks, the Z/E flags, the retry loop, Status, calls
// Ratios of medians: known/raw, map/raw, fence/raw, tearproof/raw (the read target, >= 0.92).
void BM_ReadGap(benchmark::State& state) {
  constexpr int kBatch = 64;
  enum { kRaw, kKnown, kMap, kMapFence, kLane, kTearproof, kVariants };
  const auto bsize = static_cast<uint32_t>(state.range(0));
  btt::Btt& tp = *Tearproof(bsize).btt;
  RawDevice& raw = Raw();
  // The map and data area of the BTT on device copy `v` (variants kKnown .. kMapFence).
  struct Area {
    const std::byte* map;
    const std::byte* data;
  };
  btt::InfoBlock info;
  Area areas[kVariants] = {};
  for (int v = kKnown; v <= kLane; ++v) {
    const std::byte* arena =
        Tearproof(bsize, v).ns->MappedBytes().data() + btt::BttOffsetFor(btt::Profile::kLinux);
    std::memcpy(&info, arena, sizeof(info));
    areas[v] = {arena + info.mapoff, arena + info.dataoff};
  }
  auto load_entry = [&](int v, uint64_t lba) {
    return std::atomic_ref<uint32_t>(
               *reinterpret_cast<uint32_t*>(const_cast<std::byte*>(areas[v].map) + 4 * lba))
        .load(std::memory_order_acquire);
  };
  auto block_of = [](uint32_t entry, uint64_t lba) {
    return (entry & btt::kMapFlagMask) == 0 ? lba : uint64_t{btt::EntLba(entry)};
  };
  // Every LBA of every device is written once, outside the timing, in the same order, so the
  // BTT devices have the same map and the raw file has no holes.
  {
    const auto fill = Pattern(bsize, 2);
    static std::once_flag filled[2];
    std::call_once(filled[bsize == 512], [&] {
      for (int v = kKnown; v <= kTearproof; ++v) {
        btt::Btt& b = *Tearproof(bsize, v == kTearproof ? 0 : v).btt;  // copies 1..4, then 0
        for (uint64_t lba = 0; lba < kWorkingSetBlocks; ++lba) {
          if (!b.Write(btt::ExternalLba(lba), fill).ok()) std::abort();
        }
      }
      for (uint64_t lba = 0; lba < kWorkingSetBlocks; ++lba) {
        pmem_memcpy_persist(raw.base + lba * bsize, fill.data(), bsize);
      }
    });
  }
  std::vector<std::byte> out(bsize);
  alignas(64) std::atomic<uint32_t> slot{0};
  btt::ThreadSync sync;
  if (!sync.Init(4, 1).ok()) std::abort();
  Prng prng(400 + state.thread_index());
  uint64_t lbas[kBatch];
  uint64_t blocks[kBatch];
  std::vector<double> ns[kVariants];
  bool failed = false;
  auto run = [&](int v) {
    for (int i = 0; i < kBatch; ++i) {
      const uint64_t lba = lbas[i];
      switch (v) {
        case kRaw:
          std::memcpy(out.data(), raw.base + lba * bsize, bsize);
          break;
        case kKnown:
          std::memcpy(out.data(), areas[v].data + blocks[i] * info.internal_lbasize, bsize);
          break;
        case kMap: {
          const uint64_t b = block_of(load_entry(v, lba), lba);
          std::memcpy(out.data(), areas[v].data + b * info.internal_lbasize, bsize);
          break;
        }
        case kMapFence:
        case kLane: {
          const btt::Lane lane = v == kLane ? sync.AcquireLane() : btt::Lane(0);
          const uint32_t e = load_entry(v, lba);
          const uint64_t b = block_of(e, lba);
          slot.store(0x80000000u | static_cast<uint32_t>(b), std::memory_order_relaxed);
          std::atomic_thread_fence(std::memory_order_seq_cst);
          failed |= load_entry(v, lba) != e;
          std::memcpy(out.data(), areas[v].data + b * info.internal_lbasize, bsize);
          slot.store(0, std::memory_order_release);
          if (v == kLane) sync.ReleaseLane(lane);
          break;
        }
        default:
          failed |= !tp.Read(btt::ExternalLba(lba), out).ok();
      }
      benchmark::DoNotOptimize(out.data());
    }
  };
  uint64_t round = 0;
  for (auto _ : state) {
    // The blocks `known` copies, looked up here (untimed) in its own device's map.
    for (int i = 0; i < kBatch; ++i) {
      lbas[i] = prng.Below(kWorkingSetBlocks);
      blocks[i] = block_of(load_entry(kKnown, lbas[i]), lbas[i]);
    }
    TimeRotated(kVariants, round++, kBatch, run, ns);
  }
  if (failed) state.SkipWithError("a read failed or a map entry changed");
  const char* names[kVariants] = {"raw_ns",   "known_ns", "map_ns",
                                  "fence_ns", "lane_ns",  "tearproof_ns"};
  double med[kVariants];
  using C = benchmark::Counter;
  for (int v = 0; v < kVariants; ++v) {
    med[v] = Median(ns[v]);
    state.counters[names[v]] = C(med[v], C::kAvgThreads);
  }
  auto ratio = [&](int v) { return med[v] > 0 ? med[kRaw] / med[v] : 0.0; };
  state.counters["known_vs_raw"] = C(ratio(kKnown), C::kAvgThreads);
  state.counters["map_vs_raw"] = C(ratio(kMap), C::kAvgThreads);
  state.counters["fence_vs_raw"] = C(ratio(kMapFence), C::kAvgThreads);
  state.counters["lane_vs_raw"] = C(ratio(kLane), C::kAvgThreads);
  state.counters["tp_vs_raw"] = C(ratio(kTearproof), C::kAvgThreads);
  state.SetItemsProcessed(state.iterations() * kBatch * kVariants);
}
BENCHMARK(BM_ReadGap)->Arg(4096)->Arg(512)->Threads(1)->Threads(2)->UseRealTime()->MinTime(1.0);

#define TP_BTT_BENCH(fn) \
  BENCHMARK(fn)->Arg(4096)->Arg(512)->Threads(1)->Threads(2)->UseRealTime()->MinTime(0.5)
TP_BTT_BENCH(BM_RawWrite);
TP_BTT_BENCH(BM_PmemblkWrite);
TP_BTT_BENCH(BM_TearproofWrite);
TP_BTT_BENCH(BM_RawRead);
TP_BTT_BENCH(BM_PmemblkRead);
TP_BTT_BENCH(BM_TearproofRead);

// Prints the usual console output, then the side-by-side ratios. With --benchmark_repetitions
// the ratios use the median of the repetitions (the machine this runs on is shared, so single
// runs are noisy); otherwise the single run. Also prints the load average before and after, so a
// figure can be judged by how busy the machine was.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Iteration && run.repetitions > 1) continue;
      if (run.run_type == Run::RT_Aggregate && !median) continue;
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) rate_[run.run_name.str()] = it->second.value;
      for (const char* c : {"vs_pmemblk", "vs_raw"}) {
        auto r = run.counters.find(c);
        if (r != run.counters.end()) side_[run.run_name.str() + " " + c] = r->second.value;
      }
    }
  }
  void PrintRatios() const {
    if (!side_.empty()) {
      std::printf(
          "\ninterleaved side by side (ratios of median per-op times; > 1 means tearproof is "
          "faster)\n");
      for (const char* size : {"4096", "512"}) {
        for (const char* threads : {"1", "2"}) {
          auto get = [&](const char* write, const char* c) {
            auto it = side_.find(std::string("BM_SideBySide/write:") + write + "/bsize:" + size +
                                 "/min_time:1.000/real_time/threads:" + threads + " " + c);
            return it == side_.end() ? 0.0 : it->second;
          };
          std::printf(
              "%5s B, %s thread(s): write tearproof/pmemblk = %.2f (target >= 1.0), "
              "read tearproof/raw = %.2f (target >= 0.92), read tearproof/pmemblk = %.2f\n",
              size, threads, get("1", "vs_pmemblk"), get("0", "vs_raw"), get("0", "vs_pmemblk"));
        }
      }
    }
    std::printf("\nseparate runs (ratios of ops/s%s; > 1 means tearproof is faster)\n",
                rate_.empty() ? "" : ", medians when repeated");
    for (const char* size : {"4096", "512"}) {
      for (const char* threads : {"1", "2"}) {
        auto rate = [&](const std::string& fn) {
          auto it = rate_.find(fn + "/" + size + "/min_time:0.500/real_time/threads:" + threads);
          return it == rate_.end() ? 0.0 : it->second;
        };
        const double tw = rate("BM_TearproofWrite"), pw = rate("BM_PmemblkWrite");
        const double tr = rate("BM_TearproofRead"), rr = rate("BM_RawRead");
        const double pr = rate("BM_PmemblkRead"), raw_w = rate("BM_RawWrite");
        if (tw == 0 || pw == 0 || tr == 0 || rr == 0) continue;
        std::printf(
            "%5s B, %s thread(s): write tearproof/pmemblk = %.2f (raw/tearproof %.2f), "
            "read tearproof/raw = %.2f, read tearproof/pmemblk = %.2f\n",
            size, threads, tw / pw, raw_w / tw, tr / rr, pr == 0 ? 0.0 : tr / pr);
      }
    }
  }

 private:
  std::map<std::string, double> rate_;
  std::map<std::string, double> side_;
};

// `--fixed IMPL OP BSIZE COUNT` (IMPL tearproof or pmemblk, OP write or read): no timing, for
// instruction counts that machine load cannot disturb. Writes every LBA of the working set once
// (so reads find mapped blocks in both libraries: PMDK reads never-written LBAs as zeros), then
// runs COUNT random ops inside FixedLoop:
//   valgrind --tool=callgrind --toggle-collect='*FixedLoop*' tearproof_btt_bench --fixed ...
// and divide the instructions collected by COUNT.
[[gnu::noinline]] bool FixedLoop(const std::function<bool(uint64_t)>& op, uint64_t count) {
  Prng prng(5);
  bool ok = true;
  for (uint64_t i = 0; i < count; ++i) ok &= op(prng.Below(kWorkingSetBlocks));
  return ok;
}

int RunFixed(const std::string& impl, const std::string& op, uint32_t bsize, uint64_t count) {
  const bool write = op == "write";
  if ((impl != "tearproof" && impl != "pmemblk") || (!write && op != "read") || bsize == 0 ||
      count == 0) {
    std::fprintf(stderr, "usage: --fixed tearproof|pmemblk write|read BSIZE COUNT\n");
    return 2;
  }
  const auto data = Pattern(bsize, 1);
  std::vector<std::byte> out(bsize);
  std::function<bool(uint64_t)> run;
  if (impl == "tearproof") {
    btt::Btt& b = *Tearproof(bsize).btt;
    run = [&b, &data, &out, write](uint64_t lba) {
      return (write ? b.Write(btt::ExternalLba(lba), data) : b.Read(btt::ExternalLba(lba), out))
          .ok();
    };
  } else {
    PMEMblkpool* pool = Pmemblk(bsize).pool;
    run = [pool, &data, &out, write](uint64_t lba) {
      const auto l = static_cast<long long>(lba);
      return (write ? pmemblk_write(pool, data.data(), l) : pmemblk_read(pool, out.data(), l)) == 0;
    };
  }
  for (uint64_t lba = 0; lba < kWorkingSetBlocks; ++lba) {
    if (impl == "tearproof"
            ? !Tearproof(bsize).btt->Write(btt::ExternalLba(lba), data).ok()
            : pmemblk_write(Pmemblk(bsize).pool, data.data(), static_cast<long long>(lba)) != 0) {
      return 1;
    }
  }
  if (!FixedLoop(run, count)) return 1;
  std::printf("%s %s %u B: %llu ops done\n", impl.c_str(), op.c_str(), bsize,
              static_cast<unsigned long long>(count));
  return 0;
}

void PrintLoad(const char* when) {
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) {
    std::printf("load average %s: %.2f %.2f %.2f\n", when, load[0], load[1], load[2]);
  }
}

}  // namespace
}  // namespace tearproof

int main(int argc, char** argv) {
  // libpmem reads PMEM_IS_PMEM_FORCE when it is loaded, so it must be in the environment before
  // the process starts: re-execute once with it set.
  if (std::getenv("PMEM_IS_PMEM_FORCE") == nullptr) {
    setenv("PMEM_IS_PMEM_FORCE", "1", 1);
    execv("/proc/self/exe", argv);
    std::perror("execv");
    return 2;
  }
  if (argc == 6 && std::string(argv[1]) == "--fixed") {
    const int rc = tearproof::RunFixed(argv[2], argv[3], static_cast<uint32_t>(std::atoi(argv[4])),
                                       std::strtoull(argv[5], nullptr, 10));
    for (const std::string& path : tearproof::CreatedFiles()) unlink(path.c_str());
    return rc;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  tearproof::RatioReporter reporter;
  tearproof::PrintLoad("before");
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  tearproof::PrintLoad("after");
  benchmark::Shutdown();
  for (const std::string& path : tearproof::CreatedFiles()) unlink(path.c_str());
  return 0;
}
