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

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
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

TearproofDevice& Tearproof(uint32_t bsize) {
  static std::map<uint32_t, TearproofDevice> devices;
  TearproofDevice& d = devices[bsize];
  if (!d.btt) {
    const std::string path = ShmPath("tp" + std::to_string(bsize));
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

#define TP_BTT_BENCH(fn) \
  BENCHMARK(fn)->Arg(4096)->Arg(512)->Threads(1)->Threads(2)->UseRealTime()->MinTime(0.5)
TP_BTT_BENCH(BM_RawWrite);
TP_BTT_BENCH(BM_PmemblkWrite);
TP_BTT_BENCH(BM_TearproofWrite);
TP_BTT_BENCH(BM_RawRead);
TP_BTT_BENCH(BM_PmemblkRead);
TP_BTT_BENCH(BM_TearproofRead);

// Prints the usual console output, then the side-by-side ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) rate_[run.benchmark_name()] = it->second.value;
    }
  }
  void PrintRatios() const {
    std::printf("\nside-by-side ratios (ops/s; > 1 means tearproof is faster)\n");
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
};

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
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  tearproof::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  for (const std::string& path : tearproof::CreatedFiles()) unlink(path.c_str());
  return 0;
}
