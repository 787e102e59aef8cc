// Model/code conformance; see conformance.h.
//
// Roadmap: Regions names medium addresses in model terms; RecordingSync and RecordingNamespace
// put map locks and loads between the medium's recorded events; Observe() turns a window of
// events into named steps (coalescing one sector's stores, and flushes + fence into a persist);
// Checker instantiates the model's sequences (OpSequence, RollForwardSequence) with the model's
// lane state and value rules and compares.
#include "model/conformance.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <span>
#include <utility>

#include "btt/btt.h"
#include "btt/types.h"
#include "fmt/format.h"
#include "harness/explorer.h"
#include "harness/sim_namespace.h"
#include "sim/medium.h"
#include "util/assert.h"

namespace tearproof::model {

namespace {

// "11:7": a map entry as the model writes it, Z flag then E flag, then the block.
std::string EntryName(uint32_t raw) {
  return fmt::format("{}{}:{}", (raw >> 31) & 1, (raw >> 30) & 1, raw & btt::kMapLbaMask);
}

// The model's ent_lba: flags 00 is the identity mapping, otherwise the block with flags masked.
uint32_t ModelEntLba(uint32_t raw, uint32_t lba) {
  return (raw & btt::kMapFlagMask) == 0 ? lba : raw & btt::kMapLbaMask;
}

uint32_t LoadU32(std::span<const std::byte> bytes, size_t at) {
  uint32_t v = 0;
  std::memcpy(&v, bytes.data() + at, sizeof v);  // the host is little-endian (util/endian.h)
  return v;
}

// Arena 0 of the geometry, in absolute medium addresses, named in model terms.
class Regions {
 public:
  Regions(const btt::Geometry& geo, uint32_t external_lbasize)
      : external_lbasize_(external_lbasize),
        internal_lbasize_(geo.internal_lbasize),
        nfree_(geo.nfree) {
    const btt::ArenaGeometry& a = geo.arenas.front();
    const uint64_t base = geo.btt_offset + a.offset;
    external_nlba_ = a.external_nlba;
    internal_nlba_ = a.internal_nlba;
    data_abs_ = base + a.dataoff;
    map_abs_ = base + a.mapoff;
    flog_abs_ = base + a.flogoff;
    info_abs_ = base;
    info2_abs_ = base + a.infooff;
  }

  uint32_t external_nlba() const { return external_nlba_; }
  uint64_t MapEntryAddr(uint32_t lba) const { return map_abs_ + uint64_t{lba} * 4; }

  // The data block holding addr, if any.
  std::optional<uint32_t> DataBlock(uint64_t addr) const {
    if (addr < data_abs_ || addr >= data_abs_ + uint64_t{internal_nlba_} * internal_lbasize_) {
      return std::nullopt;
    }
    return static_cast<uint32_t>((addr - data_abs_) / internal_lbasize_);
  }
  uint64_t DataBlockAddr(uint32_t block) const {
    return data_abs_ + uint64_t{block} * internal_lbasize_;
  }
  bool InMap(uint64_t addr) const {
    return addr >= map_abs_ && addr < map_abs_ + uint64_t{external_nlba_} * 4;
  }
  bool InFlog(uint64_t addr) const {
    return addr >= flog_abs_ && addr < flog_abs_ + uint64_t{nfree_} * btt::kFlogGroupSize;
  }
  bool InInfo(uint64_t addr) const {
    return (addr >= info_abs_ && addr < info_abs_ + btt::kInfoBlockSize) ||
           (addr >= info2_abs_ && addr < info2_abs_ + btt::kInfoBlockSize);
  }

