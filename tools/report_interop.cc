#include "tools/report_interop.h"

#include <fmt/core.h>
#include <libpmemblk.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "btt/btt.h"
#include "btt/file_namespace.h"
#include "harness/explorer.h"
#include "tools/report_process.h"
#include "util/prng.h"

namespace tearproof::tools {
namespace {

using json = nlohmann::json;
constexpr uint64_t kImageBytes = 64ULL << 20;

// The sector of `write` to `lba`: every 8-byte word tagged as the explorer tags it.
std::vector<std::byte> Pattern(uint64_t lba, uint64_t write, uint32_t size) {
  std::vector<std::byte> data(size);
  for (uint32_t w = 0; w < size / 8; ++w) {
    const uint64_t tag = harness::SectorTag(lba, write, w);
    std::memcpy(data.data() + 8 * w, &tag, 8);
  }
  return data;
}

// What each check leaves on the medium: LBA -> expected sector (empty = reads zeros).
struct Expected {
  uint64_t lba;
  std::vector<std::byte> data;
};

std::vector<Expected> Workload(uint64_t nlba, uint32_t size) {
  return {{0, Pattern(0, 1, size)},
          {5, Pattern(5, 2, size)},  // written twice: the second write must win
          {6, {}},                   // written, then zeroed
          {nlba - 1, Pattern(nlba - 1, 1, size)}};
}

// Reads every expected sector through tearproof; "" when all match.
std::string VerifyWithTearproof(const std::string& path, uint32_t size,
                                const std::vector<Expected>& expected, std::string* profile) {
  auto ns = btt::FileNamespace::Open(path, /*read_only=*/true);
  if (!ns.ok()) return "open: " + ns.status().ToString();
  auto b = btt::Btt::Open(**ns);
  if (!b.ok()) return "btt open: " + b.status().ToString();
  *profile = btt::ProfileName((*b)->profile());
  if ((*b)->ExternalLbaSize() != size) {
    return fmt::format("sector size {} where {} was written", (*b)->ExternalLbaSize(), size);
  }
  std::vector<std::byte> got(size);
  for (const Expected& e : expected) {
    if (Status s = (*b)->Read(btt::ExternalLba(e.lba), got); !s.ok()) {
      return fmt::format("read lba {}: {}", e.lba, s.ToString());
    }
    const std::vector<std::byte> want = e.data.empty() ? std::vector<std::byte>(size) : e.data;
    if (got != want) return fmt::format("lba {} reads {}", e.lba, harness::DescribeSector(got));
  }
  auto check = (*b)->Check(false);
  if (!check.ok()) return "check: " + check.status().ToString();
  if (!check->Clean()) return "check: " + check->ToString();
  return "";
}

// Formats an image with tearproof and writes the workload.
std::string WriteWithTearproof(const std::string& path, btt::Profile profile, uint32_t size,
                               uint32_t nfree, Prng& rng, std::vector<Expected>* expected) {
  auto ns = btt::FileNamespace::Create(path, kImageBytes);
  if (!ns.ok()) return "create: " + ns.status().ToString();
  btt::FormatOptions f;
  f.profile = profile;
  f.external_lbasize = size;
  f.nfree = nfree;
  // UUIDs from the seed, so the image is the same on every run; pmempool wants crtime <= mtime.
  for (btt::Uuid* u : {&f.uuid, &f.parent_uuid, &f.pool_part_uuid}) {
    for (auto& byte : *u) byte = static_cast<uint8_t>(rng.Next());
  }
  if (profile != btt::Profile::kPmemblk) f.parent_uuid = {};
  f.pool_crtime = 1;
  f.medium_is_zeroed = true;  // a freshly created sparse file
  if (Status s = btt::Btt::Format(**ns, f); !s.ok()) return "format: " + s.ToString();
  auto b = btt::Btt::Open(**ns);
  if (!b.ok()) return "btt open: " + b.status().ToString();
  *expected = Workload((*b)->ExternalNlba(), size);
  for (const Expected& e : *expected) {
    const std::vector<std::byte> first = Pattern(e.lba, 1, size);
    if (Status s = (*b)->Write(btt::ExternalLba(e.lba), first); !s.ok()) return s.ToString();
    if (!e.data.empty() && e.data != first) {
      if (Status s = (*b)->Write(btt::ExternalLba(e.lba), e.data); !s.ok()) return s.ToString();
    }
    if (e.data.empty()) {
      if (Status s = (*b)->Zero(btt::ExternalLba(e.lba)); !s.ok()) return s.ToString();
    }
  }
  return "";
}

json Check(const std::string& name, const std::string& tool, const std::string& status,
           const std::string& detail, const std::string& command) {
  return {{"name", name},
          {"tool", tool},
          {"status", status},
          {"detail", detail},
          {"command", command.empty() ? json(nullptr) : json(command)}};
}

json LibpmemblkToTearproof(const std::string& dir) {
  const std::string path = dir + "/pmdk.pool";
  constexpr uint32_t kSize = 512;
  PMEMblkpool* pool = pmemblk_create(path.c_str(), kSize, kImageBytes, 0600);
  if (pool == nullptr) {
    return Check("libpmemblk-to-tearproof", "libpmemblk", "failed",
                 std::string("pmemblk_create: ") + pmemblk_errormsg(), "");
  }
  const std::vector<Expected> expected = Workload(pmemblk_nblock(pool), kSize);
  bool ok = true;
  for (const Expected& e : expected) {
    const auto lba = static_cast<long long>(e.lba);
    ok = ok && pmemblk_write(pool, Pattern(e.lba, 1, kSize).data(), lba) == 0;
    if (e.data.empty()) {
      ok = ok && pmemblk_set_zero(pool, lba) == 0;
    } else {
      ok = ok && pmemblk_write(pool, e.data.data(), lba) == 0;
    }
  }
  const std::string error = ok ? "" : pmemblk_errormsg();
  pmemblk_close(pool);
  if (!ok) return Check("libpmemblk-to-tearproof", "libpmemblk", "failed", error, "");
  std::string profile;
  const std::string bad = VerifyWithTearproof(path, kSize, expected, &profile);
  if (!bad.empty()) return Check("libpmemblk-to-tearproof", "libpmemblk", "failed", bad, "");
  return Check("libpmemblk-to-tearproof", "libpmemblk", "passed",
               fmt::format("a 512 B pool written by libpmemblk (two writes, a zero) opens as "
                           "profile {} and reads identically; check clean",
                           profile),
               "");
}

json TearproofToPmempool(const std::string& dir, Prng& rng) {
  const std::string path = dir + "/tearproof.pool";
  constexpr uint32_t kSize = 512;
  std::vector<Expected> expected;
  std::string bad = WriteWithTearproof(path, btt::Profile::kPmemblk, kSize, 4, rng, &expected);
  if (!bad.empty()) return Check("tearproof-to-pmempool", "pmempool", "failed", bad, "");
  const std::vector<std::string> argv = {"pmempool", "check", "-v", path};
  const std::string command = "pmempool check -v <tearproof pmemblk pool>";
  auto run = RunProcess(argv, true);
  if (!run.ok() && run.status().code() == StatusCode::kNotFound) {
    return Check("tearproof-to-pmempool", "pmempool", "skipped", run.status().message(), command);
  }
  if (!run.ok() || run->exit_code != 0 || run->output.find("consistent") == std::string::npos ||
      run->output.find("not consistent") != std::string::npos) {
    return Check("tearproof-to-pmempool", "pmempool", "failed",
                 run.ok() ? "pmempool check: " + run->output : run.status().ToString(), command);
  }
  PMEMblkpool* pool = pmemblk_open(path.c_str(), kSize);
  if (pool == nullptr) {
    return Check("tearproof-to-pmempool", "pmempool", "failed",
                 std::string("pmemblk_open: ") + pmemblk_errormsg(), command);
  }
  std::vector<std::byte> got(kSize);
  for (const Expected& e : expected) {
    const std::vector<std::byte> want = e.data.empty() ? std::vector<std::byte>(kSize) : e.data;
    if (pmemblk_read(pool, got.data(), static_cast<long long>(e.lba)) != 0 || got != want) {
      bad = fmt::format("libpmemblk reads lba {} as {}", e.lba, harness::DescribeSector(got));
      break;
    }
  }
  pmemblk_close(pool);
  if (!bad.empty()) return Check("tearproof-to-pmempool", "pmempool", "failed", bad, command);
  return Check("tearproof-to-pmempool", "pmempool", "passed",
               "pmempool check: consistent; libpmemblk reads every sector tearproof wrote",
               command);
}

json ImageToNdctl(const std::string& dir, btt::Profile profile, uint32_t size,
                  const std::string& version, Prng& rng) {
  const std::string name = std::string(btt::ProfileName(profile)) + "-to-ndctl";
  const std::string path = dir + "/" + btt::ProfileName(profile) + ".img";
  constexpr uint32_t kNfree = 16;
  std::vector<Expected> expected;
  const std::string bad = WriteWithTearproof(path, profile, size, kNfree, rng, &expected);
  if (!bad.empty()) return Check(name, "ndctl", "failed", bad, "");
  const std::string command =
      fmt::format("ndctl read-infoblock -i <tearproof {} image> -j -V", btt::ProfileName(profile));
  auto run = RunProcess({"ndctl", "read-infoblock", "-i", path, "-j", "-V"}, false);
  if (!run.ok() && run.status().code() == StatusCode::kNotFound) {
    return Check(name, "ndctl", "skipped", run.status().message(), command);
  }
  if (!run.ok() || run->exit_code != 0) {
    return Check(name, "ndctl", "failed",
                 run.ok() ? fmt::format("exit {}: {}", run->exit_code, run->output)
                          : run.status().ToString(),
                 command);
  }
  const json info = json::parse(run->output, nullptr, false);
  const json* block = info.is_array() && !info.empty() ? &info[0] : nullptr;
  if (block == nullptr || !block->is_object() || (*block)["version"] != version ||
      (*block)["external_lbasize"] != size || (*block)["nfree"] != kNfree) {
    return Check(name, "ndctl", "failed",
                 "ndctl read-infoblock does not show version " + version +
                     fmt::format(", {} B sectors, nfree {}: ", size, kNfree) + run->output,
                 command);
  }
  return Check(name, "ndctl", "passed",
               fmt::format("ndctl reads BTT {} with {} B sectors, nfree {}, {} LBAs", version, size,
                           kNfree, (*block)["external_nlba"].dump()),
               command);
}

}  // namespace

InteropOutcome RunInterop(uint64_t seed,
                          const std::function<void(uint64_t, const std::string&)>& progress) {
  InteropOutcome out;
  char tmpl[] = "/tmp/tearproof-prove-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    out.status = "error";
    out.reason = std::string("mkdtemp: ") + std::strerror(errno);
    out.section = {{"checks", json::array()}};
    return out;
  }
  const std::string dir = tmpl;
  Prng rng(seed ^ 0x1A7E20CULL);
  json checks = json::array();
  progress(0, "libpmemblk");
  checks.push_back(LibpmemblkToTearproof(dir));
  progress(1, "pmempool check");
  checks.push_back(TearproofToPmempool(dir, rng));
  progress(2, "ndctl, linux image");
  checks.push_back(ImageToNdctl(dir, btt::Profile::kLinux, 4096, "1.1", rng));
  progress(3, "ndctl, uefi image");
  checks.push_back(ImageToNdctl(dir, btt::Profile::kUefi, 512, "2.0", rng));
  progress(4, "");
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);

  uint64_t passed = 0, skipped = 0;
  for (const json& c : checks) {
    const std::string status = c["status"];
    passed += status == "passed";
    skipped += status == "skipped";
    if (status == "failed" && out.reason.empty()) {
      out.reason = c["name"].get<std::string>() + ": " + c["detail"].get<std::string>();
    }
    out.lines.push_back(fmt::format("{}: {}: {}", c["name"].get<std::string>(), status,
                                    c["detail"].get<std::string>()));
  }
  out.status = !out.reason.empty() ? "failed" : skipped == checks.size() ? "skipped" : "passed";
  if (out.status == "skipped") out.reason = "neither pmempool nor ndctl is installed";
  out.section = {{"checks", checks}, {"passed", passed}, {"skipped", skipped}};
  return out;
}

}  // namespace tearproof::tools
