// Bugs the property suites found in code they do not own, while the owner fixes them. Each flag
// narrows exactly one check of one family, and a test in sim_device_test.cc reproduces the bug
// deterministically and fails once it is gone, so an exemption cannot outlive its bug.
// docs/testing.md ("Findings") lists them.
#pragma once

namespace tearproof::properties {

// btt/btt.cc, read-only open: a roll-forward is recorded in the DRAM overlay with emplace_back
// and LoadMapEntry returns the first overlay entry of a premap. When the newer flog slots of
// several lanes roll one LBA forward in a chain (lane 1's old_map is lane 0's new_map, ...), the
// read-only view stops after the first step while read-write recovery follows the whole chain,
// so the two opens show different sectors. No crash produces such a chain (a write's map store
// is durable before its LBA can be written again); a corrupt map entry does. While set, the
// bad-input family does not compare the two opens on LBAs that two or more lanes' newer slots
// name.
inline constexpr bool kKnownBugReadOnlyOverlayChain = true;

}  // namespace tearproof::properties
