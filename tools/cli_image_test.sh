#!/usr/bin/env bash
# The image commands end to end on real files: format, write from stdin, read to stdout, check,
# a BTT inside a bigger file named with --offset, a damaged flog (check / info / read --salvage,
# then check --repair rebuilding it; refused over an inconsistent map), and bad input (short stdin, out-of-range LBA,
# bad offset, truncated image, missing file) exiting non-zero with a message. With `interop` as $2 the pmemblk image is also checked by PMDK's pmempool.
set -u
tp=$1
mode=${2:-unit}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

expect_exit() {  # expected-code pattern command...
  local want=$1 pattern=$2; shift 2
  local out code
  out=$("$@" 2>&1); code=$?
  [ "$code" -eq "$want" ] || fail "'$*' exited $code, wanted $want: $out"
  echo "$out" | grep -q -- "$pattern" || fail "'$*' printed '$out', wanted /$pattern/"
}

for profile in linux uefi pmemblk; do
  img=$dir/$profile.img
  expect_exit 0 "profile $profile" "$tp" format "$img" --size $((32 << 20)) --profile "$profile" \
    --lbasize 512 --nfree 4
  head -c $((512 * 8)) /dev/urandom > "$dir/in.bin"
  "$tp" write "$img" 7 8 < "$dir/in.bin" || fail "write $profile"
  "$tp" read "$img" 7 8 | cmp - "$dir/in.bin" || fail "read-back differs ($profile)"
  "$tp" zero "$img" 8 || fail "zero $profile"
  "$tp" read "$img" 8 | cmp - <(head -c 512 /dev/zero) || fail "zeroed sector not zero"
  expect_exit 0 "clean" "$tp" check "$img"
  expect_exit 0 "\"profile\": \"$profile\"" "$tp" info "$img" --json
  if [ "$mode" = interop ] && [ "$profile" = pmemblk ]; then
    pmempool check -v "$img" | grep -q ": consistent" || fail "pmempool check on $img"
  fi
done

# A BTT whose namespace starts 1 MiB into a bigger file: detection from the start of the file
# fails and says how to name the offset; --offset names it for every command; bad offsets are
# usage errors. The bytes before the offset stay untouched.
img=$dir/inside.img
head -c $((1 << 20)) /dev/urandom > "$dir/head.bin"
cp "$dir/head.bin" "$img"
truncate -s $((33 << 20)) "$img"
expect_exit 0 "from offset 1048576" "$tp" format "$img" --offset 1048576 --profile linux \
  --lbasize 512 --nfree 4
cmp -n $((1 << 20)) "$img" "$dir/head.bin" || fail "format --offset touched the bytes before it"
expect_exit 1 "name it with --offset" "$tp" info "$img"
expect_exit 1 "looked from --offset 2097152" "$tp" info "$img" --offset 2097152
expect_exit 0 '"offset": 1048576' "$tp" info "$img" --offset 1048576 --json
head -c $((512 * 3)) /dev/urandom > "$dir/in3.bin"
"$tp" write "$img" 5 3 --offset 1048576 < "$dir/in3.bin" || fail "write --offset"
"$tp" read "$img" 5 3 --offset 1048576 | cmp - "$dir/in3.bin" || fail "read --offset differs"
"$tp" zero "$img" 6 --offset 1048576 || fail "zero --offset"
"$tp" read "$img" 6 --offset 1048576 | cmp - <(head -c 512 /dev/zero) || fail "zero --offset"
expect_exit 0 "clean" "$tp" check "$img" --offset 1048576
cmp -n $((1 << 20)) "$img" "$dir/head.bin" || fail "I/O with --offset touched the bytes before it"
expect_exit 2 "not a multiple of 4096" "$tp" info "$img" --offset 1000
expect_exit 2 "is not inside" "$tp" read "$img" 0 --offset $((64 << 20))
expect_exit 2 "offset" "$tp" info "$img" --offset -4096
expect_exit 0 "profile uefi" "$tp" format "$dir/new.img" --size $((16 << 20)) --offset 4096 \
  --profile uefi --lbasize 512 --nfree 2
[ "$(stat -c %s "$dir/new.img")" -eq $(((16 << 20) + 4096)) ] || fail "format --size --offset size"
expect_exit 0 "\"profile\": \"uefi\"" "$tp" info "$dir/new.img" --offset 4096 --json