  // A store that is not to a data block (those are coalesced by the caller).
  std::string StoreName(uint64_t addr, std::span<const std::byte> data) const {
    const uint64_t size = data.size();
    if (InMap(addr)) {
      const uint64_t off = addr - map_abs_;
      const uint64_t unit = AtomicStoreBytes(Region::kMapEntry);  // one untearable store
      if (size == unit && off % unit == 0) {
        return fmt::format("store map[{}] {}", off / 4, EntryName(LoadU32(data, 0)));
      }
      return fmt::format("store map bytes [{}, {})", off, off + size);
    }
    if (InFlog(addr)) {
      const uint64_t off = addr - flog_abs_;
      const uint64_t lane = off / btt::kFlogGroupSize;
      const uint64_t in = off % btt::kFlogGroupSize;
      const uint64_t unit = AtomicStoreBytes(Region::kFlogHalfA);  // one untearable store
      if (size == unit && in % unit == 0) {
        const uint64_t slot = in / btt::kFlogSlotSize;
        const uint32_t lo = LoadU32(data, 0);
        const uint32_t hi = LoadU32(data, 4);
        // Block numbers masked: the kernel logs bare blocks, PMDK flagged entries (FlogStyle);
        // every reader masks, and so does the model.
        if (in % btt::kFlogSlotSize == 0) {
          return fmt::format("store flog[lane {}].slot{}.A {{lba {}, old_map {}}}", lane, slot, lo,
                             hi & btt::kMapLbaMask);
        }
        return fmt::format("store flog[lane {}].slot{}.B {{new_map {}, seq {}}}", lane, slot,
                           lo & btt::kMapLbaMask, hi);
      }
      return fmt::format("store flog bytes [{}, {})", off, off + size);
    }
    if (InInfo(addr)) return "store info";
    return fmt::format("store @{:#x} size {}", addr, size);
  }

  // The data store of block `block` covering [lo, hi) of it.
  std::string DataStoreName(uint32_t block, uint64_t lo, uint64_t hi) const {
    if (lo == 0 && hi == external_lbasize_) return fmt::format("store data[{}]", block);
    return fmt::format("store data[{}] bytes [{}, {})", block, lo, hi);
  }

  // The 64-byte line at line_addr, as the region it belongs to.
  std::string LineName(uint64_t line_addr) const {
    if (auto block = DataBlock(line_addr)) return fmt::format("data[{}]", *block);
    if (InMap(line_addr)) return fmt::format("map-line[{}]", (line_addr - map_abs_) / 64);
    if (InFlog(line_addr)) {
      return fmt::format("flog[lane {}]", (line_addr - flog_abs_) / btt::kFlogGroupSize);
    }
    if (InInfo(line_addr)) return "info";
    return fmt::format("line@{:#x}", line_addr);
  }

  // The lines a sector store into `block` touches.
  std::set<uint64_t> SectorLines(uint32_t block) const {
    std::set<uint64_t> lines;
    const uint64_t start = DataBlockAddr(block);
    for (uint64_t a = start / 64 * 64; a < start + external_lbasize_; a += 64) lines.insert(a);
    return lines;
  }

  std::string LoadName(uint64_t addr, uint64_t size) const {
    if (InMap(addr) && size == 4 && (addr - map_abs_) % 4 == 0) {
      return fmt::format("load map[{}]", (addr - map_abs_) / 4);
    }
    if (InMap(addr)) return "load map bytes";
    if (InFlog(addr)) return "load flog";
    if (auto block = DataBlock(addr)) return fmt::format("load data[{}]", *block);
    if (InInfo(addr)) return "load info";
    return fmt::format("load @{:#x}", addr);
  }

 private:
  uint32_t external_lbasize_;
  uint32_t internal_lbasize_;
  uint32_t nfree_;
  uint32_t external_nlba_ = 0;
  uint32_t internal_nlba_ = 0;
  uint64_t data_abs_ = 0, map_abs_ = 0, flog_abs_ = 0, info_abs_ = 0, info2_abs_ = 0;
};

// A lock, unlock or load, placed before the medium event numbered `position`.
struct Marker {
  uint64_t position = 0;
  bool is_load = false;
  std::string text;
};

// The btt::Sync of a conformance run: the lane is the one the scenario names, locks are flags
// (one operation at a time), and every map lock and unlock is recorded as a marker.
class RecordingSync final : public btt::Sync {
 public:
  RecordingSync(const sim::Medium& medium, std::vector<Marker>& markers)
      : medium_(medium), markers_(markers) {}

