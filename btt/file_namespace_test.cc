// FileNamespace tests: the Namespace contract on a real mapped file (range checks, read-only
// mapping refuses stores, data survives unmap/remap), a BTT formatted on a file reopens
// read-only with the same contents, and a namespace that starts at an offset inside the file
// (bad offsets refused) leaves the bytes before it alone.
#include "btt/file_namespace.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "btt/btt.h"
#include "btt/test_util.h"

namespace tearproof::btt {
namespace {

TEST(BttFileNamespace, HonoursTheNamespaceContract) {
  const std::string path = "/tmp/tearproof_btt_fns_" + std::to_string(::getpid());
  {
    auto ns = FileNamespace::Create(path, 1 << 20);
    ASSERT_TRUE(ns.ok()) << ns.status().ToString();
    EXPECT_EQ((*ns)->SizeBytes(), 1u << 20);
    const uint64_t word = 0x1122334455667788ULL;
    ASSERT_TRUE((*ns)->WritePersist(4096, std::as_bytes(std::span(&word, 1))).ok());
    std::vector<std::byte> big(10000, std::byte{7});
    ASSERT_TRUE((*ns)->WritePersist(8191, big).ok());
    EXPECT_EQ((*ns)->Write((1 << 20) - 4, big).code(), StatusCode::kOutOfRange);
  }
  auto ro = FileNamespace::Open(path, /*read_only=*/true);
  ASSERT_TRUE(ro.ok());
  EXPECT_TRUE((*ro)->ReadOnly());
  uint64_t word = 0;
  ASSERT_TRUE((*ro)->Read(4096, std::as_writable_bytes(std::span(&word, 1))).ok());
  EXPECT_EQ(word, 0x1122334455667788ULL);
  std::vector<std::byte> back(10000);
  ASSERT_TRUE((*ro)->Read(8191, back).ok());
  EXPECT_EQ(back, std::vector<std::byte>(10000, std::byte{7}));
  EXPECT_EQ((*ro)->Write(0, back).code(), StatusCode::kReadOnly);
  EXPECT_EQ(FileNamespace::Open(path + ".missing", false).status().code(), StatusCode::kNotFound);
  ::unlink(path.c_str());
}

TEST(BttFileNamespace, AnOffsetStartsTheNamespaceInsideTheFile) {
  const std::string path = "/tmp/tearproof_btt_fnso_" + std::to_string(::getpid());
  constexpr uint64_t kOffset = 1 << 20;
  {
    auto ns = FileNamespace::Create(path, 20 << 20, kOffset);
    ASSERT_TRUE(ns.ok()) << ns.status().ToString();
    EXPECT_EQ((*ns)->SizeBytes(), 20u << 20);
    FormatOptions f;
    f.profile = Profile::kUefi;  // arena 0's info block at namespace offset 0 = file offset 1 MiB
    f.external_lbasize = 512;
    ASSERT_TRUE(Btt::Format(**ns, f).ok());
    auto btt = Btt::Open(**ns);
    ASSERT_TRUE(btt.ok());
    ASSERT_TRUE((*btt)->Write(ExternalLba(5), testing::Pattern(5, 1, 512)).ok());
  }
  // The whole file holds no BTT where detection looks; from the offset it does, read-only too.
  auto whole = FileNamespace::Open(path, /*read_only=*/true);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ((*whole)->SizeBytes(), (20u << 20) + kOffset);
  EXPECT_EQ(Btt::Open(**whole).status().code(), StatusCode::kNotFound);
  std::vector<std::byte> head(kOffset);
  ASSERT_TRUE((*whole)->Read(0, head).ok());
  EXPECT_EQ(head, std::vector<std::byte>(kOffset));  // the bytes before the offset: untouched
  for (const bool read_only : {true, false}) {
    auto ns = FileNamespace::Open(path, read_only, kOffset);
    ASSERT_TRUE(ns.ok());
    auto btt = Btt::Open(**ns);
    ASSERT_TRUE(btt.ok()) << btt.status().ToString();
    EXPECT_EQ(testing::ReadSector(**btt, 5), testing::Pattern(5, 1, 512));
  }
  // Offsets that cannot start a namespace are usage errors.
  EXPECT_EQ(FileNamespace::Open(path, true, 1000).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FileNamespace::Open(path, false, 1000).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FileNamespace::Open(path, true, 64 << 20).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FileNamespace::Create(path + ".x", 1 << 20, 12).status().code(),
            StatusCode::kInvalidArgument);
  ::unlink(path.c_str());
}

TEST(BttFileNamespace, BttOnAFileReopensReadOnly) {
  const std::string path = "/tmp/tearproof_btt_fnsb_" + std::to_string(::getpid());
  {
    auto ns = FileNamespace::Create(path, 20 << 20);
    ASSERT_TRUE(ns.ok());
    FormatOptions f;
    f.profile = Profile::kLinux;
    f.external_lbasize = 4096;
    ASSERT_TRUE(Btt::Format(**ns, f).ok());
    auto btt = Btt::Open(**ns);
    ASSERT_TRUE(btt.ok());
    ASSERT_TRUE((*btt)->Write(ExternalLba(3), testing::Pattern(3, 1, 4096)).ok());
  }
  auto ns = FileNamespace::Open(path, /*read_only=*/true);
  ASSERT_TRUE(ns.ok());
  auto btt = Btt::Open(**ns);
  ASSERT_TRUE(btt.ok()) << btt.status().ToString();
  std::vector<std::byte> out(4096);
  ASSERT_TRUE((*btt)->Read(ExternalLba(3), out).ok());
  EXPECT_EQ(out, testing::Pattern(3, 1, 4096));
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace tearproof::btt
