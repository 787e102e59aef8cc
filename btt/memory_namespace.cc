#include "btt/memory_namespace.h"

#include <atomic>
#include <cstring>
#include <new>

namespace tearproof::btt {
namespace {

template <typename T>
bool LoadAs(const std::byte* p, std::span<std::byte> out) {
  if (out.size() != sizeof(T) || reinterpret_cast<uintptr_t>(p) % sizeof(T) != 0) return false;
  // atomic_ref needs a non-const object; the load does not modify it.
  T v = std::atomic_ref<T>(*reinterpret_cast<T*>(const_cast<std::byte*>(p)))
            .load(std::memory_order_seq_cst);
  std::memcpy(out.data(), &v, sizeof(T));
  return true;
}

template <typename T>
bool StoreAs(std::byte* p, std::span<const std::byte> data) {
  if (data.size() != sizeof(T) || reinterpret_cast<uintptr_t>(p) % sizeof(T) != 0) return false;
  T v;
  std::memcpy(&v, data.data(), sizeof(T));
  std::atomic_ref<T>(*reinterpret_cast<T*>(p)).store(v, std::memory_order_seq_cst);
  return true;
}

}  // namespace

bool AtomicLoadIfWord(const std::byte* p, std::span<std::byte> out) {
  return LoadAs<uint8_t>(p, out) || LoadAs<uint16_t>(p, out) || LoadAs<uint32_t>(p, out) ||
         LoadAs<uint64_t>(p, out);
}

bool AtomicStoreIfWord(std::byte* p, std::span<const std::byte> data) {
  return StoreAs<uint8_t>(p, data) || StoreAs<uint16_t>(p, data) || StoreAs<uint32_t>(p, data) ||
         StoreAs<uint64_t>(p, data);
}

MemoryNamespace::MemoryNamespace(uint64_t size_bytes, bool read_only)
    : size_(size_bytes), read_only_(read_only) {
  data_ = static_cast<std::byte*>(::operator new (size_ == 0 ? 64 : size_, std::align_val_t{64}));
  std::memset(data_, 0, size_);
}

MemoryNamespace::~MemoryNamespace() { ::operator delete (data_, std::align_val_t{64}); }

Status MemoryNamespace::Read(uint64_t offset, std::span<std::byte> out) {
  TP_RETURN_IF_ERROR(CheckRange(offset, out.size()));
  if (out.empty()) return Status::Ok();
  if (!AtomicLoadIfWord(data_ + offset, out)) std::memcpy(out.data(), data_ + offset, out.size());
  return Status::Ok();
}

Status MemoryNamespace::Write(uint64_t offset, std::span<const std::byte> data) {
  if (read_only_) return ReadOnlyError("MemoryNamespace is read-only");
  TP_RETURN_IF_ERROR(CheckRange(offset, data.size()));
  if (data.empty()) return Status::Ok();
  if (!AtomicStoreIfWord(data_ + offset, data)) {
    std::memcpy(data_ + offset, data.data(), data.size());
  }
  return Status::Ok();
}

Status MemoryNamespace::Flush(uint64_t offset, uint64_t size_bytes) {
  if (read_only_) return ReadOnlyError("MemoryNamespace is read-only");
  return CheckRange(offset, size_bytes);
}

}  // namespace tearproof::btt
