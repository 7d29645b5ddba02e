#!/usr/bin/env bash
# The Python package against the CLI on the same images, side by side, ROUNDS rounds (default
# 5; who goes first alternates), medians: per-image time of `adgap detect` (the time it
# reports: decoding, detection, JSON; not the process start or the model loading) against
# Python's Localizer.detect_files() and a loop of detect(read_image(path)) (after `import adgap`
# and adgap.load()). Two settings: one image at a time on both cores (--workers 1 / workers=1),
# and the CLI's default of two workers sharing the cores (detect_files(workers=2)). Checks
# that every Python result equals the CLI's. Writes docs/results/python_speed.md.
# Usage: bench/python_speed.sh [ROUNDS] [MODEL]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
model=${2:-models/model.safetensors}
source bench/python_images.sh
n=$(wc -l < "$tmp/list.txt")

cli() {  # workers, tag: appends "tag seconds" to times.txt
  local out
  out=$(./build/adgap detect --model "$model" --quiet --no-images --workers "$1" \
    --json "$tmp/cli-$2.json" --list "$tmp/list.txt")
  echo "$2 $(sed -E 's/.*failed, ([0-9.]+) s.*/\1/' <<<"$out")" >> "$tmp/times.txt"
}
py() {  # workers, tag
  /usr/bin/python3 - "$model" "$tmp" "$1" "$2" <<'PY'
import json, sys, time
import adgap
model, tmp, workers, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
paths = open(f"{tmp}/list.txt").read().split()
loc = adgap.load(model)
t = time.perf_counter()
res = loc.detect_files(paths, workers=workers)
t_files = time.perf_counter() - t
with open(f"{tmp}/times.txt", "a") as f:
    f.write(f"{tag}-files {t_files:.3f}\n")
    if workers == 1:
        t = time.perf_counter()
        loop = []
        for p in paths:
            r = loc.detect(adgap.read_image(p))
            loop.append(dict(path=p, **r))
        f.write(f"{tag}-loop {time.perf_counter() - t:.3f}\n")
        res_loop = loop
    else:
        res_loop = res
cli = json.load(open(f"{tmp}/cli-{tag}.json"))["images"]
same = sum(a == b for a, b in zip(res, cli)) + sum(a == b for a, b in zip(res_loop, cli))
open(f"{tmp}/same.txt", "a").write(f"{same} {2 * len(paths)}\n")
PY
}
for r in $(seq "$rounds"); do  # who goes first alternates
  if ((r % 2)); then cli 1 one; py 1 one; cli 0 two; py 2 two
  else py 1 one; cli 1 one; py 2 two; cli 0 two; fi
  echo "round $r done" >&2
done
/usr/bin/python3 - "$tmp" "$n" "$model" "$rounds" <<'PY'
import collections, statistics, sys, datetime, os
tmp, n, model, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
t = collections.defaultdict(list)
for line in open(f"{tmp}/times.txt"):
    k, v = line.split()
    t[k].append(float(v))
same = [tuple(map(int, l.split())) for l in open(f"{tmp}/same.txt")]
ms = lambda k: statistics.median(t[k]) / n * 1000
rows = [("one image at a time (CLI --workers 1)", "one", "one-files", "Localizer.detect_files(paths)"),
        ("one image at a time (CLI --workers 1)", "one", "one-loop", "detect(read_image(p)) loop"),
        ("two workers (CLI default)", "two", "two-files", "detect_files(paths, workers=2)")]
lines = [
    "# The Python package against the CLI",
    "",
    f"`bench/python_speed.sh {rounds}` on {os.cpu_count()} cores, {datetime.date.today()}: {n} images "
    f"(12 scenes of benchmark v2's eval split, six 1-megapixel wallpaper photos), model {model}, "
    f"defaults. Per-image time: the CLI's reported time (decoding, detection, JSON), Python's "
    f"timed call after import and load; medians of {rounds} alternating rounds.",
    "",
    "| setting | CLI (ms/image) | Python call | Python (ms/image) | Python / CLI |",
    "|---|---:|---|---:|---:|"]
worst = 0
for name, c, p, call in rows:
    ratio = ms(p) / ms(c)
    worst = max(worst, ratio)
    lines.append(f"| {name} | {ms(c):.1f} | `{call}` | {ms(p):.1f} | {ratio:.3f} |")
lines += ["", f"Rounds (s): " + "; ".join(f"{k} {sorted(v)}" for k, v in sorted(t.items())),
          "", f"Python results equal to the CLI's JSON: {sum(s for s, _ in same)} of "
          f"{sum(m for _, m in same)}.",
          "", f"Bar: Python within 10 % of the CLI: worst ratio {worst:.3f} "
          f"({'met' if worst <= 1.10 else 'NOT met'})."]
open("docs/results/python_speed.md.tmp", "w").write("\n".join(lines) + "\n")
os.replace("docs/results/python_speed.md.tmp", "docs/results/python_speed.md")
print("\n".join(lines))
PY
