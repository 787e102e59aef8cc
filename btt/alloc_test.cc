// The I/O paths do not allocate (issue 3 §2): once a Btt is open, Read, Write, Zero and SetError
// on the success path make no heap allocation, on a DRAM namespace and on a memory-mapped file
// (libpmem), with the default ThreadSync. This binary replaces the global operator new with one
// that counts the calls made by the counting thread while a window is open; it is a binary of
// its own so the replacement does not reach other tests.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "btt/btt.h"
#include "btt/file_namespace.h"
#include "btt/memory_namespace.h"
#include "btt/test_util.h"

namespace {
thread_local bool g_counting = false;
std::atomic<uint64_t> g_allocations{0};

void* CountedAlloc(std::size_t size) {
  if (g_counting) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return CountedAlloc(size); }
void* operator new[](std::size_t size) { return CountedAlloc(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace tearproof::btt {
namespace {

using testing::Pattern;
using testing::TestUuid;

// Counts the allocations of this thread between construction and Stop().
class AllocationWindow {
 public:
  AllocationWindow() {
    g_allocations.store(0);
    g_counting = true;
  }
  uint64_t Stop() {
    g_counting = false;
    return g_allocations.load();
  }
  ~AllocationWindow() { g_counting = false; }
};

// Formats `ns`, opens it, and runs a mixed I/O sequence twice: once to warm up (first use of a
// lane, lazily built state) and once inside the window.
void ExpectIoDoesNotAllocate(Namespace& ns, uint32_t lbasize) {
  FormatOptions o;
  o.profile = Profile::kLinux;
  o.external_lbasize = lbasize;
  o.nfree = 4;
  o.uuid = TestUuid(31);
  ASSERT_TRUE(Btt::Format(ns, o).ok());
  auto opened = Btt::Open(ns);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Btt& b = **opened;
  const std::vector<std::byte> data = Pattern(1, 1, lbasize);
  std::vector<std::byte> out(lbasize);
  auto run = [&] {
    for (uint64_t i = 0; i < 64; ++i) {
      const ExternalLba lba(i % 13);
      ASSERT_TRUE(b.Write(lba, data).ok());
      ASSERT_TRUE(b.Read(lba, out).ok());
      if (i % 7 == 0) {
        ASSERT_TRUE(b.Zero(lba).ok());
        ASSERT_TRUE(b.Read(lba, out).ok());
      }
    }
    ASSERT_TRUE(b.SetError(ExternalLba(20)).ok());
    ASSERT_TRUE(b.Write(ExternalLba(20), data).ok());  // clears the error flag
  };
  run();
  AllocationWindow window;
  run();
  EXPECT_EQ(window.Stop(), 0u) << "the I/O path allocated";
}

TEST(BttAllocation, IoOnADramNamespaceDoesNotAllocate) {
  MemoryNamespace ns(17ULL << 20);
  ExpectIoDoesNotAllocate(ns, 512);
}

TEST(BttAllocation, IoOnAMappedFileDoesNotAllocate) {
  const std::string path = ::testing::TempDir() + "/alloc_test_" + std::to_string(getpid());
  {
    auto ns = FileNamespace::Create(path, 17ULL << 20);
    ASSERT_TRUE(ns.ok()) << ns.status().ToString();
    ExpectIoDoesNotAllocate(**ns, 4096);
  }
  std::remove(path.c_str());
}

// The counter works: an allocation inside the window is seen (so a 0 above means something).
TEST(BttAllocation, TheCounterSeesAnAllocation) {
  AllocationWindow window;
  auto* p = new std::string(100, 'x');
  const uint64_t n = window.Stop();
  delete p;
  EXPECT_GE(n, 1u);
}

}  // namespace
}  // namespace tearproof::btt
