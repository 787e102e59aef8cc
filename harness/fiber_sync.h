// harness::FiberSync — the btt::Sync of a simulation whose lanes are sim::Scheduler fibers.
//
// Every Sync call made inside a scheduler lane is a scheduling point, so the strategy decides
// who goes first at every lane acquisition, map lock and spin-wait:
//   - AcquireLane / LockMap: a Yield, then, while the lane or lock is held, BlockOn it (the
//     waiter is parked, not runnable, until the holder releases it: no busy loop).
//   - ReleaseLane / UnlockMap: release, Wake the waiters, then a YieldNoCancel (these run inside
//     the core's RAII destructors, where cancellation must not throw).
//   - Pause (the core's RTT and read re-validation spin-waits): Scheduler::Spin, which parks the
//     lane until another lane has run, so a spin-wait never spins on state nobody changed.
// BTT lanes are handed out round-robin from a counter owned by the instance (skipping held ones),
// as SequentialSync does, so which free block and flog group an operation uses depends only on
// the schedule. Outside a run (Btt::Open, setup operations on the caller's stack) it behaves like
// SequentialSync: nothing can contend, and contention would be a harness bug (asserted).
//
// AttachScheduler wires a SimNamespace to the scheduler: a scheduling point before every medium
// operation and after every load (a load's value feeds the DRAM-only steps that follow it, such
// as the core's RTT publish, and another lane may run in between), and the medium lane set to
// the scheduler lane on every switch, so each medium event is issued by the right simulated CPU.
// Deterministic; not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "btt/sync.h"
#include "harness/sim_namespace.h"
#include "sim/scheduler.h"

namespace tearproof::harness {

class FiberSync final : public btt::Sync {
 public:
  explicit FiberSync(sim::Scheduler& scheduler) : scheduler_(scheduler) {}

  Status Init(uint32_t lane_count, uint32_t map_lock_count) override;
  btt::Lane AcquireLane() override;
  void ReleaseLane(btt::Lane lane) override;
  void LockMap(uint32_t index) override;
  void UnlockMap(uint32_t index) override;
  void Pause() override;

  // Wait keys: BTT lanes share one (any release can satisfy any waiter), map lock i has 1 + i.
  static constexpr sim::WaitKey kLaneWaitKey = 0;
  static constexpr sim::WaitKey MapWaitKey(uint32_t index) { return 1 + uint64_t{index}; }

  // How often a caller found its lane or lock held and was parked (contention reached).
  uint64_t waits() const { return waits_; }

 private:
  // The scheduler lane of the caller; kHolderOutsideRun for setup code.
  uint32_t Caller() const;
  static constexpr uint32_t kFree = UINT32_MAX;
  static constexpr uint32_t kHolderOutsideRun = UINT32_MAX - 1;

  sim::Scheduler& scheduler_;
  std::vector<uint32_t> lane_holder_;  // by BTT lane: scheduler lane holding it, or kFree
  std::vector<uint32_t> map_holder_;   // by map lock
  uint32_t next_lane_ = 0;
  uint64_t waits_ = 0;
};

// Makes every medium operation of `ns` a scheduling point of `scheduler` and keeps ns.lane()
// equal to the running scheduler lane. Replaces ns's op hook and the scheduler's switch callback.
void AttachScheduler(SimNamespace& ns, sim::Scheduler& scheduler);

}  // namespace tearproof::harness
