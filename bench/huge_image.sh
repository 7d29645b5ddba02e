#!/usr/bin/env bash
# The issue's large-image check: makes a SIZE x SIZE grayscale image (default 20000) with
# MNIST-like strokes on a textured ground, runs `adgap heatmap` on it and reports wall time
# and peak memory (GNU time). Usage: bench/huge_image.sh [SIZE] [MODE] [--raw]
# (--raw also writes the 16-bit map, which needs the whole float map in memory).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-20000}
mode=${2:-paper}
raw=${3:-}
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
[[ -x build/adgap ]] || bash scripts/build.sh
[[ -f models/weights.json ]] || ./build/adgap demo >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/huge.pgm" "$size" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
# Dark ground with a mild texture and bright 3-px strokes every 64 px: cheap to generate,
# deterministic, and not flat (a flat map would be trivial to normalise).
row_plain = bytes((20 + (x * 7) % 23) for x in range(n))
row_stroke = bytes((230 if (x % 64) < 24 else 20 + (x * 7) % 23) for x in range(n))
with open(path, "wb") as f:
    f.write(b"P5\n%d %d\n255\n" % (n, n))
    for y in range(n):
        f.write(row_stroke if (y % 64) in (10, 11, 12) or (y % 64) < 30 and (y % 64) % 9 == 0 else row_plain)
PY
echo "input: ${size}x${size} ($(du -h "$tmp/huge.pgm" | cut -f1))"
/usr/bin/time -v ./build/adgap heatmap "$tmp/huge.pgm" --mode "$mode" --model models/model.safetensors \
  --out "$tmp/out" $raw 2> "$tmp/time.txt"
grep -E "Elapsed|Maximum resident" "$tmp/time.txt"
ls -la "$tmp/out"
