// harness::SimNamespace — runs the production BTT core on the simulated medium.
//
// Implements btt::Namespace (btt/namespace.h) over a sim::Medium: Read = Load, Write = Store
// (split by the medium into whole-word pieces, so aligned 1/2/4/8-byte writes are single
// untearable stores and wider ones may tear at 8-byte boundaries), Flush = clwb (or clflushopt /
// clflush) of every line the range touches, Drain = sfence. Every call is issued on behalf of
// the current lane (set_lane; a deterministic scheduler changes it between fibers).
//
// The fence hook is how crash exploration finds its crash points: it runs just before every
// sfence, when the set of possible crash states is the largest it gets between two fences (states
// only grow between fences when flushes are clwb/clflushopt). The adapter counts stores so a test
// can show that a read-only open wrote nothing. Not thread-safe (the simulator is single-threaded).
//
// The op hook (optional) runs before and after every Read, Write, Flush and Drain call, whatever
// its outcome; the fiber scheduler makes these calls scheduling points (harness/fiber_sync.h).
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "btt/namespace.h"
#include "sim/medium.h"

namespace tearproof::harness {

// kNone is fault injection, not a flush: the platform silently loses every write-back request
// (as a platform without ADR, or a driver that forgot to flush, would). Used to show that the
// oracle fails when durability points are missing.
enum class FlushKind : uint8_t { kClwb, kClflushopt, kClflush, kNone };

// One medium call as the op hook sees it.
struct MediumOp {
  enum class Kind : uint8_t { kRead, kWrite, kFlush, kDrain };
  enum class Phase : uint8_t { kBefore, kAfter };
  Kind kind = Kind::kRead;
  Phase phase = Phase::kBefore;
  uint64_t offset = 0;      // 0 for Drain
  uint64_t size_bytes = 0;  // 0 for Drain
};
// "medium read", ...: a static string (scheduler reports keep it by pointer).
const char* MediumOpName(MediumOp::Kind kind);

class SimNamespace final : public btt::Namespace {
 public:
  explicit SimNamespace(sim::Medium& medium, bool read_only = false,
                        FlushKind flush_kind = FlushKind::kClwb)
      : medium_(medium), read_only_(read_only), flush_kind_(flush_kind) {}

  uint64_t SizeBytes() const override { return medium_.size_bytes(); }
  bool ReadOnly() const override { return read_only_; }

  Status Read(uint64_t offset, std::span<std::byte> out) override;
  Status Write(uint64_t offset, std::span<const std::byte> data) override;
  Status Flush(uint64_t offset, uint64_t size_bytes) override;
  void Drain() override;

  void set_lane(sim::LaneId lane) { lane_ = lane; }
  sim::LaneId lane() const { return lane_; }
  // Called before every fence; nullptr (the default) for none.
  void set_fence_hook(std::function<void()> hook) { fence_hook_ = std::move(hook); }
  // Called before and after every Read/Write/Flush/Drain; nullptr (the default) for none.
  void set_op_hook(std::function<void(const MediumOp&)> hook) { op_hook_ = std::move(hook); }
  // Called after every Write, Flush and Drain this adapter applied to the medium (not after
  // reads, which change nothing that survives a crash, nor after a refused call), with the
  // written bytes (empty for a flush or drain); nullptr (the default) for none. A Drain's hook
  // runs after the fence hook and the fence. The crash explorer identifies crash points by this
  // sequence (harness/crash_point_memo.h) and, without fence dominance, crashes after each one.
  using AppliedHook = std::function<void(const MediumOp&, std::span<const std::byte> data)>;
  void set_applied_hook(AppliedHook hook) { applied_hook_ = std::move(hook); }

  uint64_t store_calls() const { return store_calls_; }
  uint64_t fence_calls() const { return fence_calls_; }
  sim::Medium& medium() { return medium_; }

 private:
  template <typename Body>
  auto Hooked(MediumOp::Kind kind, uint64_t offset, uint64_t size_bytes, Body body);
  Status ReadImpl(uint64_t offset, std::span<std::byte> out);
  Status WriteImpl(uint64_t offset, std::span<const std::byte> data);
  Status FlushImpl(uint64_t offset, uint64_t size_bytes);
  void DrainImpl();

  sim::Medium& medium_;
  bool read_only_;
  FlushKind flush_kind_;
  sim::LaneId lane_ = sim::Lane(0);
  std::function<void()> fence_hook_;
  std::function<void(const MediumOp&)> op_hook_;
  AppliedHook applied_hook_;
  uint64_t store_calls_ = 0;
  uint64_t fence_calls_ = 0;
};

}  // namespace tearproof::harness
