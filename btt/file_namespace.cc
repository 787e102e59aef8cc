#include "btt/file_namespace.h"

#include <fcntl.h>
#include <libpmem.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "btt/memory_namespace.h"

namespace tearproof::btt {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return IoError(what + " " + path + ": " + std::strerror(errno));
}

// kInvalidArgument unless `offset` can start a namespace inside a file of `file_size` bytes.
Status CheckOffset(uint64_t offset, uint64_t file_size, const std::string& path) {
  if (offset % 4096 != 0) {
    return InvalidArgument("offset " + std::to_string(offset) +
                           " is not a multiple of 4096 (the BTT's alignment)");
  }
  if (offset != 0 && offset >= file_size) {
    return InvalidArgument("offset " + std::to_string(offset) + " is not inside " + path + " (" +
                           std::to_string(file_size) + " bytes)");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<FileNamespace>> FileNamespace::Open(const std::string& path, bool read_only,
                                                           uint64_t offset) {
  if (!read_only) {
    size_t mapped_len = 0;
    int is_pmem = 0;
    void* addr = pmem_map_file(path.c_str(), 0, 0, 0, &mapped_len, &is_pmem);
    if (addr == nullptr) {
      if (errno == ENOENT) return NotFound("no such file " + path);
      return IoError("pmem_map_file " + path + ": " + pmem_errormsg());
    }
    Status s = CheckOffset(offset, mapped_len, path);
    if (!s.ok()) {
      pmem_unmap(addr, mapped_len);
      return s;
    }
    return std::unique_ptr<FileNamespace>(new FileNamespace(
        static_cast<std::byte*>(addr), mapped_len, offset, false, is_pmem != 0, true));
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("no such file " + path);
    return Errno("open", path);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = Errno("fstat", path);
    ::close(fd);
    return s;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (Status s = CheckOffset(offset, size, path); !s.ok()) {
    ::close(fd);
    return s;
  }
  void* addr = nullptr;
  if (size > 0) {
    addr = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED) {
      Status s = Errno("mmap", path);
      ::close(fd);
      return s;
    }
  }
  ::close(fd);
  return std::unique_ptr<FileNamespace>(
      new FileNamespace(static_cast<std::byte*>(addr), size, offset, true, false, false));
}

Result<std::unique_ptr<FileNamespace>> FileNamespace::Create(const std::string& path,
                                                             uint64_t size_bytes, uint64_t offset) {
  if (size_bytes == 0) return InvalidArgument("FileNamespace::Create needs a non-zero size");
  if (offset > UINT64_MAX - size_bytes) return InvalidArgument("offset + size overflows");
  TP_RETURN_IF_ERROR(CheckOffset(offset, offset + size_bytes, path));
  ::unlink(path.c_str());
  size_t mapped_len = 0;
  int is_pmem = 0;
  void* addr = pmem_map_file(path.c_str(), offset + size_bytes, PMEM_FILE_CREATE, 0644, &mapped_len,
                             &is_pmem);
  if (addr == nullptr) return IoError("pmem_map_file create " + path + ": " + pmem_errormsg());
  return std::unique_ptr<FileNamespace>(new FileNamespace(static_cast<std::byte*>(addr), mapped_len,
                                                          offset, false, is_pmem != 0, true));
}

FileNamespace::~FileNamespace() {
  if (mapping_ == nullptr) return;
  if (pmem_mapped_) {
    pmem_unmap(mapping_, mapping_size_);
  } else {
    ::munmap(mapping_, mapping_size_);
  }
}

Status FileNamespace::Read(uint64_t offset, std::span<std::byte> out) {
  if (!InRange(offset, out.size(), size_)) return CheckRange(offset, out.size());
  if (out.empty()) return Status::Ok();
  if (!AtomicLoadIfWord(base_ + offset, out)) std::memcpy(out.data(), base_ + offset, out.size());
  return Status::Ok();
}

Status FileNamespace::Write(uint64_t offset, std::span<const std::byte> data) {
  if (read_only_) return ReadOnlyError("FileNamespace is mapped read-only");
  if (!InRange(offset, data.size(), size_)) return CheckRange(offset, data.size());
  if (data.empty()) return Status::Ok();
  if (AtomicStoreIfWord(base_ + offset, data)) return Status::Ok();
  if (is_pmem_) {
    pmem_memcpy_nodrain(base_ + offset, data.data(), data.size());
  } else {
    std::memcpy(base_ + offset, data.data(), data.size());
  }
  return Status::Ok();
}

Status FileNamespace::Msync(uint64_t offset, uint64_t size_bytes) {
  if (pmem_msync(base_ + offset, size_bytes) != 0) {
    return IoError(std::string("pmem_msync: ") + std::strerror(errno));
  }
  return Status::Ok();
}

Status FileNamespace::Flush(uint64_t offset, uint64_t size_bytes) {
  if (read_only_) return ReadOnlyError("FileNamespace is mapped read-only");
  if (!InRange(offset, size_bytes, size_)) return CheckRange(offset, size_bytes);
  if (size_bytes == 0) return Status::Ok();
  if (is_pmem_) {
    pmem_flush(base_ + offset, size_bytes);
    return Status::Ok();
  }
  return Msync(offset, size_bytes);
}

// Write + Flush + Drain in one call, with one range check (this sits on every durability point of
// the BTT write path). Word-sized writes stay single atomic stores, then write-back + fence
// (pmem_persist). On pmem a wide write is a non-temporal copy, which needs no write-back
// afterwards: one pmem_memcpy_persist (NT stores + sfence) instead of memcpy_nodrain + pmem_flush
// of the same lines + drain, which would flush every line twice.
Status FileNamespace::WritePersist(uint64_t offset, std::span<const std::byte> data) {
  if (read_only_) return ReadOnlyError("FileNamespace is mapped read-only");
  if (!InRange(offset, data.size(), size_)) return CheckRange(offset, data.size());
  if (data.empty()) return Status::Ok();
  std::byte* dst = base_ + offset;
  if (AtomicStoreIfWord(dst, data)) {
    if (!is_pmem_) return Msync(offset, data.size());
    pmem_persist(dst, data.size());
    return Status::Ok();
  }
  if (!is_pmem_) {
    std::memcpy(dst, data.data(), data.size());
    return Msync(offset, data.size());
  }
  pmem_memcpy_persist(dst, data.data(), data.size());
  return Status::Ok();
}

void FileNamespace::Drain() {
  if (is_pmem_) pmem_drain();
}

}  // namespace tearproof::btt
