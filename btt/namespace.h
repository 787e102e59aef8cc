// btt::Namespace — the only way the BTT core touches storage.
//
// The BTT core (btt/) is written against this interface and nothing else, so the identical compiled
// code runs on the simulated medium (through an adapter in harness/) and on a real memory-mapped
// file (btt/file_namespace.h, PMDK's libpmem flush primitives). The interface mirrors what a
// persistent-memory program can do: byte loads and stores, cache-line write-back, and a store
// fence.
//
// Contract (every implementation):
//   - Offsets are bytes from the start of the namespace; [offset, offset + size) must lie inside
//     [0, SizeBytes()), otherwise kOutOfRange and nothing is done. Zero-length calls are no-ops.
//   - Read returns the latest bytes stored (loads see stores, whatever has or has not persisted).
//   - Write stores bytes; they become durable only after Flush of their lines and a later Drain
//     (or, on eADR-like media, immediately). A Write is NOT durable by itself.
//   - Atomicity: a Write or Read of exactly 1, 2, 4 or 8 bytes at an offset aligned to its size is
//     one store or load that cannot tear, either under concurrency or across power failure. Wider
//     Writes may tear at 8-byte boundaries after a crash. Between threads such a Write is a
//     release store and such a Read an acquire load: a thread that reads a word sees everything
//     the writer wrote before it (the BTT publishes a data block by its map entry this way).
//     Nothing stronger: ordering a store before a load of another address is the caller's fence.
//   - Flush(offset, size) schedules write-back of every 64-byte line the range touches (clwb).
//   - Drain() is a store fence (sfence): every Flush issued before it by this CPU is durable when
//   it
//     returns. Persist(offset, size) = Flush + Drain.
//   - Thread safety: calls from several threads (or simulated lanes) may run concurrently; the
//     caller orders conflicting accesses to the same bytes with its own locks.
//   - Read-only namespaces return kReadOnly from Write/Flush/WritePersist; Drain is always
//     harmless.
//   - WritePersist may be overridden with a cheaper equivalent (one range check, one call into
//     the flush library), but must make the same bytes durable with the same atomicity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "util/status.h"

namespace tearproof::btt {

class Namespace {
 public:
  virtual ~Namespace() = default;

  virtual uint64_t SizeBytes() const = 0;
  virtual bool ReadOnly() const = 0;

  virtual Status Read(uint64_t offset, std::span<std::byte> out) = 0;
  virtual Status Write(uint64_t offset, std::span<const std::byte> data) = 0;
  virtual Status Flush(uint64_t offset, uint64_t size_bytes) = 0;
  virtual void Drain() = 0;

  // The whole namespace as memory the caller may load from directly (a mapped file, a DRAM
  // buffer), 8-byte aligned and SizeBytes() long; empty (the default) when loads must go through
  // Read, as the simulator's adapter needs to see each one. Direct loads follow Read's rules (an
  // aligned word is one acquire load); stores always go through Write. Valid for the object's
  // life.
  // The BTT core uses it on its hottest loads: map entries and the data block a read copies.
  virtual std::span<const std::byte> MappedBytes() const { return {}; }

  // Write + Flush + Drain: the bytes are durable when this returns OK.
  virtual Status WritePersist(uint64_t offset, std::span<const std::byte> data) {
    TP_RETURN_IF_ERROR(Write(offset, data));
    TP_RETURN_IF_ERROR(Flush(offset, data.size()));
    Drain();
    return Status::Ok();
  }

 protected:
  // For implementations: kOutOfRange unless [offset, offset + size) lies inside the namespace.
  Status CheckRange(uint64_t offset, uint64_t size_bytes) const;
  // The same test as a bool, for hot paths that know their size and build the Status (through
  // CheckRange) only on failure.
  static constexpr bool InRange(uint64_t offset, uint64_t size_bytes, uint64_t namespace_size) {
    return offset <= namespace_size && size_bytes <= namespace_size - offset;
  }
};

}  // namespace tearproof::btt
