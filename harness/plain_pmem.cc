#include "harness/plain_pmem.h"

#include <string>
#include <vector>

namespace tearproof::harness {

Status PlainPmem::ValidateLbaSize(uint32_t lbasize) {
  if (lbasize < 512 || lbasize > 65536 || lbasize % 8 != 0) {
    return InvalidArgument("plain-pmem sector size " + std::to_string(lbasize) +
                           ": expected a multiple of 8 in [512, 65536]");
  }
  return Status::Ok();
}

Status PlainPmem::CheckLba(uint64_t lba, size_t size_bytes) const {
  if (lba >= kSectors) {
    return OutOfRange("plain-pmem lba " + std::to_string(lba) + " >= " + std::to_string(kSectors));
  }
  if (size_bytes != lbasize_) {
    return InvalidArgument("plain-pmem buffer of " + std::to_string(size_bytes) + " bytes for a " +
                           std::to_string(lbasize_) + "-byte sector");
  }
  return Status::Ok();
}

Status PlainPmem::Read(uint64_t lba, std::span<std::byte> out) {
  TP_RETURN_IF_ERROR(CheckLba(lba, out.size()));
  return ns_.Read(lba * lbasize_, out);
}

Status PlainPmem::Write(uint64_t lba, std::span<const std::byte> data) {
  TP_RETURN_IF_ERROR(CheckLba(lba, data.size()));
  // memcpy into place, then write back and fence: durable when this returns, atomic never.
  TP_RETURN_IF_ERROR(ns_.Write(lba * lbasize_, data));
  TP_RETURN_IF_ERROR(ns_.Flush(lba * lbasize_, lbasize_));
  ns_.Drain();
  return Status::Ok();
}

Status PlainPmem::Zero(uint64_t lba) {
  const std::vector<std::byte> zeros(lbasize_);
  return Write(lba, zeros);
}

}  // namespace tearproof::harness