  Status Init(uint32_t lane_count, uint32_t map_lock_count) override {
    lane_count_ = lane_count;
    held_.assign(map_lock_count, false);
    return Status::Ok();
  }
  btt::Lane AcquireLane() override {
    TP_ASSERT(lane_ < lane_count_, "INV-CONFORMANCE-LANE");
    return btt::Lane(lane_);
  }
  void ReleaseLane(btt::Lane) override {}
  void LockMap(uint32_t index) override {
    TP_ASSERT(index < held_.size() && !held_[index], "INV-CONFORMANCE-LOCK");
    held_[index] = true;
    markers_.push_back({medium_.event_count(), false, "lock"});
  }
  void UnlockMap(uint32_t index) override {
    TP_ASSERT(index < held_.size() && held_[index], "INV-CONFORMANCE-LOCK");
    held_[index] = false;
    markers_.push_back({medium_.event_count(), false, "unlock"});
  }
  void Pause() override {}

  void set_lane(uint32_t lane) { lane_ = lane; }

 private:
  const sim::Medium& medium_;
  std::vector<Marker>& markers_;
  uint32_t lane_count_ = 0;
  uint32_t lane_ = 0;
  std::vector<bool> held_;
};

// Forwards to a SimNamespace and records every load as a marker (the medium logs no loads).
class RecordingNamespace final : public btt::Namespace {
 public:
  RecordingNamespace(harness::SimNamespace& inner, const Regions& regions,
                     std::vector<Marker>& markers)
      : inner_(inner), regions_(regions), markers_(markers) {}

  uint64_t SizeBytes() const override { return inner_.SizeBytes(); }
  bool ReadOnly() const override { return inner_.ReadOnly(); }
  Status Read(uint64_t offset, std::span<std::byte> out) override {
    markers_.push_back(
        {inner_.medium().event_count(), true, regions_.LoadName(offset, out.size())});
    return inner_.Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const std::byte> data) override {
    return inner_.Write(offset, data);
  }
  Status Flush(uint64_t offset, uint64_t size_bytes) override {
    return inner_.Flush(offset, size_bytes);
  }
  void Drain() override { inner_.Drain(); }

