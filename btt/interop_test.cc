// Interop tests (label interop): byte compatibility with PMDK and ndctl on real files.
//   - a pool made and written by libpmemblk opens in tearproof (profile detected) and reads
//     identically, including Z and E blocks;
//   - blocks tearproof writes into such a pool read back identically through libpmemblk, and
//     `pmempool check` reports the pool consistent;
//   - a pmemblk pool formatted by tearproof is accepted by libpmemblk and pmempool check;
//   - a tearproof write interrupted after the flog commit (P3) is rolled forward by libpmemblk
//     (the PMDK-style raw flog values);
//   - `ndctl read-infoblock -V` accepts linux (v1.1 at 4 KiB) and uefi (v2.0 at 0) images.
#include <gtest/gtest.h>
#include <libpmemblk.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "btt/btt.h"
#include "btt/file_namespace.h"
#include "btt/test_util.h"

namespace tearproof::btt {
namespace {

using testing::Pattern;
using testing::ReadSector;
using testing::TestUuid;

constexpr uint64_t kMiB = 1ULL << 20;

std::string TempPath(const std::string& name) {
  return "/tmp/tearproof_btt_" + std::to_string(::getpid()) + "_" + name;
}

int RunShell(const std::string& cmd, std::string* output = nullptr) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[512];
  std::string out;
  while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  const int rc = ::pclose(p);
  if (output != nullptr) *output = out;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(BttInterop, LibpmemblkPoolReadsIdenticallyInTearproofAndBack) {
  for (uint32_t bsize : {512u, 520u, 4096u}) {
    SCOPED_TRACE(bsize);
    const std::string path = TempPath("pmdk.pool");
    ::unlink(path.c_str());
    PMEMblkpool* pbp = pmemblk_create(path.c_str(), bsize, 64 * kMiB, 0644);
    ASSERT_NE(pbp, nullptr) << pmemblk_errormsg();
    const uint64_t nblock = pmemblk_nblock(pbp);
    for (uint64_t lba : {uint64_t{0}, uint64_t{5}, uint64_t{6}, nblock - 1}) {
      ASSERT_EQ(pmemblk_write(pbp, Pattern(lba, 1, bsize).data(), lba), 0);
    }
    ASSERT_EQ(pmemblk_write(pbp, Pattern(5, 2, bsize).data(), 5), 0);
    ASSERT_EQ(pmemblk_set_zero(pbp, 6), 0);
    ASSERT_EQ(pmemblk_set_error(pbp, 7), 0);
    pmemblk_close(pbp);

    {
      auto ns = FileNamespace::Open(path, /*read_only=*/false);
      ASSERT_TRUE(ns.ok()) << ns.status().ToString();
      auto btt = Btt::Open(**ns);
      ASSERT_TRUE(btt.ok()) << btt.status().ToString();
      EXPECT_EQ((*btt)->profile(), Profile::kPmemblk);
      EXPECT_EQ((*btt)->ExternalNlba(), nblock);
      EXPECT_EQ(ReadSector(**btt, 0), Pattern(0, 1, bsize));
      EXPECT_EQ(ReadSector(**btt, 5), Pattern(5, 2, bsize));
      EXPECT_EQ(ReadSector(**btt, 6), std::vector<std::byte>(bsize));
      EXPECT_EQ(ReadSector(**btt, nblock - 1), Pattern(nblock - 1, 1, bsize));
      std::vector<std::byte> buf(bsize);
      EXPECT_EQ((*btt)->Read(ExternalLba(7), buf).code(), StatusCode::kMediaError);
      auto report = (*btt)->Check(false);
      ASSERT_TRUE(report.ok());
      EXPECT_TRUE(report->Clean()) << report->ToString();
      // Now tearproof writes: new LBAs, overwrites, an E block cleared, a Z block.
      for (uint64_t lba : {uint64_t{5}, uint64_t{7}, uint64_t{100}, nblock - 1}) {
        ASSERT_TRUE((*btt)->Write(ExternalLba(lba), Pattern(lba, 3, bsize)).ok());
      }
      ASSERT_TRUE((*btt)->Zero(ExternalLba(0)).ok());
    }

    std::string out;
    EXPECT_EQ(RunShell("pmempool check " + path, &out), 0) << out;
    pbp = pmemblk_open(path.c_str(), bsize);
    ASSERT_NE(pbp, nullptr) << pmemblk_errormsg();
    std::vector<std::byte> buf(bsize);
    for (uint64_t lba : {uint64_t{5}, uint64_t{7}, uint64_t{100}, nblock - 1}) {
      ASSERT_EQ(pmemblk_read(pbp, buf.data(), lba), 0);
      EXPECT_EQ(buf, Pattern(lba, 3, bsize)) << lba;
    }
    ASSERT_EQ(pmemblk_read(pbp, buf.data(), 0), 0);
    EXPECT_EQ(buf, std::vector<std::byte>(bsize));
    pmemblk_close(pbp);
    EXPECT_EQ(pmemblk_check(path.c_str(), bsize), 1);
    ::unlink(path.c_str());
  }
}

TEST(BttInterop, FreshLibpmemblkPoolWithoutLayoutIsNotFoundAndNotFormatted) {
  // libpmemblk lays the BTT out on the first write; until then there is nothing to open, and
  // tearproof must not lay one out behind the user's back.
  const std::string path = TempPath("lazy.pool");
  ::unlink(path.c_str());
  PMEMblkpool* pbp = pmemblk_create(path.c_str(), 512, 32 * kMiB, 0644);
  ASSERT_NE(pbp, nullptr) << pmemblk_errormsg();
  pmemblk_close(pbp);
  {
    auto ns = FileNamespace::Open(path, /*read_only=*/false);
    ASSERT_TRUE(ns.ok());
    auto btt = Btt::Open(**ns);
    ASSERT_FALSE(btt.ok());
    EXPECT_EQ(btt.status().code(), StatusCode::kNotFound) << btt.status().ToString();
  }
  std::string out;
  EXPECT_EQ(RunShell("pmempool check " + path, &out), 0) << out;
  ::unlink(path.c_str());
}

FormatOptions PoolOpts(uint32_t bsize) {
  FormatOptions f;
  f.profile = Profile::kPmemblk;
  f.external_lbasize = bsize;
  f.uuid = TestUuid(31);
  f.parent_uuid = TestUuid(32);
  f.pool_part_uuid = TestUuid(33);
  f.pool_crtime = static_cast<uint64_t>(std::time(nullptr)) - 10;
  return f;
}

TEST(BttInterop, TearproofFormattedPoolIsAcceptedByLibpmemblkAndPmempool) {
  for (uint32_t bsize : {512u, 4160u}) {
    SCOPED_TRACE(bsize);
    const std::string path = TempPath("tp.pool");
    {
      auto ns = FileNamespace::Create(path, 32 * kMiB);
      ASSERT_TRUE(ns.ok()) << ns.status().ToString();
      ASSERT_TRUE(Btt::Format(**ns, PoolOpts(bsize)).ok());
      auto btt = Btt::Open(**ns);
      ASSERT_TRUE(btt.ok()) << btt.status().ToString();
      for (uint64_t lba = 0; lba < 20; ++lba) {
        ASSERT_TRUE((*btt)->Write(ExternalLba(lba), Pattern(lba, 1, bsize)).ok());
      }
    }
    std::string out;
    EXPECT_EQ(RunShell("pmempool check -v " + path, &out), 0) << out;
    EXPECT_NE(out.find("consistent"), std::string::npos) << out;
    EXPECT_EQ(out.find("not consistent"), std::string::npos) << out;
    PMEMblkpool* pbp = pmemblk_open(path.c_str(), bsize);
    ASSERT_NE(pbp, nullptr) << pmemblk_errormsg();
    std::vector<std::byte> buf(bsize);
    for (uint64_t lba = 0; lba < 20; ++lba) {
      ASSERT_EQ(pmemblk_read(pbp, buf.data(), lba), 0);
      EXPECT_EQ(buf, Pattern(lba, 1, bsize)) << lba;
    }
    ASSERT_EQ(pmemblk_write(pbp, Pattern(3, 9, bsize).data(), 3), 0);
    pmemblk_close(pbp);
    auto ns = FileNamespace::Open(path, /*read_only=*/true);
    ASSERT_TRUE(ns.ok());
    auto btt = Btt::Open(**ns);
    ASSERT_TRUE(btt.ok()) << btt.status().ToString();
    EXPECT_TRUE((*btt)->read_only());
    EXPECT_EQ(ReadSector(**btt, 3), Pattern(3, 9, bsize));
    EXPECT_EQ(ReadSector(**btt, 4), Pattern(4, 1, bsize));
    ::unlink(path.c_str());
  }
}

// Drops every store after the first `budget` ones (a power cut).
class CutNamespace final : public Namespace {
 public:
  CutNamespace(Namespace& inner, uint64_t budget) : inner_(inner), budget_(budget) {}
  uint64_t SizeBytes() const override { return inner_.SizeBytes(); }
  bool ReadOnly() const override { return false; }
  Status Read(uint64_t o, std::span<std::byte> out) override { return inner_.Read(o, out); }
  Status Write(uint64_t o, std::span<const std::byte> d) override {
    if (stores_++ >= budget_) return Status::Ok();
    return inner_.Write(o, d);
  }
  Status Flush(uint64_t o, uint64_t n) override { return inner_.Flush(o, n); }
  void Drain() override { inner_.Drain(); }

