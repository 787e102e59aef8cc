#!/usr/bin/env bash
# The image commands end to end on real files: format, write from stdin, read to stdout, check,
# and bad input (short stdin, out-of-range LBA, truncated image, missing file) exiting non-zero
# with a message. With `interop` as $2 the pmemblk image is also checked by PMDK's pmempool.
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
    pmempool check -v "$img" | grep -q consistent || fail "pmempool check on $img"
  fi
done

img=$dir/linux.img
expect_exit 2 "stdin ended before sector" sh -c "head -c 100 /dev/zero | '$tp' write '$img' 1"
expect_exit 2 "outside the" "$tp" read "$img" 99999999
expect_exit 2 "exists" "$tp" format "$img" --size 1048576
expect_exit 1 "no such file" "$tp" read "$dir/missing.img" 0
truncate -s 100000 "$img"
expect_exit 1 "INV-" "$tp" info "$img"
echo "cli image test: all passed"