 private:
  harness::SimNamespace& inner_;
  const Regions& regions_;
  std::vector<Marker>& markers_;
};

// The core's events recorded since the medium's event log was last cleared, with the markers,
// named in model terms: the stores of one sector (contiguous, one block) become one store, and
// flushes followed by a fence become one persist of the regions flushed.
std::vector<std::string> Observe(const sim::Medium& medium, const std::vector<Marker>& markers,
                                 const Regions& regions, bool with_loads) {
  std::vector<std::string> out;
  struct DataRun {
    uint32_t block;
    uint64_t lo, hi;
  };
  std::optional<DataRun> run;
  std::vector<std::pair<uint64_t, std::string>> flushed;  // line, flush kind
  auto end_run = [&] {
    if (run) out.push_back(regions.DataStoreName(run->block, run->lo, run->hi));
    run.reset();
  };
  auto end_flushes = [&](bool fenced) {
    if (flushed.empty()) {
      if (fenced) out.push_back("fence");
      return;
    }
    std::vector<std::string> names;
    std::set<uint64_t> lines;
    std::string kinds;
    for (const auto& [line, kind] : flushed) {
      const std::string name = regions.LineName(line);
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
      lines.insert(line);
      if (kind != "clwb" && kind != "clflushopt" && kinds.find(kind) == std::string::npos) {
        kinds += " (" + kind + ")";
      }
    }
    std::string what = names.front();
    if (names.size() > 1) {
      what = "{" + names.front();
      for (size_t i = 1; i < names.size(); ++i) what += ", " + names[i];
      what += "}";
    } else if (auto block = regions.DataBlock(flushed.front().first)) {
      // A data persist must cover every line the sector store touched.
      const std::set<uint64_t> want = regions.SectorLines(*block);
      if (lines != want) what += fmt::format(" ({} of {} lines)", lines.size(), want.size());
    }
    out.push_back((fenced ? "persist " : "flush (no fence) ") + what + kinds);
    flushed.clear();
  };
  size_t next_marker = 0;
  auto emit_markers = [&](uint64_t upto) {
    for (; next_marker < markers.size() && markers[next_marker].position <= upto; ++next_marker) {
      const Marker& m = markers[next_marker];
      if (m.is_load && !with_loads) continue;
      end_run();
      end_flushes(/*fenced=*/false);
      out.push_back(m.text);
    }
  };
  for (const sim::Event& e : medium.events()) {
    emit_markers(e.seq);
    if (sim::IsStore(e.kind)) {
      end_flushes(/*fenced=*/false);
      const std::optional<uint32_t> block = regions.DataBlock(e.addr);
      if (block && e.kind == sim::EventKind::kStore) {
        const uint64_t lo = e.addr - regions.DataBlockAddr(*block);
        const uint64_t hi = lo + e.data.size();
        if (run && run->block == *block && run->hi == lo) {
          run->hi = hi;
        } else {
          end_run();
          run = DataRun{*block, lo, hi};
        }
        continue;
      }
      end_run();
      std::string name = regions.StoreName(e.addr, e.data);
      if (e.kind == sim::EventKind::kStoreNt) name += " (non-temporal)";
      out.push_back(std::move(name));
    } else if (sim::IsFlush(e.kind)) {
      end_run();
      flushed.emplace_back(e.addr / sim::kLineBytes * sim::kLineBytes, sim::EventKindName(e.kind));
    } else {
      end_run();
      end_flushes(/*fenced=*/true);
    }
  }
  emit_markers(UINT64_MAX);
  end_run();
  end_flushes(/*fenced=*/false);
  return out;
}

// The model's DRAM state of one lane (docs/model.md §1): its free block, which flog slot is the
// newer one, and that slot's seq.
struct ModelLane {
  uint32_t free_block = 0;
  int newer_slot = 0;
  int seq = 1;
};

// One open BTT on one medium with its recorders.
struct Session {
  Session(sim::Medium& m, const Regions& regions)
      : medium(m), sync(m, markers), sim_ns(m), ns(sim_ns, regions, markers) {}
  sim::Medium& medium;
  std::vector<Marker> markers;
  RecordingSync sync;
  harness::SimNamespace sim_ns;
  RecordingNamespace ns;
  std::unique_ptr<btt::Btt> btt;

  void StartWindow() {
    medium.ClearEventLog();
    markers.clear();
  }
};

class Checker {
 public:
  Checker(const ConformanceScenario& scenario, const Regions& regions)
      : sc_(scenario), regions_(regions) {
    // Formatted state (btt-format.md §1.7): lane l owns block N + l, slot 0 is the newer one
    // with seq 1.
    for (uint32_t l = 0; l < sc_.nfree; ++l) {
      lanes_.push_back(ModelLane{regions.external_nlba() + l, 0, 1});
    }
  }

  Status Run(sim::Medium& medium);
  ConformanceReport TakeReport() { return std::move(report_); }

 private:
  // Opens a BTT on `medium` (recovery) and compares its stores and persists with `expected`.
  // Returns nullptr (and records a mismatch) if the open fails.
  std::unique_ptr<Session> Open(sim::Medium& medium, const std::string& where,
                                std::vector<std::string> expected);
  // Runs one op and compares its events; false (after recording a mismatch) if the core failed.
  bool RunOp(Session& s, const ConformanceOp& op, const std::string& where);
  std::vector<std::string> Expected(const ConformanceOp& op, uint32_t old_raw);
  void Compare(const std::string& where, std::vector<std::string> expected,
               std::vector<std::string> observed);

