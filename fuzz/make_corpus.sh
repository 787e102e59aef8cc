#!/usr/bin/env bash
# Writes the seed corpus of btt_open_fuzzer into fuzz/corpus/ (or $1), deterministically: the
# same files, byte for byte, on every run. Each seed is a few bytes in the input format of
# fuzz/README.md ("How an input becomes an image"): a template header, option and prewrite bytes,
# then zero or more patches. Needs only bash.
set -euo pipefail
out="${1:-$(dirname "$0")/corpus}"
mkdir -p "$out"

byte() { printf "\\$(printf '%03o' "$(($1 & 255))")"; }
u16() { byte "$1"; byte "$(($1 >> 8))"; }
u32() { u16 "$(($1 & 65535))"; u16 "$((($1 >> 16) & 65535))"; }
# patch OP OFFSET then the kind's payload (written by the caller).
patch() { byte "$1"; u16 "$2"; }

# Anchors (bits 0-2 of a patch op) and kinds (bits 3-4).
readonly ABS=0 INFO=1 MAP=2 FLOG=3 DATA=4 BACKUP=5 START=6 END=7
readonly COPY=0 FILL=8 XOR=16 WORD=24
readonly FIX=32  # header bit: recompute info-block / pool-header checksums after patching

profiles=(linux uefi pmemblk)
for p in 0 1 2; do
  for s in 0 4; do
    sector=$([[ $s == 4 ]] && echo 4096 || echo 512)
    for n in 0 1 2; do
      h=$((p | s | (n << 3)))
      name="${profiles[$p]}-${sector}-nfree$((2 + n))"
      { byte $h; byte 0; byte 0; } >"$out/$name-fresh"
      { byte $h; byte $((0x20 | 8)); byte 0x2f; } >"$out/$name-prewritten"
      # Info-block field edits with the checksum fixed up: nfree, external_nlba, flags (ERROR).
      { byte $((h | FIX)); byte 4; byte 3
        patch $((INFO | WORD)) 72; u32 $((3 + n))
        patch $((BACKUP | WORD)) 48; u32 1; } >"$out/$name-info-fields"
      # A second map entry pointing at block 1 (duplicate), and a flog seq bump.
      { byte $h; byte 0; byte 5
        patch $((MAP | WORD)) 8; u32 $((0xC0000001))
        patch $((FLOG | WORD)) 12; u32 3; } >"$out/$name-map-flog"
      # A primary info block destroyed: open falls back to the backup (and restores it RW).
      { byte $h; byte 2; byte 1
        patch $((INFO | FILL)) 0; byte 63; byte 0; } >"$out/$name-primary-gone"
    done
  done
done

# Two arenas in one namespace (uefi and linux, 512-byte sectors, nfree 2, 104 KiB of BTT): shrink
# arena 0 to 20 KiB by editing its info block (nlba 5, nextoff, map/flog/backup offsets), fix its
# flog's free blocks, then copy info, backup and flog pages to build arena 1 at +20 KiB.
PAGE_COPY=32
for variant in "uefi 1 0" "linux 0 1"; do
  read -r name h b <<<"$variant"
  { byte $((h | FIX)); byte 0xE0; byte 0
    patch $((INFO | WORD)) 60; u32 5
    patch $((INFO | WORD)) 68; u32 7
    patch $((INFO | WORD)) 80; u32 20480
    patch $((INFO | WORD)) 96; u32 8192
    patch $((INFO | WORD)) 104; u32 12288
    patch $((INFO | WORD)) 112; u32 16384
    flog=$(((b + 3) * 4096))  # arena 0's new flog page (the FLOG anchor is the template's)
    patch $((START | WORD)) $((flog + 0)); u32 0; patch $((START | WORD)) $((flog + 4)); u32 5
    patch $((START | WORD)) $((flog + 8)); u32 5; patch $((START | WORD)) $((flog + 12)); u32 1
    patch $((START | WORD)) $((flog + 64)); u32 1; patch $((START | WORD)) $((flog + 68)); u32 6
    patch $((START | WORD)) $((flog + 72)); u32 6; patch $((START | WORD)) $((flog + 76)); u32 1
    patch $((INFO | PAGE_COPY)) 0; u16 $((b + 4))     # arena 0 backup
    patch $((INFO | PAGE_COPY)) 0; u16 $((b + 5))     # arena 1 primary
    patch $((START | WORD)) $(((b + 5) * 4096 + 80)); u32 0   # arena 1: last arena
    patch $((START | PAGE_COPY)) $(((b + 5) * 4096)); u16 $((b + 9))  # arena 1 backup
    patch $((START | PAGE_COPY)) $flog; u16 $((b + 8))  # arena 1 flog
  } >"$out/$name-512-two-arenas"
done

# Live patches (op bit 6): applied to the medium under the read-write open, so Check, reads and
# writes meet corruption that appeared after a successful open.
LIVE=64
for h in 0 5 $((2 | 8)); do
  { byte $h; byte 0; byte 3
    patch $((LIVE | MAP | WORD)) 0; u32 $((0xC0000000 | 0x3FFFFFF0))
    patch $((LIVE | MAP | WORD)) 4; u32 0x40000001
    patch $((LIVE | FLOG | WORD)) 12; u32 0
    patch $((LIVE | FLOG | WORD)) 28; u32 0; } >"$out/live-h$h-map-flog"
  { byte $((h | FIX)); byte 0; byte 0
    patch $((LIVE | INFO | WORD)) 72; u32 1
    patch $((LIVE | BACKUP | XOR)) 100; byte 0x10
    patch $((LIVE | FLOG | WORD)) 68; u32 0x7FFFFFFF; } >"$out/live-h$h-info-flog"
done

# Raw images: the input after the 0xC0 header is the whole namespace.
{ byte 0xC0; printf 'BTT_ARENA_INFO'; } >"$out/raw-signature-only"
{ byte 0xC0; printf 'PMEMBLK'; byte 0; } >"$out/raw-pool-signature-only"
{ byte 0xFF; } >"$out/raw-empty"
# Patches anchored at the end of the namespace and at absolute offsets.
{ byte 0; byte 0xE0; byte 0
  patch $((END | FILL)) 4095; byte 63; byte 0xFF
  patch $((ABS | XOR)) 64; byte 0x80
  patch $((DATA | COPY)) 0; byte 3; printf 'abcd'
  patch $((START | XOR)) 0; byte 1; } >"$out/linux-512-misc-patches"
