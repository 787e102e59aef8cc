// Little-endian loads and stores of on-media integers, independent of host alignment.
// Every on-media integer in BTT and PMDK formats is little-endian.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tearproof {

static_assert(std::endian::native == std::endian::little,
              "tearproof assumes a little-endian host (x86-64, aarch64, riscv64)");

template <typename T>
inline T LoadLe(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
inline void StoreLe(std::byte* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

inline uint16_t LoadLe16(const std::byte* p) { return LoadLe<uint16_t>(p); }
inline uint32_t LoadLe32(const std::byte* p) { return LoadLe<uint32_t>(p); }
inline uint64_t LoadLe64(const std::byte* p) { return LoadLe<uint64_t>(p); }

}  // namespace tearproof
