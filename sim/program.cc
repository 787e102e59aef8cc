#include "sim/program.h"

#include <memory>

#include "util/endian.h"

namespace tearproof::sim {

std::vector<Event> RandomProgram(Prng& prng, const ProgramOptions& options) {
  TP_ASSERT(options.region_bytes % kLineBytes == 0 && options.region_bytes >= kLineBytes,
            "INV-SIM-PROGRAM-REGION");
  TP_ASSERT(options.lanes >= 1 && options.lanes <= kMaxLanes, "INV-SIM-PROGRAM-LANES");
  std::vector<Event> program;
  uint32_t stores = 0;
  const uint32_t target_stores = static_cast<uint32_t>(prng.Range(1, options.max_stores));
  // Bounded: each iteration adds one event; at most 4 events per store.
  for (uint32_t step = 0; stores < target_stores && step < 4 * options.max_stores + 4; ++step) {
    const LaneId lane = Lane(static_cast<uint32_t>(prng.Below(options.lanes)));
    const uint64_t roll = prng.Below(100);
    if (roll < 45 || (roll < 55 && !options.non_temporal)) {
      static constexpr uint64_t kSizes[] = {1, 2, 4, 8, 8, 8, 8, 3, 1, 2, 4, 8, 12, 16, 24};
      const uint64_t size = kSizes[prng.Below(std::size(kSizes))];
      uint64_t addr = prng.Below(options.region_bytes - size + 1);
      if (prng.Chance(1, 2)) addr -= addr % std::min<uint64_t>(size, kWordBytes);  // often aligned
      std::vector<std::byte> data(size);
      for (std::byte& b : data) b = static_cast<std::byte>(prng.Range(1, 255));
      program.push_back(StoreEvent(lane, addr, std::move(data), /*non_temporal=*/false));
      ++stores;
    } else if (roll < 55) {
      const uint64_t size = prng.Chance(1, 2) ? 8 : 16;
      const uint64_t addr = prng.Below(options.region_bytes / kWordBytes - size / kWordBytes + 1) *
                            kWordBytes;
      std::vector<std::byte> data(size);
      for (std::byte& b : data) b = static_cast<std::byte>(prng.Range(1, 255));
      program.push_back(StoreEvent(lane, addr, std::move(data), /*non_temporal=*/true));
      ++stores;
    } else if (roll < 80) {
      static constexpr EventKind kFlushes[] = {EventKind::kClwb, EventKind::kClflushopt,
                                               EventKind::kClflush};
      program.push_back(FlushEvent(lane, kFlushes[prng.Below(3)],
                                   prng.Below(options.region_bytes)));
    } else {
      program.push_back(FenceEvent(lane, prng.Chance(3, 4) ? EventKind::kSfence
                                                            : EventKind::kMfence));
    }
  }
  return program;
}

Status RunProgram(Medium& medium, std::span<const Event> program) {
  for (const Event& e : program) TP_RETURN_IF_ERROR(medium.Apply(e));
  return Status::Ok();
}

Result<CrashImage> RegionImage(Medium& medium, uint64_t region_bytes) {
  std::vector<std::byte> bytes(region_bytes);
  TP_RETURN_IF_ERROR(medium.Load(Lane(0), 0, bytes));
  CrashImage image(region_bytes / kWordBytes);
  for (size_t i = 0; i < image.size(); ++i) image[i] = LoadLe64(bytes.data() + i * kWordBytes);
  return image;
}

Result<std::set<CrashImage>> EagerCrashImages(const Medium& medium, uint64_t region_bytes,
                                              uint64_t max_states) {
  const CrashSpaceSize space = medium.CrashSpace();
  if (space.saturated || space.count > max_states) {
    return Unsupported("sim: " + std::to_string(space.count) + " crash states exceed max_states " +
                       std::to_string(max_states));
  }
  // Each state's image is the guaranteed image with the state's line images laid over it; every
  // few thousandth state (and the first) is also materialized as a Medium and read back, so the
  // materialization path is checked without paying for it on every state.
  Medium guaranteed = medium.MaterializeCrash(medium.GuaranteedState());
  TP_ASSIGN_OR_RETURN(const CrashImage base, RegionImage(guaranteed, region_bytes));
  std::set<CrashImage> images;
  Status error;
  uint64_t index = 0;
  TP_ASSIGN_OR_RETURN(const uint64_t visited, medium.ForEachCrashState(
      [&](const CrashState& state) {
        CrashImage image = base;
        for (const CrashLineImage& line : state.lines) {
          for (uint64_t w = 0; w < kWordsPerLine; ++w) {
            const uint64_t word = line.line_addr / kWordBytes + w;
            if (word < image.size()) image[word] = line.words[w];
          }
        }
        if (index++ % 4096 == 0) {
          Medium crashed = medium.MaterializeCrash(state);
          Result<CrashImage> read = RegionImage(crashed, region_bytes);
          if (!read.ok() || *read != image) {
            error = InternalError("sim: a materialized crash state differs from its image");
            return false;
          }
        }
        images.insert(std::move(image));
        return true;
      },
      max_states));
  TP_RETURN_IF_ERROR(error);
  if (visited != images.size()) {
    return InternalError("sim: eager enumeration visited " + std::to_string(visited) +
                         " states but only " + std::to_string(images.size()) + " are distinct");
  }
  return images;
}

Result<std::set<CrashImage>> LazyCrashImages(const Medium& medium, uint64_t region_bytes,
                                             std::span<const uint64_t> word_order,
                                             uint64_t max_runs, uint64_t* runs) {
  std::set<CrashImage> images;
  auto odometer = std::make_shared<OdometerChooser>();
  do {
    if (odometer->runs() > max_runs) return Unsupported("sim: lazy enumeration exceeds max_runs");
    Medium crashed = medium.LazyCrash(odometer);
    CrashImage image(region_bytes / kWordBytes);
    for (uint64_t w : word_order) {
      TP_ASSIGN_OR_RETURN(image[w], crashed.Load64(Lane(0), w * kWordBytes));
    }
    images.insert(std::move(image));
  } while (odometer->Advance());
  *runs = odometer->runs();
  return images;
}

}  // namespace tearproof::sim
