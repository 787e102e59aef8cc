// traces::RunBadInputCase — the one executor and judge of a bad-input case (traces/trace.h
// BadInputCase): the bad-input property family (properties/bad_input_prop.cc) and `tearproof
// replay` of a bad-input trace both run it, so a trace replays exactly what the property judged.
//
// What it does, in order (docs/testing.md names every check):
//   1. formats a one-arena BTT on a fresh simulated medium (properties/sim_device.h), runs the
//      case's writes, zeros and error flags to completion and closes the device (a clean
//      shutdown); a failure is PROP-OP-FAILED (or ORACLE-RECOVER for the open);
//   2. baseline: reopened, every LBA reads its last value (ORACLE-ATOMIC) and Check is clean
//      (ORACLE-CHECK);
//   3. stores the patches durably into the persisted image (or, for the property, lets a
//      Corrupter change a copy of the image and stores the bytes it changed as patches);
//   4. derives from the image before and after which LBAs the patches may have reached
//      ("touched", BadInputDamage): everything else must read its last value;
//   5. opens read-only, then read-write, and, when both refuse, with OpenOptions::salvage, and
//      judges: PROP-CLEAR-ERROR, PROP-BAD-RO-EQUALS-RW, PROP-BAD-INFO-REFUSED,
//      PROP-BAD-UNTOUCHED, PROP-BAD-SALVAGE, PROP-CLEAN-CHECK-USABLE.
// The first broken check is the run's violation; the run stops there. Every step adds lines to
// the run's timeline, which `tearproof replay` prints.
//
// A "clear error" (PROP-CLEAR-ERROR) is a Status that is not OK, not kInternal (a tearproof bug)
// and whose message names the broken invariant (INV-*): kCorruption, kNotFound, kUnsupported,
// kMediaError, ... all count when they say which invariant failed.
//
// Deterministic and single-threaded like the simulator; runs the BTT core as built (the mutant
// build runs the mutant that is selected, or the one passed in).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "btt/layout.h"
#include "btt/mutant.h"
#include "properties/sim_device.h"
#include "traces/trace.h"
#include "util/status.h"

