#!/usr/bin/env bash
# Installs every Debian package tearproof needs to build and test, if any is missing.
# Runs as root (apt-get); as another user it names the missing packages and exits 1.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libz3-dev librapidcheck-dev libboost-context-dev libbenchmark-dev libgtest-dev libgmock-dev
  libpmem-dev libpmemblk-dev pmdk-tools ndctl xxd
  libcli11-dev nlohmann-json3-dev libfmt-dev
  clang libclang-rt-14-dev
  cvc5
  # the report's tests: JSON Schema validation, the screenshot's pixels, a real headless browser
  python3 python3-jsonschema python3-pil chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "tearproof: missing Debian packages: ${missing[*]}" >&2
  echo "tearproof: run as root, or install them first: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "tearproof: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
