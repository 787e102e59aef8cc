#include "harness/crash_point_memo.h"

#include <algorithm>
#include <cstring>

namespace tearproof::harness {

bool CrashPointMemo::BlobLess::operator()(std::span<const std::byte> a,
                                          std::span<const std::byte> b) const {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  return c < 0 || (c == 0 && a.size() < b.size());
}

Status CrashPointMemo::Bind(const std::string& config_signature) {
  if (!bound_) {
    signature_ = config_signature;
    bound_ = true;
    return Status::Ok();
  }
  if (signature_ != config_signature) {
    return InvalidArgument(
        "a crash point memo is shared only by explorations of one "
        "configuration: bound to '" +
        signature_ + "', used with '" + config_signature + "'");
  }
  return Status::Ok();
}

uint64_t CrashPointMemo::InternBlob(std::span<const std::byte> data) {
  const auto it = blob_ids_.find(data);
  if (it != blob_ids_.end()) return it->second;
  blobs_.emplace_back(data.begin(), data.end());
  const uint64_t id = blobs_.size();  // 0 = no data (flushes, fences)
  blob_ids_.emplace(std::span<const std::byte>(blobs_.back()), id);
  return id;
}

void CrashPointMemo::Step(Kind kind, uint32_t lane, uint64_t offset, uint64_t size_bytes,
                          uint64_t blob) {
  const Edge edge{cursor_, kind, lane, offset, size_bytes, blob};
  const auto [it, inserted] = children_.emplace(edge, children_.size() + 1);
  cursor_ = it->second;
}

void CrashPointMemo::OnWrite(uint32_t lane, uint64_t offset, std::span<const std::byte> data) {
  Step(Kind::kWrite, lane, offset, data.size(), InternBlob(data));
}

void CrashPointMemo::OnFlush(uint32_t lane, uint64_t offset, uint64_t size_bytes) {
  Step(Kind::kFlush, lane, offset, size_bytes, 0);
}

void CrashPointMemo::OnFence(uint32_t lane) { Step(Kind::kFence, lane, 0, 0, 0); }

bool CrashPointMemo::FirstVisit(std::vector<uint64_t> expectation) {
  return judged_.emplace(cursor_, std::move(expectation)).second;
}

}  // namespace tearproof::harness
