// Replays every file in fuzz/corpus/ and fuzz/regressions/ through LLVMFuzzerTestOneInput (the
// entry point of btt_open_fuzzer.cc) in an ordinary build, without libFuzzer.
//
// What it checks: every input the fuzzer was seeded with or once crashed on still runs to the end
// without a crash, assertion, sanitizer report or oracle failure (ORACLE-RO-NO-STORES,
// ORACLE-DURABLE, ORACLE-REOPEN; see the fuzzer's header). A crash aborts the test binary; the
// name of the input being replayed is printed to stderr first, and the replay command for it is
//   build-fuzz/fuzz/btt_open_fuzzer <file>   (clang, fuzz/run.sh builds it)
// Deterministic: files are replayed in sorted path order. Hidden files and README files are
// skipped. TEARPROOF_FUZZ_REPLAY_DIR=<dir> in the environment also replays <dir> (e.g. a
// libFuzzer work corpus, build-fuzz/corpus-work, for a gcov coverage measurement).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace tearproof::fuzz {
namespace {

constexpr size_t kMaxInputBytes = 8u << 20;  // inputs are a few KiB; refuse anything absurd

std::vector<std::filesystem::path> InputsIn(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || name.empty() || name[0] == '.' || name.starts_with("README")) {
      continue;
    }
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

size_t ReplayDirectory(const std::filesystem::path& dir) {
  size_t replayed = 0;
  for (const auto& path : InputsIn(dir)) {
    std::ifstream file(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                               std::istreambuf_iterator<char>());
    EXPECT_LE(bytes.size(), kMaxInputBytes) << path;
    if (bytes.size() > kMaxInputBytes) continue;
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", path.c_str(), bytes.size());
    EXPECT_EQ(LLVMFuzzerTestOneInput(bytes.data(), bytes.size()), 0) << path;
    ++replayed;
  }
  return replayed;
}

const std::filesystem::path kFuzzDir = TEARPROOF_FUZZ_DIR;

TEST(BttOpenFuzzReplay, EverySeedInTheCorpusRunsClean) {
  EXPECT_GT(ReplayDirectory(kFuzzDir / "corpus"), 0u) << "fuzz/corpus/ is empty";
}

TEST(BttOpenFuzzReplay, EveryRecordedCrashNoLongerCrashes) {
  ReplayDirectory(kFuzzDir / "regressions");
}

TEST(BttOpenFuzzReplay, TheDirectoryNamedInTheEnvironmentRunsClean) {
  const char* dir = std::getenv("TEARPROOF_FUZZ_REPLAY_DIR");
  if (dir == nullptr) GTEST_SKIP() << "TEARPROOF_FUZZ_REPLAY_DIR is not set";
  EXPECT_GT(ReplayDirectory(dir), 0u) << dir << " holds no inputs";
}

TEST(BttOpenFuzzReplay, EmptyAndTinyInputsRunClean) {
  EXPECT_EQ(LLVMFuzzerTestOneInput(nullptr, 0), 0);
  const uint8_t one[1] = {0};
  EXPECT_EQ(LLVMFuzzerTestOneInput(one, 1), 0);
  const uint8_t raw[3] = {0xC0, 'B', 'T'};
  EXPECT_EQ(LLVMFuzzerTestOneInput(raw, 3), 0);
}

}  // namespace
}  // namespace tearproof::fuzz
