// Test-only helpers for btt/ tests: deterministic UUIDs and sector patterns, a store-counting
// Namespace wrapper, and a sparse page-map Namespace for multi-arena geometries. Never linked
// into tearproof_btt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "btt/btt.h"
#include "btt/namespace.h"

namespace tearproof::btt::testing {

Uuid TestUuid(uint64_t seed);

// A sector of `size` bytes whose content names (lba, version), so misdirected or torn data is
// recognisable.
std::vector<std::byte> Pattern(uint64_t lba, uint64_t version, size_t size);

// Format options for a test image: `profile`, 512-byte sectors, `nfree`, and the BTT, parent
// and pool-part UUIDs TestUuid(uuid_seed), TestUuid(uuid_seed + 1), TestUuid(uuid_seed + 2).
FormatOptions TestFormatOptions(Profile profile, uint32_t nfree, uint64_t uuid_seed);

// One sector of `lba`; a failed read is a test failure (EXPECT) and returns the buffer as is.
std::vector<std::byte> ReadSector(Btt& btt, uint64_t lba);

// Forwards everything to `inner` and counts mutating calls.
class CountingNamespace final : public Namespace {
 public:
  explicit CountingNamespace(Namespace& inner) : inner_(inner) {}
  uint64_t SizeBytes() const override { return inner_.SizeBytes(); }
  bool ReadOnly() const override { return inner_.ReadOnly(); }
  Status Read(uint64_t offset, std::span<std::byte> out) override {
    return inner_.Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const std::byte> data) override {
    ++writes;
    return inner_.Write(offset, data);
  }
  Status Flush(uint64_t offset, uint64_t size_bytes) override {
    ++flushes;
    return inner_.Flush(offset, size_bytes);
  }
  void Drain() override { inner_.Drain(); }
  uint64_t writes = 0;
  uint64_t flushes = 0;

 private:
  Namespace& inner_;
};

// Forwards everything to `inner`, except that a Write (and so a WritePersist) for which
// `fail(offset, size)` is true stores nothing and returns kIoError: a medium that refuses one
// durability point, for the arena ERROR tests.
class FaultyNamespace final : public Namespace {
 public:
  using Predicate = std::function<bool(uint64_t offset, uint64_t size_bytes)>;
  explicit FaultyNamespace(Namespace& inner) : inner_(inner) {}
  void set_fail(Predicate fail) { fail_ = std::move(fail); }
  uint64_t SizeBytes() const override { return inner_.SizeBytes(); }
  bool ReadOnly() const override { return inner_.ReadOnly(); }
  Status Read(uint64_t offset, std::span<std::byte> out) override {
    return inner_.Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const std::byte> data) override {
    if (fail_ && fail_(offset, data.size())) {
      ++failures;
      return IoError("injected write failure at " + std::to_string(offset));
    }
    return inner_.Write(offset, data);
  }
  Status Flush(uint64_t offset, uint64_t size_bytes) override {
    return inner_.Flush(offset, size_bytes);
  }
  void Drain() override { inner_.Drain(); }
  uint64_t failures = 0;

 private:
  Namespace& inner_;
  Predicate fail_;
};

// A huge namespace that stores only the 4 KiB pages ever written with non-zero bytes.
// Single-threaded.
class SparseNamespace final : public Namespace {
 public:
  explicit SparseNamespace(uint64_t size) : size_(size) {}
  uint64_t SizeBytes() const override { return size_; }
  bool ReadOnly() const override { return false; }
  Status Read(uint64_t offset, std::span<std::byte> out) override;
  Status Write(uint64_t offset, std::span<const std::byte> data) override;
  Status Flush(uint64_t offset, uint64_t size_bytes) override {
    return CheckRange(offset, size_bytes);
  }
  void Drain() override {}
  size_t PageCount() const { return pages_.size(); }

 private:
  // Calls visit(page, offset in page, offset in the caller's buffer, length) for each piece of
  // [offset, offset + size) that lies in one 4 KiB page, in address order.
  template <typename Visit>
  static void ForEachPiece(uint64_t offset, size_t size, Visit visit);

  uint64_t size_;
  std::map<uint64_t, std::unique_ptr<std::byte[]>> pages_;
};

}  // namespace tearproof::btt::testing
