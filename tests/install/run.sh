#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then the installed adgap used as a new user would:
# from another directory, with no --model, no ADGAP_MODEL and no runs/, `P/bin/adgap detect`
# reads sudoku.png (opencv-doc) with the models installed in P/share/adgap/models, and so does
# the installed Python package (adgap.load().detect_file). Each must read at least 20 of its
# 26 digits, and the installed files must be the repository's models, byte for byte.
# Usage: tests/install/run.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
photo=/usr/share/doc/opencv-doc/examples/data/sudoku.png
min_digits=20
P=$(mktemp -d)
trap 'rm -rf "$P"' EXIT
cmake --install "$build" --prefix "$P" >/dev/null
for f in bin/adgap include/adgap/adgap.h share/adgap/models/model.safetensors \
         share/adgap/models/weights.json share/adgap/models/reader/model.safetensors; do
  [[ -e $P/$f ]] || { echo "install: $P/$f missing" >&2; exit 1; }
done
(cd "$src/models" && find . -name '*.safetensors' -o -name weights.json) | while read -r f; do
  cmp -s "$src/models/$f" "$P/share/adgap/models/$f" || { echo "install: $f differs" >&2; exit 1; }
done

mkdir "$P/elsewhere"
cd "$P/elsewhere"
json=$(env -u ADGAP_MODEL "$P/bin/adgap" detect --json - --no-images --quiet "$photo")
n=$(/usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(len(d["images"][0]["detections"])); assert d["model"].startswith(sys.argv[1]), d["model"]' "$P/share/adgap/models" <<<"$json")
echo "installed CLI, from $PWD: $n digits read in sudoku.png"
((n >= min_digits)) || { echo "install: only $n digits (at least $min_digits expected)" >&2; exit 1; }
[[ ! -e out && ! -e runs ]] || { echo "install: the run wrote into the current directory" >&2; exit 1; }

py=$(find "$P" -path '*dist-packages/adgap/__init__.py' | head -1)
[[ -n $py ]] || { echo "install: no Python package under $P" >&2; exit 1; }
n=$(env -u ADGAP_MODEL PYTHONPATH="$(dirname "$(dirname "$py")")" /usr/bin/python3 -c '
import sys
import adgap
loc = adgap.load()
assert loc.model_path.startswith(sys.argv[2]), loc.model_path
print(len(loc.detect_file(sys.argv[1])["detections"]))' "$photo" "$P/share/adgap/models")
echo "installed Python package: $n digits read in sudoku.png"
((n >= min_digits)) || { echo "install: Python read only $n digits" >&2; exit 1; }
echo "install: passed"
