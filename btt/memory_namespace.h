// btt::MemoryNamespace — a DRAM-backed Namespace.
//
// Contract: implements btt::Namespace (btt/namespace.h) over a 64-byte aligned heap buffer,
// zero-filled at construction. Aligned 1/2/4/8-byte Reads and Writes are single atomic loads and
// stores (std::atomic_ref, acquire/release), so concurrent readers never see a torn map or flog
// word and see what was written before it;
// wider accesses are memcpy and the caller orders conflicting ones. Flush and Drain are no-ops
// (DRAM is its own persistence domain here); a read-only instance refuses Write and Flush with
// kReadOnly. Thread-safe in the sense of the Namespace contract.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
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
  std::span<const std::byte> MappedBytes() const override { return {data_, size_}; }

  // Direct access for tests and for building images by hand (bypasses read-only).
  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }

 private:
  uint64_t size_;
  bool read_only_;
  std::byte* data_;
};

// Aligned single-word copy helpers shared by the in-memory backends: when `size` is 1, 2, 4 or 8
// and `p` is aligned to it, do the access as one atomic load (acquire) or store (release), as the
// Namespace contract asks, and return true; otherwise return false and touch nothing. On x86 both
// are plain moves. Inline: they sit on every map and flog access of the BTT's I/O paths.
namespace word_internal {
template <typename T>
inline void Load(const std::byte* p, std::byte* out) {
  // atomic_ref needs a non-const object; the load does not modify it.
  const T v = std::atomic_ref<T>(*reinterpret_cast<T*>(const_cast<std::byte*>(p)))
                  .load(std::memory_order_acquire);
  std::memcpy(out, &v, sizeof(T));
}
template <typename T>
inline void Store(std::byte* p, const std::byte* in) {
  T v;
  std::memcpy(&v, in, sizeof(T));
  std::atomic_ref<T>(*reinterpret_cast<T*>(p)).store(v, std::memory_order_release);
}
inline bool IsAlignedWord(const std::byte* p, size_t size) {
  return (size == 1 || size == 2 || size == 4 || size == 8) &&
         reinterpret_cast<uintptr_t>(p) % size == 0;
}
// Calls fn(T{}) with T the unsigned integer of `size` bytes (1, 2, 4 or 8).
template <typename Fn>
inline void WithWordType(size_t size, Fn&& fn) {
  switch (size) {
    case 1:
      return fn(uint8_t{});
    case 2:
      return fn(uint16_t{});
    case 4:
      return fn(uint32_t{});
    default:
      return fn(uint64_t{});
  }
}
}  // namespace word_internal

inline bool AtomicLoadIfWord(const std::byte* p, std::span<std::byte> out) {
  if (!word_internal::IsAlignedWord(p, out.size())) return false;
  word_internal::WithWordType(out.size(),
                              [&](auto t) { word_internal::Load<decltype(t)>(p, out.data()); });
  return true;
}

inline bool AtomicStoreIfWord(std::byte* p, std::span<const std::byte> data) {
  if (!word_internal::IsAlignedWord(p, data.size())) return false;
  word_internal::WithWordType(data.size(),
                              [&](auto t) { word_internal::Store<decltype(t)>(p, data.data()); });
  return true;
}

}  // namespace tearproof::btt
