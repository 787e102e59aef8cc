// harness::SequentialSync — the btt::Sync of a simulation that runs one operation at a time.
//
// Lanes are handed out round-robin from a counter owned by the instance, so the lane (and with it
// the free block and flog group) an operation uses depends only on the order of operations:
// the same workload touches the same blocks on every run. Locks are flags: in a sequential run
// nothing can contend, so a lock that is already held is a harness bug (asserted). The
// deterministic multi-lane scheduler replaces this with fibers.
#pragma once

#include <cstdint>
#include <vector>

#include "btt/sync.h"

namespace tearproof::harness {

class SequentialSync final : public btt::Sync {
 public:
  Status Init(uint32_t lane_count, uint32_t map_lock_count) override;
  btt::Lane AcquireLane() override;
  void ReleaseLane(btt::Lane lane) override;
  void LockMap(uint32_t index) override;
  void UnlockMap(uint32_t index) override;
  void Pause() override;

 private:
  std::vector<bool> lane_held_;
  std::vector<bool> map_held_;
  uint32_t next_lane_ = 0;
};

}  // namespace tearproof::harness