  const ConformanceScenario& sc_;
  const Regions& regions_;
  std::vector<ModelLane> lanes_;
  ConformanceReport report_;
  uint32_t write_count_ = 0;
};

void Checker::Compare(const std::string& where, std::vector<std::string> expected,
                      std::vector<std::string> observed) {
  ++report_.sequences_checked;
  report_.events_checked += observed.size();
  if (expected == observed) return;
  size_t i = 0;
  while (i < expected.size() && i < observed.size() && expected[i] == observed[i]) ++i;
  report_.mismatches.push_back({where, std::move(expected), std::move(observed), i});
}

std::unique_ptr<Session> Checker::Open(sim::Medium& medium, const std::string& where,
                                       std::vector<std::string> expected) {
  auto s = std::make_unique<Session>(medium, regions_);
  s->StartWindow();
  btt::OpenOptions options;
  options.profile = sc_.profile;
  options.sync = &s->sync;
  options.lanes = sc_.nfree;
  auto opened = btt::Btt::Open(s->ns, options);
  if (!opened.ok()) {
    Compare(where, std::move(expected), {"error: " + opened.status().ToString()});
    return nullptr;
  }
  s->btt = std::move(*opened);
  // Recovery's loads (info blocks, the whole flog, map entries) are not compared: the model's
  // recovery reads the persisted state, and a single-threaded recovery's loads order against
  // nothing. Its stores and persists are.
  Compare(where, std::move(expected), Observe(medium, s->markers, regions_, /*with_loads=*/false));
  return s;
}

// The model's sequence for `op`, instantiated: OpSequence's effects with the lane's free block,
// slot and seq and the value rules evaluated on the map entry the op will load. Advances the
// model's lane state as a completed op does.
std::vector<std::string> Checker::Expected(const ConformanceOp& op, uint32_t old_raw) {
  ModelLane& lane = lanes_[op.lane];
  const int slot = 1 - lane.newer_slot;  // the writer logs into the older slot
  const int seq = NextSeq(lane.seq);
  const uint32_t old_block = ModelEntLba(old_raw, op.lba);
  auto value = [&](ValueRule rule) -> std::string {
    switch (rule) {
      case ValueRule::kLbaOldBlock:
        return fmt::format("{{lba {}, old_map {}}}", op.lba, old_block);
      case ValueRule::kNewBlockSeq:
        return fmt::format("{{new_map {}, seq {}}}", lane.free_block, seq);
      case ValueRule::kNormalNewBlock:
        return EntryName(btt::kMapNormal | lane.free_block);
      case ValueRule::kZeroSameBlock:
        return EntryName(btt::kMapZeroFlag | old_block);
      default:
        return "?";
    }
  };
  std::vector<std::string> out;
  for (const Effect& e : OpSequence(sc_.model_program, op.kind)) {
    const ValueRule rule = op.kind == OpKind::kWrite ? e.write_value : e.zero_value;
    std::string target;
    switch (e.region) {
      case Region::kDataBlock:
        target = fmt::format("data[{}]", lane.free_block);
        break;
      case Region::kFlogHalfA:
      case Region::kFlogHalfB:
        target = e.action == Action::kPersist
                     ? fmt::format("flog[lane {}]", op.lane)
                     : fmt::format("flog[lane {}].slot{}.{}", op.lane, slot,
                                   e.region == Region::kFlogHalfA ? "A" : "B");
        break;
      case Region::kMapEntry:
        target = e.action == Action::kPersist ? fmt::format("map-line[{}]", op.lba / 16)
                                              : fmt::format("map[{}]", op.lba);
        break;
      case Region::kNone:
        break;
    }
    switch (e.action) {
      case Action::kStore:
        out.push_back(e.region == Region::kDataBlock ? "store " + target
                                                     : "store " + target + " " + value(rule));
        break;
      case Action::kPersist:
        out.push_back("persist " + target);
        break;
      case Action::kLock:
        out.push_back("lock");
        break;
      case Action::kLoadMap:
        out.push_back("load " + target);
        break;
      case Action::kUnlock:
        out.push_back("unlock");
        break;
    }
  }
  if (op.kind == OpKind::kWrite) {  // the lane's DRAM state after the commit (model §1)
    lane.free_block = old_block;
    lane.newer_slot = slot;
    lane.seq = seq;
  }
  return out;
}

bool Checker::RunOp(Session& s, const ConformanceOp& op, const std::string& where) {
  std::byte raw[4];
  const Status loaded = s.medium.Load(sim::Lane(0), regions_.MapEntryAddr(op.lba), raw);
  TP_ASSERT(loaded.ok(), "INV-CONFORMANCE-MAP-ADDR");  // lba < external_nlba, checked up front
  std::vector<std::string> expected = Expected(op, LoadU32(raw, 0));
  s.StartWindow();
  s.sync.set_lane(op.lane);
  s.sim_ns.set_lane(sim::Lane(op.lane));
  Status status;
  if (op.kind == OpKind::kWrite) {
    std::vector<std::byte> data(s.btt->ExternalLbaSize(), std::byte(1 + write_count_++ % 250));
    status = s.btt->Write(btt::ExternalLba(op.lba), data);
  } else {
    status = s.btt->Zero(btt::ExternalLba(op.lba));
  }
  std::vector<std::string> observed = Observe(s.medium, s.markers, regions_, /*with_loads=*/true);
  if (!status.ok()) observed.push_back("error: " + status.ToString());
  Compare(where, std::move(expected), std::move(observed));
  return status.ok();
}

std::string OpName(size_t index, const ConformanceOp& op) {
  return fmt::format("op {} (lane {} {} lba {})", index, op.lane,
                     op.kind == OpKind::kWrite ? "write" : "zero", op.lba);
}

Status Checker::Run(sim::Medium& medium) {
  std::unique_ptr<Session> s = Open(medium, "open after format", {});
  if (!s) return Status::Ok();
  size_t index = 0;
  for (const ConformanceOp& op : sc_.ops) {
    if (!RunOp(*s, op, OpName(index++, op))) return Status::Ok();
  }
  if (!sc_.interrupted) return Status::Ok();
  const ConformanceOp& op = *sc_.interrupted;
  const uint32_t new_block = lanes_[op.lane].free_block;
  // The crash: just before the fence that would persist the write's map store (its last crash
  // point: a fence is where the crash states are largest), nothing unfenced persisted. The flog
  // commit is durable, the map store is lost: the model's recovery rolls this lane forward.
  std::optional<sim::Medium> crashed;
  s->sim_ns.set_fence_hook([&] {
    if (crashed) return;
    const auto& events = medium.events();
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (!sim::IsStore(it->kind)) continue;
      if (regions_.InMap(it->addr))
        crashed.emplace(medium.MaterializeCrash(medium.GuaranteedState()));
      break;
    }
  });
  const bool ran = RunOp(*s, op, OpName(index, op) + ", crashed on a copy");
  s->sim_ns.set_fence_hook(nullptr);
  if (!ran) return Status::Ok();
  if (!crashed) {
    Compare("the interrupted write's crash point", {"a fence after the map store"},
            {"no fence after a map store"});
    return Status::Ok();
  }
  s.reset();
  crashed->set_event_log_enabled(true);
  std::vector<std::string> roll;
  for (const Effect& e : RollForwardSequence()) {
    roll.push_back(e.action == Action::kStore ? fmt::format("store map[{}] {}", op.lba,
                                                            EntryName(btt::kMapNormal | new_block))
                                              : fmt::format("persist map-line[{}]", op.lba / 16));
  }
  if (!Open(*crashed, "recovery after the crash", roll)) return Status::Ok();
  // Recovery is idempotent: a second one finds every lane settled and stores nothing.
  std::unique_ptr<Session> again = Open(*crashed, "second recovery", {});
  if (!again) return Status::Ok();
  index = 0;
  for (const ConformanceOp& after : sc_.after_recovery) {
    if (!RunOp(*again, after, "after recovery, " + OpName(index++, after))) break;
  }
  return Status::Ok();
}

bool SupportedProgram(Mutant m) {
  // Programs that keep the real protocol's lane state and crash point; the others change what
  // the lane remembers (seq, slot, free block) or have no flog commit before the map store.
  return m == Mutant::kNone || m == Mutant::kNoDataPersist || m == Mutant::kFlogHalvesUnfenced;
}

}  // namespace

