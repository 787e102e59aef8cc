// btt::Mutant — seeded faults of the BTT core, for proving that the crash explorer (harness/)
// kills them. docs/mutants.md lists every mutant, its source and the check that kills it.
//
// Production builds contain no mutant logic: unless TEARPROOF_BTT_MUTANTS is defined,
// TP_MUTANT(kX) is the constant `false` and every hook `if (TP_MUTANT(kX)) ...` is dead code the
// compiler removes; SetMutant and friends do not exist. CMake builds the same sources a second
// time, with the macro, as tearproof_btt_mutants (and tearproof_harness_mutants on top of it).
//
// In the mutant build one mutant is active at a time, chosen at run time with SetMutant before
// Btt::Format/Open. The selection is one process-wide global: NOT thread-safe; set it while no
// Btt is in use.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace tearproof::btt {

enum class Mutant : uint8_t {
  kNone,
  kDataNotPersisted,        // P1 stored but never flushed/fenced before the flog commit
  kFlogHalfAUnfenced,       // P2 stored but not flushed/fenced before P3
  kFlogHalfBFirst,          // P3 (new_map, seq) persisted before P2 (lba, old_map)
  kMapBeforeFlog,           // P4 persisted before P2/P3
  kSeqNotAdvanced,          // the lane's seq is not advanced after a commit
  kSeqSkips,                // the lane's seq advances twice (1 -> 3, 2 -> 1)
  kWriteActiveSlot,         // the writer overwrites the active (newer) flog slot
  kRecoverOlderSlot,        // recovery trusts the older of the two flog slots
  kRecoverRollBack,         // recovery leaves the map on old_map yet frees old_map
  kRecoverSkipOldMapCheck,  // recovery rolls forward without checking map == old_map
  kRecoverUnmasked,         // recovery compares the raw map entry (with flags) to old_map
  kFreeNotReplaced,         // after a write, the lane's free block is not replaced by old_map
  kMapWithoutFlags,         // P4 stores the bare block (flags 00 = identity), not block|NORMAL
  kZeroNotPersisted,        // Zero stores the Z entry without flush/fence
  kReadOnlyWritesRecovery,  // a read-only open writes its roll-forward to the medium
  kFlogLayoutZeroTwo,       // flog layout detection ignored: slots (0,2) assumed
  kInfoPrimaryFirst,        // format writes the primary info block before the backup
  kReadRecheckBlockOnly,    // the read re-validation compares only the block, not the flags
};

#ifdef TEARPROOF_BTT_MUTANTS

inline constexpr bool kMutantsCompiledIn = true;

namespace mutant_internal {
inline Mutant g_active = Mutant::kNone;  // not thread-safe: set before Format/Open
}  // namespace mutant_internal

inline void SetMutant(Mutant m) { mutant_internal::g_active = m; }
inline Mutant ActiveMutant() { return mutant_internal::g_active; }
inline bool MutantActive(Mutant m) { return mutant_internal::g_active == m; }

// "data-not-persisted", ...: the names used in tests, docs and harness/mutant_kills.expected.
std::string_view MutantName(Mutant m);
std::optional<Mutant> ParseMutant(std::string_view name);
// Every mutant except kNone, in declaration order.
std::vector<Mutant> AllMutants();

#define TP_MUTANT(m) (::tearproof::btt::MutantActive(::tearproof::btt::Mutant::m))

#else

inline constexpr bool kMutantsCompiledIn = false;
#define TP_MUTANT(m) false

#endif  // TEARPROOF_BTT_MUTANTS

}  // namespace tearproof::btt