# Sets both live seqs of lane 0 of the BTT at byte $2 of image $1 to 1: an unrecoverable flog
# (INV-FLOG-SEQ).
break_flog() {
  local flogoff flog
  flogoff=$(od -A n -t u8 -j $(($2 + 104)) -N 8 "$1" | tr -d ' ')
  flog=$(($2 + flogoff))
  printf '\x01\x00\x00\x00' | dd of="$1" bs=1 seek=$((flog + 12)) conv=notrunc status=none
  printf '\x01\x00\x00\x00' | dd of="$1" bs=1 seek=$((flog + 16 + 12)) conv=notrunc status=none
}

# A flog whose lane 0 has two slots with the same seq (INV-FLOG-SEQ): the plain open refuses it
# and says how to read anyway; check and info describe the image (the arena salvaged in ERROR);
# read --salvage returns every intact sector; none of these writes to the image. Then
# check --repair rebuilds the flog from the map: the image checks clean, reads and writes again.
img=$dir/salvage.img
expect_exit 0 "profile linux" "$tp" format "$img" --size $((32 << 20)) --profile linux \
  --lbasize 512 --nfree 4
head -c $((512 * 8)) /dev/urandom > "$dir/in.bin"
"$tp" write "$img" 7 8 < "$dir/in.bin" || fail "write before salvage"
break_flog "$img" 4096
sum=$(sha256sum < "$img")
expect_exit 1 "salvage reads what is still intact" "$tp" read "$img" 7
expect_exit 1 "INV-FLOG-SEQ" "$tp" check "$img"
expect_exit 0 "INV-FLOG-SEQ" "$tp" info "$img" --json
"$tp" read "$img" 7 8 --salvage 2>/dev/null | cmp - "$dir/in.bin" || fail "salvaged read differs"
[ "$(sha256sum < "$img")" = "$sum" ] || fail "salvage wrote to the image"
expect_exit 0 "flog rebuilt from the map) \[repaired\]" "$tp" check "$img" --repair
expect_exit 0 "clean" "$tp" check "$img"
"$tp" read "$img" 7 8 | cmp - "$dir/in.bin" || fail "read after the flog repair differs"
head -c $((512 * 4)) /dev/urandom > "$dir/in4.bin"
"$tp" write "$img" 20 4 < "$dir/in4.bin" || fail "write after the flog repair"
"$tp" read "$img" 20 4 | cmp - "$dir/in4.bin" || fail "read-back after the flog repair"
"$tp" read "$img" 7 8 | cmp - "$dir/in.bin" || fail "a write after the repair changed other sectors"
expect_exit 0 "clean" "$tp" check "$img"

# The same damage over a map with a duplicate entry (map[9] = map[7]): the flog cannot be rebuilt
# from it, so check --repair refuses by invariant and arena, exits 1 and leaves the image alone.
img=$dir/refuse.img
expect_exit 0 "profile linux" "$tp" format "$img" --size $((32 << 20)) --profile linux \
  --lbasize 512 --nfree 4
"$tp" write "$img" 7 8 < "$dir/in.bin" || fail "write before the refused repair"
mapoff=$(od -A n -t u8 -j $((4096 + 96)) -N 8 "$img" | tr -d ' ')
dd if="$img" of="$img" bs=1 skip=$((4096 + mapoff + 4 * 7)) seek=$((4096 + mapoff + 4 * 9)) \
  count=4 conv=notrunc status=none
break_flog "$img" 4096
sum=$(sha256sum < "$img")
expect_exit 1 "INV-MAP-BIJECTION arena 0: the flog cannot be rebuilt" "$tp" check "$img" --repair
[ "$(sha256sum < "$img")" = "$sum" ] || fail "a refused repair wrote to the image"

if [ "$mode" = interop ]; then
  # A repaired pmemblk pool passes PMDK's own checker.
  img=$dir/pmemblk.img
  break_flog "$img" 8192
  expect_exit 1 "INV-FLOG-SEQ" "$tp" check "$img"
  expect_exit 0 "flog rebuilt from the map" "$tp" check "$img" --repair
  pmempool check -v "$img" | grep -q ": consistent" || fail "pmempool check after the flog repair"
fi

img=$dir/linux.img
expect_exit 2 "stdin ended before sector" sh -c "head -c 100 /dev/zero | '$tp' write '$img' 1"
expect_exit 2 "outside the" "$tp" read "$img" 99999999
expect_exit 2 "exists" "$tp" format "$img" --size 1048576
expect_exit 1 "no such file" "$tp" read "$dir/missing.img" 0
truncate -s 100000 "$img"
expect_exit 1 "INV-" "$tp" info "$img"
echo "cli image test: all passed"
