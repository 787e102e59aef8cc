#include "properties/generators.h"

#include <algorithm>
#include <utility>

#include "btt/layout.h"
#include "btt/types.h"

namespace tearproof::properties {
namespace {

constexpr uint64_t kPage = 4096;

// The kernel's seven external sector sizes (linux and uefi accept no others).
rc::Gen<uint32_t> GenKernelLbasize() {
  return rc::gen::element<uint32_t>(512, 520, 528, 4096, 4104, 4160, 4224);
}

rc::Gen<uint32_t> GenLbasize(btt::Profile profile) {
  if (profile != btt::Profile::kPmemblk) return GenKernelLbasize();
  // PMDK accepts any bsize: odd ones exercise partial words and the 256-byte internal rounding.
  return rc::gen::weightedOneOf<uint32_t>(
      {{3, GenKernelLbasize()}, {1, rc::gen::inRange<uint32_t>(1, 4353)}});
}

rc::Gen<uint32_t> GenNfree() {
  return rc::gen::weightedOneOf<uint32_t>(
      {{4, rc::gen::inRange<uint32_t>(1, 5)}, {1, rc::gen::inRange<uint32_t>(5, 41)}});
}

rc::Gen<sim::PersistencyModel> GenModel() {
  return rc::gen::element(sim::PersistencyModel::kPx86, sim::PersistencyModel::kWord8,
                          sim::PersistencyModel::kEadr);
}

rc::Gen<btt::Profile> GenProfile() {
  return rc::gen::element(btt::Profile::kLinux, btt::Profile::kUefi, btt::Profile::kPmemblk);
}

// Profile, sector size, nfree and persistency model; the caller sizes the namespace.
DeviceConfig DrawDeviceShape() {
  DeviceConfig c;
  c.profile = *GenProfile();
  c.lbasize = *GenLbasize(c.profile);
  c.nfree = *GenNfree();
  c.model = *GenModel();
  return c;
}

}  // namespace

rc::Gen<DeviceConfig> GenDeviceConfig() {
  return rc::gen::exec([] {
    DeviceConfig c = DrawDeviceShape();
    const uint64_t extra_pages = *rc::gen::inRange<uint64_t>(0, 17);
    c.namespace_bytes =
        btt::MinimumNamespaceSize(c.profile, c.lbasize, c.nfree) + extra_pages * kPage;
    return c;
  });
}

rc::Gen<DeviceConfig> GenMultiArenaConfig() {
  return rc::gen::exec([] {
    DeviceConfig c = DrawDeviceShape();
    const uint64_t full_arenas = *rc::gen::inRange<uint64_t>(1, 3);
    // The tail arena needs at least 16 MiB (btt::kMinArenaSize); the BTT offset of the profile
    // comes off the first arena.
    const uint64_t tail_pages = *rc::gen::inRange<uint64_t>(0, 64);
    c.namespace_bytes = full_arenas * btt::kMaxArenaSize + btt::BttOffsetFor(c.profile) +
                        btt::kMinArenaSize + tail_pages * kPage;
    return c;
  });
}

rc::Gen<Op> GenOp(rc::Gen<uint64_t> lba) {
  return rc::gen::exec([lba] {
    Op op;
    op.kind = *rc::gen::weightedElement<Op::Kind>(
        {{6, Op::Kind::kWrite}, {2, Op::Kind::kZero}, {1, Op::Kind::kError}});
    op.lba = *lba;
    return op;
  });
}

rc::Gen<uint64_t> GenLba(uint64_t nlba) {
  const uint64_t hot = std::min<uint64_t>(nlba, 4);
  return rc::gen::weightedOneOf<uint64_t>({{6, rc::gen::inRange<uint64_t>(0, hot)},
                                           {2, rc::gen::inRange<uint64_t>(0, nlba)},
                                           {1, rc::gen::just(nlba - 1)}});
}

rc::Gen<uint64_t> GenLbaFrom(std::vector<uint64_t> lbas) {
  return rc::gen::elementOf(std::move(lbas));
}

ValueId NumberWrites(std::vector<Op>& ops, ValueId first_id) {
  ValueId next = first_id;
  for (Op& op : ops) {
    if (op.kind == Op::Kind::kWrite) op.id = next++;
  }
  return next;
}

rc::Gen<std::vector<Op>> GenHistory(rc::Gen<uint64_t> lba) {
  return rc::gen::map(rc::gen::container<std::vector<Op>>(GenOp(std::move(lba))),
                      [](std::vector<Op> ops) {
                        NumberWrites(ops, 1);
                        return ops;
                      });
}

rc::Gen<CrashSpec> GenCrashSpec(uint32_t max_fence) {
  return rc::gen::exec([max_fence] {
    CrashSpec spec;
    spec.fence = *rc::gen::inRange<uint32_t>(0, max_fence);
    spec.choices = *rc::gen::container<std::vector<uint32_t>>(rc::gen::arbitrary<uint32_t>());
    return spec;
  });
}

void showValue(const DeviceConfig& config, std::ostream& os) { os << ToString(config); }
void showValue(const Op& op, std::ostream& os) { os << ToString(op); }
void showValue(const std::vector<Op>& ops, std::ostream& os) { os << ToString(ops); }
void showValue(const CrashSpec& spec, std::ostream& os) { os << ToString(spec); }

}  // namespace tearproof::properties