std::string ConformanceMismatch::ToString() const {
  std::string out = where + ": the core's events differ from the model's at event " +
                    std::to_string(first_difference) + "\n";
  const size_t n = std::max(expected.size(), observed.size());
  for (size_t i = 0; i < n; ++i) {
    const std::string e = i < expected.size() ? expected[i] : "(none)";
    const std::string o = i < observed.size() ? observed[i] : "(none)";
    out += fmt::format("  {} {:>2}  model: {:<52} core: {}\n", i == first_difference ? ">" : " ", i,
                       e, o);
  }
  return out;
}

std::string ConformanceReport::ToString() const {
  std::string out = fmt::format("{} sequences, {} events compared, {} mismatches\n",
                                sequences_checked, events_checked, mismatches.size());
  for (const auto& m : mismatches) out += m.ToString();
  return out;
}

Result<ConformanceReport> CheckConformance(const ConformanceScenario& sc) {
  if (!SupportedProgram(sc.model_program)) {
    return InvalidArgument(fmt::format(
        "model program '{}' is not comparable: only none, no-data-persist, flog-halves-unfenced",
        MutantName(sc.model_program)));
  }
  if (sc.nfree == 0 || sc.nfree > 64) return InvalidArgument("nfree must be in 1..64");
  const uint64_t size = btt::BttOffsetFor(sc.profile) + btt::kMinArenaSize;
  TP_ASSIGN_OR_RETURN(const btt::Geometry geo,
                      btt::ComputeGeometry(sc.profile, size, sc.external_lbasize, sc.nfree));
  const Regions regions(geo, sc.external_lbasize);
  auto check_op = [&](const ConformanceOp& op) -> Status {
    if (op.lane >= sc.nfree) return InvalidArgument(fmt::format("lane {} >= nfree", op.lane));
    if (op.lba >= regions.external_nlba()) {
      return InvalidArgument(fmt::format("lba {} >= {}", op.lba, regions.external_nlba()));
    }
    return Status::Ok();
  };
  for (const auto& op : sc.ops) TP_RETURN_IF_ERROR(check_op(op));
  for (const auto& op : sc.after_recovery) TP_RETURN_IF_ERROR(check_op(op));
  if (sc.interrupted) {
    TP_RETURN_IF_ERROR(check_op(*sc.interrupted));
    if (sc.interrupted->kind != OpKind::kWrite) {
      return InvalidArgument("the interrupted op must be a write (a zero has no flog commit)");
    }
  }
  TP_ASSIGN_OR_RETURN(
      sim::Medium medium,
      sim::Medium::Create(
          {.size_bytes = size, .model = sim::PersistencyModel::kPx86, .event_log = true}));
  harness::SimNamespace format_ns(medium);
  TP_RETURN_IF_ERROR(
      harness::FormatSimulatedBtt(format_ns, sc.profile, sc.external_lbasize, sc.nfree)
          .Annotate("format: "));
  if (sc.after_format) sc.after_format();
  Checker checker(sc, regions);
  TP_RETURN_IF_ERROR(checker.Run(medium));
  return checker.TakeReport();
}

