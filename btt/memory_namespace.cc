#include "btt/memory_namespace.h"

#include <atomic>
#include <cstring>
#include <new>

namespace tearproof::btt {

MemoryNamespace::MemoryNamespace(uint64_t size_bytes, bool read_only)
    : size_(size_bytes), read_only_(read_only) {
  data_ = static_cast<std::byte*>(::operator new (size_ == 0 ? 64 : size_, std::align_val_t{64}));
  std::memset(data_, 0, size_);
}

MemoryNamespace::~MemoryNamespace() { ::operator delete (data_, std::align_val_t{64}); }

Status MemoryNamespace::Read(uint64_t offset, std::span<std::byte> out) {
  if (!InRange(offset, out.size(), size_)) return CheckRange(offset, out.size());
  if (out.empty()) return Status::Ok();
  if (!AtomicLoadIfWord(data_ + offset, out)) std::memcpy(out.data(), data_ + offset, out.size());
  return Status::Ok();
}

Status MemoryNamespace::Write(uint64_t offset, std::span<const std::byte> data) {
  if (read_only_) return ReadOnlyError("MemoryNamespace is read-only");
  if (!InRange(offset, data.size(), size_)) return CheckRange(offset, data.size());
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