namespace tearproof::traces {

// Where the structures of one arena of a BTT lie in its namespace (byte ranges).
struct BttRegions {
  struct Span {
    uint64_t begin = 0;
    uint64_t size = 0;
    bool Contains(uint64_t off) const { return off >= begin && off - begin < size; }
  };
  // REQUIRES: arena < geometry.arenas.size().
  explicit BttRegions(const btt::Geometry& geometry, size_t arena = 0);
  Span map, flog, data, primary, backup;
  // Bytes before the BTT that belong to its container: the pmemblk pool header and pmemblk
  // header, or linux's first 4 KiB (empty for uefi).
  Span container;
};

// Which LBAs a corruption may have reached, from the image before and after it.
struct BadInputDamage {
  // LBAs that may read anything: their map entry changed (unless the change is exactly a lost
  // map store, below); a flog lane changed whose slots, before or after, name them; their data
  // block changed; or every LBA, when an info block changed and still passes its integrity
  // check (a consistent lie about the geometry).
  std::set<uint64_t> touched;
  // LBAs whose map entry now holds the old_map of its lane's newer flog slot while the lane is
  // unchanged and the entry held that slot's new_map: exactly a crash between the flog commit
  // and the map store. Untouched: recovery must roll them forward to their last value.
  std::set<uint64_t> lost_map_stores;
  bool primary_changed = false, backup_changed = false;
  bool primary_valid = true, backup_valid = true;  // signature and checksum, after
  std::vector<std::string> reasons;                // why each LBA is touched (or rolled forward)
  // Both info blocks are corrupt: every open must refuse (PROP-BAD-INFO-REFUSED).
  bool BothInfoBlocksInvalid() const {
    return primary_changed && backup_changed && !primary_valid && !backup_valid;
  }
};
BadInputDamage AssessDamage(const btt::Geometry& geometry, std::span<const std::byte> before,
                            std::span<const std::byte> after);

// The property's way to corrupt: changes `image` (the whole namespace, as persisted after the
// workload) in place; the bytes it changed become the run's patches. REQUIRES: it keeps the
// image's size (INV-BAD-INPUT-IMAGE-SIZE).
using Corrupter = std::function<void(const btt::Geometry& geometry, std::vector<std::byte>& image)>;

struct BadInputRun {
  std::vector<BytePatch> patches;                  // applied, ascending
  std::optional<properties::Violation> violation;  // the first broken check
  std::vector<std::string> timeline;               // what happened, one line each
  // For the property's classification of cases.
  uint64_t touched_lbas = 0;
  bool opened = false;              // the read-write open succeeded
  std::optional<bool> check_clean;  // Check of that open, when it ran
  // Format round trips (traces/format_round_trip.h): the flog layout each arena held after the
  // rewrite.
  std::vector<std::array<uint32_t, 2>> flog_layouts;
};

// What CheckImageCase found: the case's geometry and how many writes its ops make.
struct ImageCaseShape {
  btt::Geometry geometry;
  uint64_t writes = 0;
};
// The checks every executor of a BadInputCase makes before it runs (the rules of the trace file
// format, for cases made in memory too): the mutant is in this build, the namespace is at most
// `max_namespace_bytes` (`kind` names the case in the message) and the BTT accepts its geometry,
// every op and after op names an LBA the device has, write ids fit a sector tag, the patches are
// ascending, disjoint and inside the namespace.
Result<ImageCaseShape> CheckImageCase(const BadInputCase& c, std::optional<btt::Mutant> mutant,
                                      uint64_t max_namespace_bytes, const std::string& kind);

// What an executor of a case builds as it runs (the bad-input one, the format round trip's): the
// timeline, one line per step, and the first violation, which ends the run (Fail returns false,
// so a step can `return Fail(...)` and its caller stop).
class CaseRecorder {
 protected:
  void Line(std::string line) { run_.timeline.push_back(std::move(line)); }
  bool Fail(const std::string& check, const std::string& detail) {
    run_.violation = properties::Violation{check, detail};
    return false;
  }
  BadInputRun run_;
};

// Errors (the case cannot run here): a geometry with other than one arena or that the BTT
// refuses, an op naming an LBA the device lacks, too many writes, a patch past the namespace,
// a simulator failure. `corrupt` replaces the case's patches. `mutant`: run with it selected
// (and restore the selection after); std::nullopt runs whatever is selected.
Result<BadInputRun> RunBadInputCase(const BadInputCase& c, const Corrupter& corrupt = nullptr,
                                    std::optional<btt::Mutant> mutant = std::nullopt);

// The bytes that differ between two images of one size, as maximal runs.
std::vector<BytePatch> DiffImages(std::span<const std::byte> before,
                                  std::span<const std::byte> after);

// "arena 0 map entry 3 (lba 3)", "arena 1 flog lane 1 slot 0 new_map", "arena 0 primary info
// block checksum", ...: what the namespace byte at `offset` belongs to (any arena).
std::string DescribeBttByte(const btt::Geometry& geometry, uint64_t offset);

// Stores `patches` durably into `medium` (in order) and appends one timeline line per patch:
// its offset and size, every BTT structure it covers, and its bytes before and after. The
// executors of bad-input cases and of format round trips (traces/format_round_trip.h) corrupt
// the persisted image through it. REQUIRES: every patch lies inside the medium.
Status StorePatches(sim::Medium& medium, const btt::Geometry& geometry,
                    const std::vector<BytePatch>& patches, std::vector<std::string>* timeline);

// "opened", "opened (primary info block read from the backup, 1 lane(s) rolled forward)": what
// an open reported, for a timeline.
std::string OpenSummary(const btt::OpenReport& report);

// Selects a mutant for one run and restores the previous selection on destruction (the mutant
// build only; the production build runs the real core, and an executor refuses any other mutant
// before it gets here). std::nullopt leaves the selection alone.
class MutantSelection {
 public:
  explicit MutantSelection(std::optional<btt::Mutant> mutant);
  ~MutantSelection();
  MutantSelection(const MutantSelection&) = delete;
  MutantSelection& operator=(const MutantSelection&) = delete;

 private:
  [[maybe_unused]] std::optional<btt::Mutant> previous_;
};

// The trace of a failed case (kind kBadInput, or kFormatRoundTrip for a round trip's case,
// expecting `violation`), recorded on `mutant`.
Trace BadInputTrace(const BadInputCase& c, const std::string& mutant,
                    const properties::Violation& violation, TraceKind kind = TraceKind::kBadInput);

}  // namespace tearproof::traces
