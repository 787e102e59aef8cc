// harness::PlainPmem — the control device: a persistent-memory block device without BTT.
//
// LBA i lives at byte offset i * lbasize. A write copies the sector into place (one wide store,
// i.e. memcpy), flushes every line it touches and fences, as the Linux pmem driver does without
// BTT (its memcpy_flushcache uses non-temporal stores; either way nothing makes the sector
// atomic: a power cut before the fence leaves any mix of old and new words). Zero writes a zero
// sector the same way; read copies the sector out. There is no metadata, so nothing to recover
// and nothing to check. Run through the crash explorer it must show torn sectors
// (ORACLE-ATOMIC): the proof that the oracle can see what the BTT prevents.
//
// Not thread-safe; deterministic.
#pragma once

#include <cstdint>
#include <span>

#include "btt/namespace.h"
#include "util/status.h"

namespace tearproof::harness {

class PlainPmem {
 public:
  // Sectors of the device: a handful is all a crash workload touches.
  static constexpr uint64_t kSectors = 16;
  // REQUIRES nothing: lbasize must be a multiple of 8 in [512, 65536] (else InvalidArgument).
  static Status ValidateLbaSize(uint32_t lbasize);
  static uint64_t SizeBytes(uint32_t lbasize) { return kSectors * lbasize; }

  // REQUIRES: ValidateLbaSize(lbasize) ok and ns.SizeBytes() >= SizeBytes(lbasize).
  PlainPmem(btt::Namespace& ns, uint32_t lbasize) : ns_(ns), lbasize_(lbasize) {}

  uint64_t Nlba() const { return kSectors; }
  uint32_t LbaSize() const { return lbasize_; }

  Status Read(uint64_t lba, std::span<std::byte> out);
  Status Write(uint64_t lba, std::span<const std::byte> data);
  Status Zero(uint64_t lba);

 private:
  Status CheckLba(uint64_t lba, size_t size_bytes) const;

  btt::Namespace& ns_;
  uint32_t lbasize_;
};

}  // namespace tearproof::harness
