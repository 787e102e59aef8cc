#include "harness/sim_namespace.h"

namespace tearproof::harness {

Status SimNamespace::Read(uint64_t offset, std::span<std::byte> out) {
  TP_RETURN_IF_ERROR(CheckRange(offset, out.size()));
  return medium_.Load(lane_, offset, out);
}

Status SimNamespace::Write(uint64_t offset, std::span<const std::byte> data) {
  TP_RETURN_IF_ERROR(CheckRange(offset, data.size()));
  if (read_only_) return ReadOnlyError("simulated namespace is read-only");
  if (data.empty()) return Status::Ok();
  ++store_calls_;
  return medium_.Store(lane_, offset, data);
}

Status SimNamespace::Flush(uint64_t offset, uint64_t size_bytes) {
  TP_RETURN_IF_ERROR(CheckRange(offset, size_bytes));
  if (read_only_) return ReadOnlyError("simulated namespace is read-only");
  switch (flush_kind_) {
    case FlushKind::kClwb: return medium_.ClwbRange(lane_, offset, size_bytes);
    case FlushKind::kClflushopt: return medium_.ClflushoptRange(lane_, offset, size_bytes);
    case FlushKind::kClflush: return medium_.ClflushRange(lane_, offset, size_bytes);
    case FlushKind::kNone: return Status::Ok();
  }
  return InternalError("unknown flush kind");
}

void SimNamespace::Drain() {
  ++fence_calls_;
  if (fence_hook_) fence_hook_();
  // Sfence fails only for a lane out of range, which set_lane's callers control: an invariant.
  const Status status = medium_.Sfence(lane_);
  TP_ASSERT(status.ok(), "INV-HARNESS-LANE-VALID");
}

}  // namespace tearproof::harness
