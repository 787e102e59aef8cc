// btt::FileNamespace — a Namespace over a memory-mapped file, through PMDK's libpmem.
//
// Contract: implements btt::Namespace (btt/namespace.h). Read-write files are mapped with
// pmem_map_file; on real persistent memory Flush is pmem_flush (clwb/clflushopt) and Drain is
// pmem_drain (sfence); on ordinary files Flush is pmem_msync (which is itself durable) and Drain
// is harmless. Aligned 1/2/4/8-byte accesses are single atomic loads (acquire) and stores
// (release) through std::atomic_ref, so the 8-byte flog halves and 4-byte map entries never tear;
// wider Writes use pmem_memcpy_nodrain on pmem and memcpy otherwise. WritePersist is one call: a
// word store + pmem_persist, or pmem_memcpy_persist for wide data (msync on ordinary files).
// Read-only files are mapped PROT_READ with mmap; every Write and Flush returns kReadOnly.
// Thread-safe in the sense of the Namespace contract. The mapping lives as long as the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "btt/namespace.h"
#include "util/status.h"

namespace tearproof::btt {

class FileNamespace final : public Namespace {
 public:
  // Maps an existing file; read_only maps it PROT_READ. The namespace is the file from `offset`
  // to its end: a BTT placed inside a bigger file (after a partition table, inside a DIMM image)
  // is opened by naming where its namespace starts. `offset` must be a multiple of 4096 (so the
  // BTT's words stay aligned) and lie before the end of the file, otherwise kInvalidArgument.
  // The bytes before `offset` are never touched.
  static Result<std::unique_ptr<FileNamespace>> Open(const std::string& path, bool read_only,
                                                     uint64_t offset = 0);
  // Creates (or truncates) `path` to `offset + size_bytes` bytes (sparse, zero-filled) and maps
  // it read-write; the namespace is the last `size_bytes` of them.
  static Result<std::unique_ptr<FileNamespace>> Create(const std::string& path, uint64_t size_bytes,
                                                       uint64_t offset = 0);
  ~FileNamespace() override;
  FileNamespace(const FileNamespace&) = delete;
  FileNamespace& operator=(const FileNamespace&) = delete;

  uint64_t SizeBytes() const override { return size_; }
  bool ReadOnly() const override { return read_only_; }
  bool IsPmem() const { return is_pmem_; }

  Status Read(uint64_t offset, std::span<std::byte> out) override;
  Status Write(uint64_t offset, std::span<const std::byte> data) override;
  Status Flush(uint64_t offset, uint64_t size_bytes) override;
  void Drain() override;
  Status WritePersist(uint64_t offset, std::span<const std::byte> data) override;
  std::span<const std::byte> MappedBytes() const override { return {base_, size_}; }

 private:
  FileNamespace(std::byte* mapping, uint64_t mapping_size, uint64_t offset, bool read_only,
                bool is_pmem, bool pmem_mapped)
      : mapping_(mapping),
        mapping_size_(mapping_size),
        base_(mapping + offset),
        size_(mapping_size - offset),
        read_only_(read_only),
        is_pmem_(is_pmem),
        pmem_mapped_(pmem_mapped) {}

  std::byte* mapping_;     // the whole file, as mapped
  uint64_t mapping_size_;  // its length
  std::byte* base_;        // the namespace: mapping_ + offset
  uint64_t size_;
  bool read_only_;
  bool is_pmem_;
  bool pmem_mapped_;  // unmap with pmem_unmap (else munmap)

  // pmem_msync of a range already checked: the durability primitive on ordinary files.
  Status Msync(uint64_t offset, uint64_t size_bytes);
};

}  // namespace tearproof::btt