 private:
  Namespace& inner_;
  uint64_t budget_;
  uint64_t stores_ = 0;
};

TEST(BttInterop, LibpmemblkRollsForwardATearproofWriteCutAfterTheFlogCommit) {
  const std::string path = TempPath("cut.pool");
  {
    auto ns = FileNamespace::Create(path, 32 * kMiB);
    ASSERT_TRUE(ns.ok());
    ASSERT_TRUE(Btt::Format(**ns, PoolOpts(512)).ok());
    {
      auto btt = Btt::Open(**ns);
      ASSERT_TRUE(btt.ok());
      ASSERT_TRUE((*btt)->Write(ExternalLba(8), Pattern(8, 1, 512)).ok());
    }
    // P1 data, P2 flog half A, P3 flog half B land; P4 (the map store) is lost.
    CutNamespace cut(**ns, 3);
    auto btt = Btt::Open(cut);
    ASSERT_TRUE(btt.ok());
    ASSERT_TRUE((*btt)->Write(ExternalLba(8), Pattern(8, 2, 512)).ok());
    ASSERT_TRUE((*btt)->Write(ExternalLba(9), Pattern(9, 2, 512)).ok());  // entirely lost
  }
  PMEMblkpool* pbp = pmemblk_open(path.c_str(), 512);
  ASSERT_NE(pbp, nullptr) << pmemblk_errormsg();
  std::vector<std::byte> buf(512);
  ASSERT_EQ(pmemblk_read(pbp, buf.data(), 8), 0);
  EXPECT_EQ(buf, Pattern(8, 2, 512));
  ASSERT_EQ(pmemblk_read(pbp, buf.data(), 9), 0);
  EXPECT_EQ(buf, std::vector<std::byte>(512));
  pmemblk_close(pbp);
  std::string out;
  EXPECT_EQ(RunShell("pmempool check " + path, &out), 0) << out;
  ::unlink(path.c_str());
}

TEST(BttInterop, NdctlReadInfoblockAcceptsLinuxAndUefiImages) {
  if (RunShell("command -v ndctl") != 0) GTEST_SKIP() << "ndctl not installed";
  for (Profile p : {Profile::kLinux, Profile::kUefi}) {
    SCOPED_TRACE(ProfileName(p));
    const std::string path = TempPath("ndctl.img");
    {
      auto ns = FileNamespace::Create(path, 20 * kMiB);
      ASSERT_TRUE(ns.ok());
      FormatOptions f;
      f.profile = p;
      f.external_lbasize = 4096;
      f.uuid = TestUuid(41);
      ASSERT_TRUE(Btt::Format(**ns, f).ok());
    }
    std::string out;
    EXPECT_EQ(RunShell("ndctl read-infoblock -i " + path + " -j -V", &out), 0) << out;
    EXPECT_NE(out.find(p == Profile::kLinux ? "\"version\":\"1.1\"" : "\"version\":\"2.0\""),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("\"external_lbasize\":4096"), std::string::npos) << out;
    ::unlink(path.c_str());
  }
}

TEST(BttInterop, PadCompatStyleImageIsReadByNdctlAndTearproof) {
  // The shape of ndctl's test/btt-pad-compat image: 64 MiB, v2.0 at 0, 4 KiB sectors, null
  // parent UUID, the pre-4.15 (0,2) flog layout after some writes.
  if (RunShell("command -v ndctl") != 0) GTEST_SKIP() << "ndctl not installed";
  const std::string path = TempPath("pad.img");
  auto geo = ComputeGeometry(Profile::kUefi, 64 * kMiB, 4096, 256);
  ASSERT_TRUE(geo.ok());
  EXPECT_EQ(geo->arenas[0].internal_nlba, 16361u);  // the real image's values (§1.4)
  EXPECT_EQ(geo->arenas[0].mapoff, 0x3feb000u);
  {
    auto ns = FileNamespace::Create(path, 64 * kMiB);
    ASSERT_TRUE(ns.ok());
    FormatOptions f;
    f.profile = Profile::kUefi;
    f.external_lbasize = 4096;
    f.uuid = TestUuid(51);
    ASSERT_TRUE(Btt::Format(**ns, f).ok());
    {
      auto btt = Btt::Open(**ns);
      ASSERT_TRUE(btt.ok());
      for (uint64_t lba = 0; lba < 16; ++lba) {
        ASSERT_TRUE((*btt)->Write(ExternalLba(lba), Pattern(lba, 1, 4096)).ok());
      }
    }
    // Move every lane's slot 1 to slot 2: the old kernel's layout.
    for (uint64_t lane = 0; lane < 256; ++lane) {
      const uint64_t g = geo->arenas[0].flogoff + lane * 64;
      std::vector<std::byte> slot(16), zero(16);
      ASSERT_TRUE((*ns)->Read(g + 16, slot).ok());
      ASSERT_TRUE((*ns)->WritePersist(g + 32, slot).ok());
      ASSERT_TRUE((*ns)->WritePersist(g + 16, zero).ok());
    }
  }
  std::string out;
  EXPECT_EQ(RunShell("ndctl read-infoblock -i " + path + " -j -V", &out), 0) << out;
  EXPECT_NE(out.find("\"version\":\"2.0\""), std::string::npos) << out;
  auto ns = FileNamespace::Open(path, /*read_only=*/true);
  ASSERT_TRUE(ns.ok());
  auto btt = Btt::Open(**ns);
  ASSERT_TRUE(btt.ok()) << btt.status().ToString();
  EXPECT_EQ((*btt)->FlogIndices(0), (std::array<uint32_t, 2>{0, 2}));
  for (uint64_t lba = 0; lba < 16; ++lba) EXPECT_EQ(ReadSector(**btt, lba), Pattern(lba, 1, 4096));
  EXPECT_TRUE((*btt)->Check(false)->Clean());
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace tearproof::btt
