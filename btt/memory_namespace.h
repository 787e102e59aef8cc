// btt::MemoryNamespace — a DRAM-backed Namespace.
//
// Contract: implements btt::Namespace (btt/namespace.h) over a 64-byte aligned heap buffer,
// zero-filled at construction. Aligned 1/2/4/8-byte Reads and Writes are single atomic loads and
// stores (std::atomic_ref, seq_cst), so concurrent readers never see a torn map or flog word;
// wider accesses are memcpy and the caller orders conflicting ones. Flush and Drain are no-ops
// (DRAM is its own persistence domain here); a read-only instance refuses Write and Flush with
// kReadOnly. Thread-safe in the sense of the Namespace contract.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "btt/namespace.h"

namespace tearproof::btt {

class MemoryNamespace final : public Namespace {
 public:
  explicit MemoryNamespace(uint64_t size_bytes, bool read_only = false);
  ~MemoryNamespace() override;
  MemoryNamespace(const MemoryNamespace&) = delete;
  MemoryNamespace& operator=(const MemoryNamespace&) = delete;

  uint64_t SizeBytes() const override { return size_; }
  bool ReadOnly() const override { return read_only_; }
  void SetReadOnly(bool read_only) { read_only_ = read_only; }

  Status Read(uint64_t offset, std::span<std::byte> out) override;
  Status Write(uint64_t offset, std::span<const std::byte> data) override;
  Status Flush(uint64_t offset, uint64_t size_bytes) override;
  void Drain() override {}

  // Direct access for tests and for building images by hand (bypasses read-only).
  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }

 private:
  uint64_t size_;
  bool read_only_;
  std::byte* data_;
};

// Aligned single-word copy helpers shared by the in-memory backends: returns true (and does the
// access as one atomic load/store) when `size` is 1, 2, 4 or 8 and `p` is aligned to it.
bool AtomicLoadIfWord(const std::byte* p, std::span<std::byte> out);
bool AtomicStoreIfWord(std::byte* p, std::span<const std::byte> data);

}  // namespace tearproof::btt
