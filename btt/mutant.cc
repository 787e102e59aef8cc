// Names of the seeded mutants (mutant build only; see btt/mutant.h).
#include "btt/mutant.h"

#ifdef TEARPROOF_BTT_MUTANTS

#include <array>
#include <utility>

namespace tearproof::btt {
namespace {

constexpr std::array<std::pair<Mutant, std::string_view>, 19> kNames = {{
    {Mutant::kNone, "none"},
    {Mutant::kDataNotPersisted, "data-not-persisted"},
    {Mutant::kFlogHalfAUnfenced, "flog-half-a-unfenced"},
    {Mutant::kFlogHalfBFirst, "flog-half-b-first"},
    {Mutant::kMapBeforeFlog, "map-before-flog"},
    {Mutant::kSeqNotAdvanced, "seq-not-advanced"},
    {Mutant::kSeqSkips, "seq-skips"},
    {Mutant::kWriteActiveSlot, "write-active-slot"},
    {Mutant::kRecoverOlderSlot, "recover-older-slot"},
    {Mutant::kRecoverRollBack, "recover-roll-back"},
    {Mutant::kRecoverSkipOldMapCheck, "recover-skip-old-map-check"},
    {Mutant::kRecoverUnmasked, "recover-unmasked"},
    {Mutant::kFreeNotReplaced, "free-not-replaced"},
    {Mutant::kMapWithoutFlags, "map-without-flags"},
    {Mutant::kZeroNotPersisted, "zero-not-persisted"},
    {Mutant::kReadOnlyWritesRecovery, "read-only-writes-recovery"},
    {Mutant::kFlogLayoutZeroTwo, "flog-layout-zero-two"},
    {Mutant::kInfoPrimaryFirst, "info-primary-first"},
    {Mutant::kReadRecheckBlockOnly, "read-recheck-block-only"},
}};

}  // namespace

std::string_view MutantName(Mutant m) {
  for (const auto& [mutant, name] : kNames) {
    if (mutant == m) return name;
  }
  return "unknown";
}

std::optional<Mutant> ParseMutant(std::string_view name) {
  for (const auto& [mutant, n] : kNames) {
    if (n == name) return mutant;
  }
  return std::nullopt;
}

std::vector<Mutant> AllMutants() {
  std::vector<Mutant> all;
  for (const auto& [mutant, name] : kNames) {
    if (mutant != Mutant::kNone) all.push_back(mutant);
  }
  return all;
}

}  // namespace tearproof::btt

#endif  // TEARPROOF_BTT_MUTANTS
