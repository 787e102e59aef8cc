// RapidCheck generators for the BTT property families, and how their values print.
//
// Every generator here produces plain data (properties/sim_device.h): a case is generated whole
// before its simulation starts, and RapidCheck shrinks it toward the first listed alternative
// (linux, 512-byte sectors, px86, nfree 1, LBA 0, write) and the smallest numbers (earlier crash,
// "nothing unguaranteed persisted"). The showValue overloads are what a counterexample prints,
// so a failure reads as a case a person can replay by hand.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <ostream>
#include <vector>

#include "properties/sim_device.h"

namespace tearproof::properties {

// A single-arena device small enough to read every LBA after each crash: minimum namespace
// size for the geometry plus 0..16 pages (1..~300 LBAs). Every profile, the kernel's seven
// sector sizes (pmemblk: also odd sizes up to 4352), nfree mostly 1..4, every persistency model.
rc::Gen<DeviceConfig> GenDeviceConfig();
// Two or three arenas (512 GiB full arenas, stored sparsely): only cheap operations apply
// (no Check, no whole-device reads).
rc::Gen<DeviceConfig> GenMultiArenaConfig();

// An LBA < nlba, biased toward a few hot LBAs (so that operations meet) and the last LBA.
rc::Gen<uint64_t> GenLba(uint64_t nlba);
// An LBA among `lbas` (the interesting ones of a large device).
rc::Gen<uint64_t> GenLbaFrom(std::vector<uint64_t> lbas);

// One write (mostly), zero or error flag on an LBA from `lba`; write ids are left 0.
rc::Gen<Op> GenOp(rc::Gen<uint64_t> lba);

// A history of 0..size operations on LBAs from `lba`, mostly writes. Write ids are 1, 2, ... in
// order, so every write of a case has its own value.
rc::Gen<std::vector<Op>> GenHistory(rc::Gen<uint64_t> lba);
// Renumbers the writes of `ops` to first_id, first_id + 1, ...; returns the next free id.
ValueId NumberWrites(std::vector<Op>& ops, ValueId first_id);

// A crash before fence 0..max_fence-1 (later crash points shrink toward earlier ones), with a
// vector of crash choices (shrinks toward "nothing unguaranteed persisted").
rc::Gen<CrashSpec> GenCrashSpec(uint32_t max_fence);

void showValue(const DeviceConfig& config, std::ostream& os);
void showValue(const Op& op, std::ostream& os);
void showValue(const std::vector<Op>& ops, std::ostream& os);
void showValue(const CrashSpec& spec, std::ostream& os);

}  // namespace tearproof::properties
