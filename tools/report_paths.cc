#include "tools/report_paths.h"

#include <fmt/core.h>

#include <cstring>
#include <functional>

#include "btt/btt.h"
#include "btt/layout.h"
#include "harness/explorer.h"
#include "harness/sequential_sync.h"
#include "harness/sim_namespace.h"
#include "sim/medium.h"

namespace tearproof::tools {
namespace {

using json = nlohmann::json;
using Sector = std::vector<std::byte>;

// A whole sector every byte of which names its version: two versions never share a word.
Sector Version(uint32_t size, uint8_t version) { return Sector(size, std::byte{version}); }

struct Image {
  btt::Profile profile;
  uint32_t sector_size;
  uint32_t nfree;
  sim::Medium medium;
};

Status WriteOnce(btt::Namespace& ns, const Image& image, uint64_t lba, const Sector& data);

// A formatted image (one minimum-size arena) with `writes` (LBA, sector) done and persisted.
Result<Image> Formatted(btt::Profile profile, uint32_t sector_size, uint32_t nfree,
                        const std::vector<std::pair<uint64_t, Sector>>& writes) {
  TP_ASSIGN_OR_RETURN(
      sim::Medium medium,
      sim::Medium::Create({.size_bytes = btt::BttOffsetFor(profile) + btt::kMinArenaSize,
                           .model = sim::PersistencyModel::kPx86,
                           .event_log = false}));
  Image image{profile, sector_size, nfree, std::move(medium)};
  harness::SimNamespace ns(image.medium);
  TP_RETURN_IF_ERROR(harness::FormatSimulatedBtt(ns, profile, sector_size, nfree));
  for (const auto& [lba, data] : writes) TP_RETURN_IF_ERROR(WriteOnce(ns, image, lba, data));
  return image;
}

Result<std::unique_ptr<btt::Btt>> OpenRw(btt::Namespace& ns, const Image& image,
                                         harness::SequentialSync* sync) {
  btt::OpenOptions o;
  o.profile = image.profile;
  o.sync = sync;
  o.lanes = image.nfree;
  return btt::Btt::Open(ns, o);
}

// What the judge of one sweep counts.
struct Sweep {
  uint64_t states = 0;
  uint64_t counted = 0;  // states showing the rare path (the check's counter)
  std::string problem;   // the first state that failed its judgement
};

// Runs `action` on the image and judges the guaranteed crash state before each of its medium
// stores, flushes and fences, and after its end. `count` says whether a reopened state shows the
// path; `allowed` are the sectors LBA 0 may read; `error_ok` admits kMediaError.
Result<Sweep> SweepCrashes(Image& image, const std::function<Status(btt::Namespace&)>& action,
                           const std::vector<Sector>& allowed, bool error_ok,
                           const std::function<bool(btt::Btt&)>& count) {
  std::vector<sim::Medium> states;
  {
    harness::SimNamespace ns(image.medium);
    ns.set_op_hook([&](const harness::MediumOp& op) {
      if (op.phase == harness::MediumOp::Phase::kBefore &&
          op.kind != harness::MediumOp::Kind::kRead) {
        states.push_back(image.medium.MaterializeCrash(image.medium.GuaranteedState()));
      }
    });
    const Status s = action(ns);
    ns.set_op_hook(nullptr);
    TP_RETURN_IF_ERROR(s.Annotate("the driving action: "));
  }
  states.push_back(image.medium.MaterializeCrash(image.medium.GuaranteedState()));
  Sweep sweep;
  for (size_t i = 0; i < states.size(); ++i) {
    ++sweep.states;
    harness::SimNamespace ns(states[i]);
    harness::SequentialSync sync;
    auto b = OpenRw(ns, image, &sync);
    auto fail = [&](const std::string& what) {
      if (sweep.problem.empty()) sweep.problem = fmt::format("crash state {}: {}", i, what);
    };
    if (!b.ok()) {
      fail("open: " + b.status().ToString());
      continue;
    }
    sweep.counted += count(**b);
    Sector out(image.sector_size);
    const Status r = (*b)->Read(btt::ExternalLba(0), out);
    if (r.code() == StatusCode::kMediaError && error_ok) {
      // The E flag is the only media error a sweep may see.
    } else if (!r.ok()) {
      fail("read of lba 0: " + r.ToString());
    } else if (std::find(allowed.begin(), allowed.end(), out) == allowed.end()) {
      fail("lba 0 reads a sector no step of the action wrote (torn or stale)");
    }
    auto check = (*b)->Check(/*repair=*/false);
    if (!check.ok() || !check->Clean()) {
      fail("check: " + (check.ok() ? check->ToString() : check.status().ToString()));
    }
  }
  return sweep;
}

// Writes `data` to `lba` through a read-write open of the namespace.
Status WriteOnce(btt::Namespace& ns, const Image& image, uint64_t lba, const Sector& data) {
  harness::SequentialSync sync;
  TP_ASSIGN_OR_RETURN(auto b, OpenRw(ns, image, &sync));
  return b->Write(btt::ExternalLba(lba), data);
}

json CheckJson(const std::string& name, const std::string& mark, const std::string& counter,
               const Sweep& s) {
  return {{"name", name},       {"mark", mark},         {"states", s.states},
          {"counter", counter}, {"counted", s.counted}, {"problem", s.problem}};
}

Result<json> RollForward() {
  const Sector v1 = Version(512, 1), v2 = Version(512, 2);
  TP_ASSIGN_OR_RETURN(Image image, Formatted(btt::Profile::kLinux, 512, 2, {{0, v1}}));
  TP_ASSIGN_OR_RETURN(
      Sweep s, SweepCrashes(
                   image, [&](btt::Namespace& ns) { return WriteOnce(ns, image, 0, v2); }, {v1, v2},
                   false, [](btt::Btt& b) { return b.open_report().lanes_rolled_forward > 0; }));
  return CheckJson("a write of lba 0 crashed at every point (linux, 512 B, nfree 2)",
                   "recovery-roll-forward", "states whose open rolled a map entry forward", s);
}

Result<json> ErrorFlag() {
  const Sector v1 = Version(512, 1), v2 = Version(512, 2);
  TP_ASSIGN_OR_RETURN(Image image, Formatted(btt::Profile::kLinux, 512, 2, {{0, v1}}));
  TP_ASSIGN_OR_RETURN(Sweep s, SweepCrashes(
                                   image,
                                   [&](btt::Namespace& ns) -> Status {
                                     harness::SequentialSync sync;
                                     TP_ASSIGN_OR_RETURN(auto b, OpenRw(ns, image, &sync));
                                     TP_RETURN_IF_ERROR(b->SetError(btt::ExternalLba(0)));
                                     return b->Write(btt::ExternalLba(0), v2);
                                   },
                                   {v1, v2}, true,
                                   [&](btt::Btt& b) {
                                     // Counted through a read: the E flag's promise is a media
                                     // error.
                                     Sector out(512);
                                     return b.Read(btt::ExternalLba(0), out).code() ==
                                            StatusCode::kMediaError;
                                   }));
  return CheckJson("SetError then Write of lba 0 crashed at every point (linux, 512 B)",
                   "error-flag", "states where lba 0 reads the media error of the E flag", s);
}

Result<json> BackupInfoFallback() {
  const Sector v1 = Version(512, 1), v2 = Version(512, 2);
  TP_ASSIGN_OR_RETURN(Image image, Formatted(btt::Profile::kLinux, 512, 2, {{0, v1}}));
  {
    harness::SimNamespace ns(image.medium);
    // Arena 0's primary info block starts at the BTT offset: its signature made invalid.
    const Sector garbage(64, std::byte{0xFF});
    TP_RETURN_IF_ERROR(ns.WritePersist(btt::BttOffsetFor(image.profile), garbage));
  }
  TP_ASSIGN_OR_RETURN(
      Sweep s, SweepCrashes(
                   image, [&](btt::Namespace& ns) { return WriteOnce(ns, image, 0, v2); }, {v1, v2},
                   false, [](btt::Btt& b) { return b.open_report().primaries_from_backup > 0; }));
  return CheckJson(
      "primary info block invalid; open (restoring it) and a write, crashed at every point",
      "backup-info-fallback", "states whose open fell back to the backup info block", s);
}

Result<json> FlogLayoutZeroTwo() {
  constexpr uint32_t kNfree = 2, kSize = 4096;
  const Sector v1 = Version(kSize, 1), v2 = Version(kSize, 2), v3 = Version(kSize, 3);
  TP_ASSIGN_OR_RETURN(Image image,
                      Formatted(btt::Profile::kUefi, kSize, kNfree, {{0, v1}, {1, v1}}));
  {
    harness::SimNamespace ns(image.medium);
    // The old kernel's layout: each lane's second live slot is slot 2, not slot 1.
    TP_ASSIGN_OR_RETURN(btt::Geometry geo,
                        btt::ComputeGeometry(image.profile, ns.SizeBytes(), kSize, kNfree));
    const uint64_t flog =
        btt::BttOffsetFor(image.profile) + geo.arenas[0].offset + geo.arenas[0].flogoff;
    for (uint64_t lane = 0; lane < kNfree; ++lane) {
      Sector slot(16);
      TP_RETURN_IF_ERROR(ns.Read(flog + lane * 64 + 16, slot));
      TP_RETURN_IF_ERROR(ns.WritePersist(flog + lane * 64 + 32, slot));
      TP_RETURN_IF_ERROR(ns.WritePersist(flog + lane * 64 + 16, Sector(16)));
    }
  }
  TP_ASSIGN_OR_RETURN(Sweep s, SweepCrashes(
                                   image,
                                   [&](btt::Namespace& ns) -> Status {
                                     TP_RETURN_IF_ERROR(WriteOnce(ns, image, 0, v2));
                                     return WriteOnce(ns, image, 0, v3);
                                   },
                                   {v1, v2, v3}, false,
                                   [](btt::Btt& b) {
                                     return b.FlogIndices(0) == std::array<uint32_t, 2>{0, 2};
                                   }));
  // Every state must still be (0,2): a (0,1) state would be the layout silently switched.
  if (s.problem.empty() && s.counted != s.states) {
    s.problem = fmt::format("{} of {} crash states were not detected as (0,2)",
                            s.states - s.counted, s.states);
  }
  return CheckJson("a (0,2) flog image (uefi, 4 KiB), two writes crashed at every point",
                   "flog-layout-0-2", "states detected as the (0,2) layout", s);
}

}  // namespace

PathsOutcome RunRarePaths() {
  PathsOutcome out;
  json checks = json::array();
  for (const auto& run : {RollForward, ErrorFlag, BackupInfoFallback, FlogLayoutZeroTwo}) {
    auto c = run();
    if (!c.ok()) {
      out.status = "error";
      out.reason = c.status().ToString();
      out.lines.push_back("error: " + out.reason);
      out.section = nullptr;
      return out;
    }
    const json& j = *c;
    const bool held = j["problem"].get<std::string>().empty();
    if (!held && out.status == "passed") {
      out.status = "failed";
      out.reason = j["name"].get<std::string>() + ": " + j["problem"].get<std::string>();
    }
    out.lines.push_back(fmt::format("{}: {} crash states judged, {} {}: {}",
                                    j["name"].get<std::string>(), j["states"].get<uint64_t>(),
                                    j["counted"].get<uint64_t>(), j["counter"].get<std::string>(),
                                    held ? "held" : "FAILED " + j["problem"].get<std::string>()));
    checks.push_back(j);
  }
  out.section = {{"checks", checks}};
  return out;
}

}  // namespace tearproof::tools
