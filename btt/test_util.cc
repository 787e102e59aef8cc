#include "btt/test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "btt/btt.h"
#include "util/prng.h"

namespace tearproof::btt::testing {

Uuid TestUuid(uint64_t seed) {
  Prng prng(seed);
  Uuid u;
  for (auto& b : u) b = static_cast<uint8_t>(prng.Next());
  return u;
}

FormatOptions TestFormatOptions(Profile profile, uint32_t nfree, uint64_t uuid_seed) {
  FormatOptions o;
  o.profile = profile;
  o.external_lbasize = 512;
  o.nfree = nfree;
  o.uuid = TestUuid(uuid_seed);
  o.parent_uuid = TestUuid(uuid_seed + 1);
  o.pool_part_uuid = TestUuid(uuid_seed + 2);
  return o;
}

std::vector<std::byte> Pattern(uint64_t lba, uint64_t version, size_t size) {
  std::vector<std::byte> out(size);
  uint64_t state = lba * 0x9E3779B97F4A7C15ULL ^ (version + 1) * 0xD1B54A32D192ED03ULL;
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t v = SplitMix64(state);
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, size - i));
  }
  return out;
}

template <typename Visit>
void SparseNamespace::ForEachPiece(uint64_t offset, size_t size, Visit visit) {
  constexpr uint64_t kPage = 4096;
  for (size_t done = 0; done < size;) {
    const uint64_t pos = offset + done;
    const size_t in_page = pos % kPage;
    const size_t n = std::min<size_t>(kPage - in_page, size - done);
    visit(pos / kPage, in_page, done, n);
    done += n;
  }
}

Status SparseNamespace::Read(uint64_t offset, std::span<std::byte> out) {
  TP_RETURN_IF_ERROR(CheckRange(offset, out.size()));
  ForEachPiece(offset, out.size(), [&](uint64_t page, size_t in_page, size_t done, size_t n) {
    auto it = pages_.find(page);
    if (it == pages_.end()) {
      std::memset(out.data() + done, 0, n);
    } else {
      std::memcpy(out.data() + done, it->second.get() + in_page, n);
    }
  });
  return Status::Ok();
}

Status SparseNamespace::Write(uint64_t offset, std::span<const std::byte> data) {
  TP_RETURN_IF_ERROR(CheckRange(offset, data.size()));
  ForEachPiece(offset, data.size(), [&](uint64_t page, size_t in_page, size_t done, size_t n) {
    auto it = pages_.find(page);
    if (it == pages_.end()) {
      // An absent page reads as zeros, so zeros need no page.
      const auto piece = data.subspan(done, n);
      if (std::all_of(piece.begin(), piece.end(), [](std::byte b) { return b == std::byte{0}; })) {
        return;
      }
      auto p = std::make_unique<std::byte[]>(4096);
      std::memset(p.get(), 0, 4096);
      it = pages_.emplace(page, std::move(p)).first;
    }
    std::memcpy(it->second.get() + in_page, data.data() + done, n);
  });
  return Status::Ok();
}

std::vector<std::byte> ReadSector(Btt& btt, uint64_t lba) {
  std::vector<std::byte> out(btt.ExternalLbaSize());
  Status s = btt.Read(ExternalLba(lba), out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

}  // namespace tearproof::btt::testing
