#include "harness/sim_namespace.h"

#include <type_traits>

namespace tearproof::harness {

const char* MediumOpName(MediumOp::Kind kind) {
  switch (kind) {
    case MediumOp::Kind::kRead:
      return "medium read";
    case MediumOp::Kind::kWrite:
      return "medium write";
    case MediumOp::Kind::kFlush:
      return "medium flush";
    case MediumOp::Kind::kDrain:
      return "medium drain";
  }
  return "medium ?";
}

// Runs the op hook before `body` and after it, whatever body returns.
template <typename Body>
auto SimNamespace::Hooked(MediumOp::Kind kind, uint64_t offset, uint64_t size_bytes, Body body) {
  if (!op_hook_) return body();
  op_hook_(MediumOp{kind, MediumOp::Phase::kBefore, offset, size_bytes});
  if constexpr (std::is_void_v<decltype(body())>) {
    body();
    op_hook_(MediumOp{kind, MediumOp::Phase::kAfter, offset, size_bytes});
  } else {
    auto result = body();
    op_hook_(MediumOp{kind, MediumOp::Phase::kAfter, offset, size_bytes});
    return result;
  }
}

Status SimNamespace::Read(uint64_t offset, std::span<std::byte> out) {
  return Hooked(MediumOp::Kind::kRead, offset, out.size(), [&] { return ReadImpl(offset, out); });
}

Status SimNamespace::Write(uint64_t offset, std::span<const std::byte> data) {
  return Hooked(MediumOp::Kind::kWrite, offset, data.size(),
                [&] { return WriteImpl(offset, data); });
}

Status SimNamespace::Flush(uint64_t offset, uint64_t size_bytes) {
  return Hooked(MediumOp::Kind::kFlush, offset, size_bytes,
                [&] { return FlushImpl(offset, size_bytes); });
}

void SimNamespace::Drain() {
  Hooked(MediumOp::Kind::kDrain, 0, 0, [&] { DrainImpl(); });
}

Status SimNamespace::ReadImpl(uint64_t offset, std::span<std::byte> out) {
  TP_RETURN_IF_ERROR(CheckRange(offset, out.size()));
  return medium_.Load(lane_, offset, out);
}

Status SimNamespace::WriteImpl(uint64_t offset, std::span<const std::byte> data) {
  TP_RETURN_IF_ERROR(CheckRange(offset, data.size()));
  if (read_only_) return ReadOnlyError("simulated namespace is read-only");
  if (data.empty()) return Status::Ok();
  ++store_calls_;
  TP_RETURN_IF_ERROR(medium_.Store(lane_, offset, data));
  if (applied_hook_) {
    applied_hook_(MediumOp{MediumOp::Kind::kWrite, MediumOp::Phase::kAfter, offset, data.size()},
                  data);
  }
  return Status::Ok();
}

Status SimNamespace::FlushImpl(uint64_t offset, uint64_t size_bytes) {
  TP_RETURN_IF_ERROR(CheckRange(offset, size_bytes));
  if (read_only_) return ReadOnlyError("simulated namespace is read-only");
  Status status = InternalError("unknown flush kind");
  switch (flush_kind_) {
    case FlushKind::kClwb:
      status = medium_.ClwbRange(lane_, offset, size_bytes);
      break;
    case FlushKind::kClflushopt:
      status = medium_.ClflushoptRange(lane_, offset, size_bytes);
      break;
    case FlushKind::kClflush:
      status = medium_.ClflushRange(lane_, offset, size_bytes);
      break;
    case FlushKind::kNone:
      status = Status::Ok();
      break;
  }
  TP_RETURN_IF_ERROR(status);
  if (applied_hook_) {
    applied_hook_(MediumOp{MediumOp::Kind::kFlush, MediumOp::Phase::kAfter, offset, size_bytes},
                  {});
  }
  return Status::Ok();
}

void SimNamespace::DrainImpl() {
  ++fence_calls_;
  if (fence_hook_) fence_hook_();
  // Sfence fails only for a lane out of range, which set_lane's callers control: an invariant.
  const Status status = medium_.Sfence(lane_);
  TP_ASSERT(status.ok(), "INV-HARNESS-LANE-VALID");
  if (applied_hook_) applied_hook_(MediumOp{MediumOp::Kind::kDrain, MediumOp::Phase::kAfter}, {});
}

}  // namespace tearproof::harness