ConformanceScenario StandardConformanceScenario(btt::Profile profile, uint32_t external_lbasize) {
  using K = OpKind;
  ConformanceScenario sc;
  sc.profile = profile;
  sc.external_lbasize = external_lbasize;
  sc.nfree = 3;  // lane 2 never writes: a free block no lane in use takes (nfree > lanes)
  sc.ops = {
      {0, K::kWrite, 0},   // a 00 (identity) entry logged as old_map = lba
      {1, K::kWrite, 1},   // the other lane
      {0, K::kZero, 0},    // 11 -> 10: Z set, the block stays
      {1, K::kWrite, 0},   // a Z entry logged masked; an LBA written by both lanes
      {0, K::kZero, 2},    // 00 -> 10:2
      {0, K::kWrite, 2},   // lane 0's second write: seq 3
      {0, K::kWrite, 1},   // third: seq wraps 3 -> 1
      {0, K::kWrite, 0},   // fourth: seq 2
      {0, K::kWrite, 17},  // an entry in the second map line
      {1, K::kWrite, 17},  // lane 1 moves LBA 17 on: lane 0's newest slot is now stale
  };
  sc.interrupted = ConformanceOp{1, K::kWrite, 2};
  sc.after_recovery = {{1, K::kWrite, 1}, {0, K::kWrite, 2}, {2, K::kWrite, 3}};
  return sc;
}

}  // namespace tearproof::model
